"""`make bench`: search latency, load, index build, re-index and memory, each beside its raw parts.

Two knowledge bases: the bundled sample help center, and one made of every BEIR set beside the project
(``--data``, default ../shared/data; skipped with a note when absent). Every figure is printed next to
the raw cost of the same work measured in the same run, so the ratios hold whatever the machine:

- index build (full, empty embedding cache) vs `encode` of the same chunk texts at the same batch size;
- search over HTTP to a running `kb serve` (sequential client, query cache off) vs the query's encode
  (when the search needs one) plus the two index lookups, in process, on the same snapshot, plus the
  floor: a bare FastAPI app with one async route on the same uvicorn settings (bench/bare_app.py),
  and the same route with a thread hop, which kb's rule that CPU work never holds up the loop costs;
- kb's GET /healthz vs that floor (and, once, with the access log on);
- the same queries repeated with the query cache on;
- wrk with 16 connections for 30 s, query cache off and with default settings, while another client
  times GET /healthz (the event loop must stay free while searches work);
- one article edited and committed → refreshed → found by search (combined knowledge base);
- the server's resident memory, and bytes per chunk between the two knowledge bases;
- query encoding and indexing throughput per embedding backend (torch, onnx, onnx-int8).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import numpy as np
from rich.console import Console

from bench.combined import CombinedCorpus, build_combined_repository
from bench.encoders import compare_backends
from bench.load import run_wrk, wrk_available
from bench.queries import SAMPLE_QUERIES
from bench.report import render, write_section
from bench.server import running_bare_server, running_server
from kb.access.rules import PUBLIC
from kb.core.bootstrap import ensure_content, load_encoder
from kb.core.db import make_engine
from kb.core.indexer import embedded_texts
from kb.core.knowledge_base import KnowledgeBase
from kb.core.requests import SearchRequest
from kb.core.settings import Settings
from search.analyze import has_identifier, query_language
from search.cpu import cpu_description
from search.encoder import Encoder, query_for_model
from search.fields import document_text
from search.fuse import fusion_weights
from search.query import needs_query_vector

console = Console()
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
Queries = list[tuple[str, str]]

PAUSE = 0.01
"""Idle seconds before each timed search, in process and over HTTP alike.

A help center's searches arrive one by one, and a server between two of them is idle. Back to back
in a loop, the same query encode took 2.37 ms (p50) but 3.44 ms after 2 ms of idleness and 4.04 ms
after 10 ms (2-core VM): the runtime's threads go to sleep and caches go cold. A server always sees
the idle case, so raw parts timed back to back would compare a hot loop with a cold server.
"""


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50 / p95 / p99 in milliseconds."""
    values = np.asarray(samples) * 1000
    return {name: float(np.percentile(values, q)) for name, q in (("p50", 50), ("p95", 95), ("p99", 99))}


def measure_build(kb: KnowledgeBase, encoder: Encoder) -> dict[str, float]:
    """Full build from an empty embedding cache, against the raw encode of exactly the texts it embeds.

    The raw encode runs in two halves, one before the build and one after (every other text in
    length order, so both halves pad alike): a machine that speeds up or slows down during the
    minutes a large build takes then moves both sides of the ratio alike. Run back to back, build
    then raw, the ratio swung from 0.87 to 0.94 between two runs of the same code.
    """
    texts = kb.indexer.texts_to_embed(kb.repo.resolve())
    by_length = sorted(texts, key=len)
    encoder.encode(by_length[-16:])  # the longest batch first: the runtime sizes its buffers once, outside both timings
    raw = _timed(encoder.encode, by_length[0::2])
    started = time.perf_counter()
    report = kb.refresh()
    build = time.perf_counter() - started
    raw += _timed(encoder.encode, by_length[1::2])
    built = embedded_texts((entry.chunks, document_text(entry.article, entry.chunks)) for entry in kb.snapshot.entries)
    if built != texts:
        raise RuntimeError("the build embedded other texts than texts_to_embed() listed")
    return {
        "chunks": len(kb.snapshot.chunks),
        "texts": len(texts),
        "articles": report.articles,
        "build_seconds": build,
        "build_chunks_per_s": len(kb.snapshot.chunks) / build,
        "raw_encode_texts_per_s": len(texts) / raw,
        "ratio": raw / build,
        # The same ratio read inside the build: the model's share of it, immune to the machine's drift.
        "model_seconds": report.model_seconds,
        "model_share": report.model_seconds / build,
    }


def _timed(encode: Callable[[list[str]], object], texts: list[str]) -> float:
    started = time.perf_counter()
    encode(texts)
    return time.perf_counter() - started


def measure_parts(kb: KnowledgeBase, encoder: Encoder, queries: Queries, rounds: int, *, pause: float = 0.0) -> list[float]:
    """What a search cannot do without: the query's encode (when it needs one), analysis, both lookups.

    Each query ``pause`` seconds after the last, as :func:`measure_http` sends them (see ``PAUSE``).
    """
    snapshot = kb.snapshot
    samples = []
    for _ in range(rounds):
        for query, locale in queries:
            request = SearchRequest(query=query, locale=locale)
            time.sleep(pause)
            started = time.perf_counter()
            weights = fusion_weights(locale or query_language(query), model=encoder.model_name, identifier=has_identifier(query))
            needs_vector = needs_query_vector(request.mode, weights)
            vector = encoder.encode_queries([query_for_model(request.text)])[0] if needs_vector else None
            terms = kb.analyzer.query(request.text).terms
            allowed = snapshot.visible_articles(PUBLIC) & snapshot.filtered_articles(request.filters)
            chunk_allowed = allowed[snapshot.chunk_article]
            snapshot.lexical_index.search(terms, k=kb.settings.search_depth, allowed=chunk_allowed)
            if vector is not None:
                snapshot.vector_index.search(vector, k=kb.settings.search_depth, allowed=chunk_allowed)
            samples.append(time.perf_counter() - started)
    return samples


def measure_http(base: str, queries: Queries, rounds: int, *, skip_first_round: bool = False, pause: float = 0.0) -> list[float]:
    """Sequential GET /v1/search over one kept-alive connection, as a help-center backend would call it.

    The client is the standard library's: httpx spent 2 ms more than http.client per search response
    here (4.0 vs 1.8 ms for cached queries), which would measure the client, not the server.
    """
    paths = ["/v1/search?" + urlencode({"q": query, "locale": locale}) for query, locale in queries]
    return _get_each(base, paths * rounds, skip=len(paths) if skip_first_round else 0, pause=pause)


def measure_floor(base: str, path: str, count: int, *, pause: float) -> list[float]:
    """GET ``path``, a route that does nothing: kb's /healthz, or the bare app's / (uvicorn, FastAPI and the client alone)."""
    return _get_each(base, [path] * count, skip=0, pause=pause)


def load_with_probe(base: str, queries: Queries, *, seconds: int) -> dict[str, object]:
    """wrk's searches on 16 connections, while one more client asks /healthz every 50 ms.

    The searches' CPU-bound work runs in worker threads, never on the event loop: /healthz, answered on
    the loop, then waits for a core, not for searches ahead of it. Its latency under load shows which.
    """
    probes: list[float] = []
    stop = threading.Event()

    def probe() -> None:
        while not stop.is_set():
            probes.extend(_get_each(base, ["/healthz"], skip=0, pause=0.05))

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    try:
        load = run_wrk(base, queries, connections=16, seconds=seconds)
    finally:
        stop.set()
        prober.join(timeout=30)
    return dict(load) | {"healthz_under_load_ms": percentiles(probes)}


def _get_each(base: str, paths: list[str], *, skip: int, pause: float) -> list[float]:
    """Each path in turn, ``pause`` seconds apart; the first ``skip`` responses are not timed."""
    address = urlsplit(base)
    assert address.hostname is not None, base
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    samples = []
    try:
        for number, path in enumerate(paths):
            time.sleep(pause)
            elapsed = timed_get(connection, path)
            if number >= skip:
                samples.append(elapsed)
    finally:
        connection.close()
    return samples


def timed_get(connection: http.client.HTTPConnection, path: str) -> float:
    """Seconds for one GET of ``path`` on an open connection, its body read; anything but 200 is an error."""
    return timed_request(connection, "GET", path)


def timed_request(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    *,
    body: dict | None = None,
    headers: dict[str, str] | None = None,
    status: int = 200,
) -> float:
    """Seconds for one request (``body`` sent as JSON) on an open connection, its response read; any other status is an error."""
    payload = json.dumps(body).encode() if body is not None else None
    sent = (headers or {}) | ({"Content-Type": "application/json"} if payload is not None else {})
    started = time.perf_counter()
    connection.request(method, path, body=payload, headers=sent)
    response = connection.getresponse()
    response.read()
    elapsed = time.perf_counter() - started
    if response.status != status:
        raise RuntimeError(f"{method} {path}: HTTP {response.status}")
    return elapsed


def measure_reindex(kb: KnowledgeBase, corpus: CombinedCorpus, *, times: int = 3) -> list[dict[str, float]]:
    """Edit one article, commit, refresh, and search until the edit is found: commit to searchable."""
    runs = []
    for number in range(times):
        probe = f"reindexprobe{number}x{int(time.time())}"
        path = corpus.repository / corpus.edit_path
        path.write_text(path.read_text(encoding="utf-8") + f"\nA new paragraph mentions {probe}.\n", encoding="utf-8")
        subprocess.run(["git", "-C", str(corpus.repository), "commit", "-qam", f"Mention {probe}"], check=True)
        started = time.perf_counter()
        report = kb.refresh()
        refreshed = time.perf_counter()
        hits = kb.search(SearchRequest(query=probe, mode="keyword"), view=PUBLIC).results.hits
        found = time.perf_counter()
        if not hits or probe not in hits[0].article.body:
            raise RuntimeError(f"the edit ({probe}) is not searchable after a refresh")
        runs.append({"refresh_s": refreshed - started, "search_s": found - refreshed, "total_s": found - started,
                     "embedded": report.embedded, "parsed": report.parsed})
    return runs


def scenario(name: str, settings: Settings, encoder: Encoder, queries: Queries, *, rounds: int,
             corpus: CombinedCorpus | None = None, load_seconds: int = 30) -> dict[str, object]:
    """Everything measured on one knowledge base, in process and through two real servers.

    The raw parts and the HTTP searches are measured in alternating rounds: on a shared 2-core
    machine, speed drifts by tens of percent between minutes, and a drift must hit both sides of a
    ratio alike.
    """
    kb = KnowledgeBase(settings=settings, encoder=encoder, engine=make_engine(settings.database))
    with console.status(f"{name}: index build vs raw encode…"):
        build = measure_build(kb, encoder)
    reindex = None
    if corpus is not None:
        with console.status(f"{name}: commit → searchable…"):
            reindex = measure_reindex(kb, corpus)
    env = {"KB_DATA_DIR": str(settings.data_dir), "KB_DATABASE_URL": settings.database,
           "KB_REPO_PATH": str(settings.content_path), "KB_EMBEDDING_BACKEND": settings.embedding_backend,
           "KB_MODEL_CACHE_DIR": str(settings.models_path),
           # One client sends every request here: limits would measure waiting, not kb. The limiter's
           # own cost per request is still paid and measured.
           "KB_RATE_LIMIT_ANONYMOUS": "100000000/minute"}
    with console.status(f"{name}: raw parts, search over HTTP (query cache off) and the floors, alternating…"), \
            running_server(env | {"KB_QUERY_CACHE_SIZE": "0"}) as server, running_bare_server() as bare:
        measure_parts(kb, encoder, queries, 1)  # warm-up: first calls pay for lazy initialisation
        measure_http(server.base, queries, 1)
        measure_floor(bare.base, "/", len(queries), pause=0)
        settled = server.memory_mb()["rss"]
        parts: list[float] = []
        hot: list[float] = []
        over_http: list[float] = []
        healthz: list[float] = []
        floor: list[float] = []
        hop_floor: list[float] = []
        for _ in range(rounds):
            parts += measure_parts(kb, encoder, queries, 1, pause=PAUSE)
            hot += measure_parts(kb, encoder, queries, 1)
            over_http += measure_http(server.base, queries, 1, pause=PAUSE)
            healthz += measure_floor(server.base, "/healthz", len(queries), pause=PAUSE)
            floor += measure_floor(bare.base, "/", len(queries), pause=PAUSE)
            hop_floor += measure_floor(bare.base, "/hop", len(queries), pause=PAUSE)
        loads: dict[str, object] = {}
        if wrk_available():
            console.log(f"{name}: wrk, 16 connections, {load_seconds} s, query cache off…")
            loads["cache off"] = load_with_probe(server.base, queries, seconds=load_seconds)
        memory = {"rss": settled, "peak": server.memory_mb()["peak"]}
    kb.close()
    with console.status(f"{name}: search over HTTP, repeated queries, cache on…"), running_server(env) as server:
        warm = measure_http(server.base, queries, rounds, skip_first_round=True, pause=PAUSE)
        if wrk_available():
            console.log(f"{name}: wrk, 16 connections, {load_seconds} s, default settings (query cache on)…")
            loads["default settings"] = load_with_probe(server.base, queries, seconds=load_seconds)
    logged = None
    if corpus is None:  # the access log's cost, once: on the small knowledge base, which starts fastest
        with console.status(f"{name}: GET /healthz with KB_ACCESS_LOG=true…"), \
                running_server(env | {"KB_ACCESS_LOG": "true"}) as server, running_bare_server() as bare:
            measure_floor(server.base, "/healthz", len(queries), pause=0)
            logged, logged_floor = [], []
            for _ in range(rounds):
                logged += measure_floor(server.base, "/healthz", len(queries), pause=PAUSE)
                logged_floor += measure_floor(bare.base, "/", len(queries), pause=PAUSE)
    return {
        "name": name, "queries": len(queries), "rounds": rounds, "build": build,
        "parts_ms": percentiles(parts), "parts_back_to_back_ms": percentiles(hot), "http_ms": percentiles(over_http),
        "healthz_ms": percentiles(healthz), "bare_floor_ms": percentiles(floor),
        "bare_floor_with_hop_ms": percentiles(hop_floor), "http_cached_ms": percentiles(warm),
        "healthz_access_log_ms": percentiles(logged) if logged else None,
        "bare_floor_beside_access_log_ms": percentiles(logged_floor) if logged else None,
        "pause_ms": PAUSE * 1000, "loads": loads, "reindex": reindex, "memory_mb": memory,
    }


def run(rounds: int, data: Path, load_seconds: int) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    # One ONNX export for every process of the run: a server that exported at start-up would hold
    # torch in memory and skew its resident size.
    base_settings = Settings().model_copy(update={"model_cache_dir": workdir / "models"})
    sample = base_settings.model_copy(update={"data_dir": workdir / "sample", "repo_path": None,
                                              "database_url": f"sqlite:///{workdir / 'sample.sqlite3'}"})
    ensure_content(sample)
    encoder = load_encoder(sample)
    encoder.encode(["warm up the model"])
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {cpu_description()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "model": sample.embedding_model,
        "backend": sample.embedding_backend,
        "wrk": wrk_available(),
        "scenarios": [scenario("sample help center", sample, encoder, SAMPLE_QUERIES, rounds=rounds)],
    }
    if (data / "").is_dir() and any(data.glob("*/corpus.jsonl")):
        with console.status("Writing the combined knowledge base's repository…"):
            corpus = build_combined_repository(data, workdir / "combined-content")
        combined = base_settings.model_copy(update={"data_dir": workdir / "combined", "repo_path": corpus.repository,
                                                    "database_url": f"sqlite:///{workdir / 'combined.sqlite3'}"})
        combined.data_dir.mkdir(parents=True)
        result["combined_sets"] = corpus.sets
        result["scenarios"].append(scenario("combined BEIR sets", combined, encoder, corpus.queries, rounds=rounds,
                                            corpus=corpus, load_seconds=load_seconds))
    else:
        console.print(f"[yellow]no BEIR sets under {data}: the combined knowledge base is skipped[/]")
    kb_sample = KnowledgeBase(settings=sample, encoder=encoder, engine=make_engine(sample.database))
    kb_sample.load()
    texts = [chunk.embed_text for chunk in kb_sample.snapshot.chunks]
    kb_sample.close()
    with console.status("Embedding backends side by side…"):
        result["backends"] = compare_backends(sample, texts, rounds=rounds)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="times each query is sent (default 10)")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data", help="folder of BEIR sets")
    parser.add_argument("--load-seconds", type=int, default=30, help="duration of the wrk run (default 30)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md", help="page to write the figures into")
    args = parser.parse_args(argv)
    result = run(args.rounds, args.data, args.load_seconds)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"search-latency-{result['date'].replace(':', '')}.json"
    out.write_text(json.dumps(result, indent=2))
    markdown = render(result, command="make bench  # = python -m bench.search_latency")
    console.print(markdown)
    write_section(args.out, "make bench", markdown)
    console.print(f"written to {out} and {args.out}")


if __name__ == "__main__":
    main()
