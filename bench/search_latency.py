"""Search latency over HTTP and index build throughput on the sample help center, beside their raw parts.

Run with `make bench`. Every figure is printed next to the raw cost of the same work measured in the
same run, so the ratios hold whatever the machine:

- index build (full, empty cache) vs `encode` of the same chunk texts at the same batch size;
- search over HTTP to a running `kb serve` (sequential client, query cache off) vs one query `encode`
  plus the two index lookups, in process, on the same snapshot;
- the same queries repeated with the query cache on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import httpx
import numpy as np
from rich.console import Console
from rich.table import Table

from bench.queries import SAMPLE_QUERIES
from kb.access import PUBLIC
from kb.bootstrap import ensure_content
from kb.db import make_engine
from kb.knowledge_base import KnowledgeBase
from kb.requests import SearchRequest
from kb.settings import Settings
from search.encoder import SentenceTransformerEncoder

console = Console()
RESULTS = Path(__file__).resolve().parent / "results"


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50 / p95 / p99 in milliseconds."""
    values = np.asarray(samples) * 1000
    return {name: float(np.percentile(values, q)) for name, q in (("p50", 50), ("p95", 95), ("p99", 99))}


def measure_build(kb: KnowledgeBase, encoder: SentenceTransformerEncoder) -> dict[str, float]:
    """Full build from an empty embedding cache, then the raw encode of exactly the texts it embedded."""
    started = time.perf_counter()
    report = kb.refresh()
    build = time.perf_counter() - started
    texts = [chunk.embed_text for chunk in kb.snapshot.chunks]
    started = time.perf_counter()
    encoder.encode(texts)
    raw = time.perf_counter() - started
    return {
        "chunks": len(texts),
        "articles": report.articles,
        "build_seconds": build,
        "build_chunks_per_s": len(texts) / build,
        "raw_encode_seconds": raw,
        "raw_encode_chunks_per_s": len(texts) / raw,
        "ratio": (len(texts) / build) / (len(texts) / raw),
    }


def measure_parts(kb: KnowledgeBase, encoder: SentenceTransformerEncoder, rounds: int) -> list[float]:
    """One query encode + analysis + the lexical and vector lookups, for each query, in process."""
    snapshot = kb.snapshot
    samples = []
    for _ in range(rounds):
        for query, locale in SAMPLE_QUERIES:
            request = SearchRequest(query=query, locale=locale)
            started = time.perf_counter()
            vector = encoder.encode([request.text])[0]
            terms = kb.analyzer.analyze(request.text)
            allowed = snapshot.visible_articles(PUBLIC.key, PUBLIC.can_see) & snapshot.filtered_articles(request.filters)
            chunk_allowed = allowed[snapshot.chunk_article]
            snapshot.lexical_index.search(terms, k=kb.settings.search_depth, allowed=chunk_allowed)
            snapshot.vector_index.search(vector, k=kb.settings.search_depth, allowed=chunk_allowed)
            samples.append(time.perf_counter() - started)
    return samples


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server(env: dict[str, str]) -> Iterator[str]:
    """`kb serve` in its own process, as deployed; yields its base URL once /readyz answers."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "kb", "serve", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"kb serve exited: {process.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("kb serve did not become ready in 300 s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def measure_http(base: str, rounds: int, *, skip_first_round: bool = False) -> list[float]:
    """Sequential GET /v1/search over one kept-alive connection, as a help-center backend would call it."""
    samples = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for round_number in range(rounds + int(skip_first_round)):
            for query, locale in SAMPLE_QUERIES:
                started = time.perf_counter()
                response = client.get("/v1/search", params={"q": query, "locale": locale})
                elapsed = time.perf_counter() - started
                response.raise_for_status()
                if not (skip_first_round and round_number == 0):
                    samples.append(elapsed)
    return samples


def run(rounds: int) -> dict[str, object]:
    workdir = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    settings = Settings(data_dir=workdir / "data", database_url=f"sqlite:///{workdir / 'kb.sqlite3'}")
    ensure_content(settings)
    encoder = SentenceTransformerEncoder(settings.embedding_model, batch_size=settings.embedding_batch_size)
    encoder.encode(["warm up the model"])
    kb = KnowledgeBase(settings=settings, encoder=encoder, engine=make_engine(settings.database))
    with console.status("Index build vs raw encode…"):
        build = measure_build(kb, encoder)
    with console.status("Raw parts of each query…"):
        measure_parts(kb, encoder, 1)  # warm-up: first calls pay for lazy initialisation
        parts = measure_parts(kb, encoder, rounds)
    kb.close()
    env = {"KB_DATA_DIR": str(settings.data_dir), "KB_DATABASE_URL": settings.database}
    with console.status("Search over HTTP, query cache off…"), running_server(env | {"KB_QUERY_CACHE_SIZE": "0"}) as base:
        measure_http(base, 1)
        cold = measure_http(base, rounds)
    with console.status("Search over HTTP, repeated queries, cache on…"), running_server(env) as base:
        warm = measure_http(base, rounds, skip_first_round=True)
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "model": settings.embedding_model,
        "queries": len(SAMPLE_QUERIES),
        "rounds": rounds,
        "build": build,
        "parts_ms": percentiles(parts),
        "http_ms": percentiles(cold),
        "http_cached_ms": percentiles(warm),
    }


def show(result: dict[str, object]) -> None:
    build, parts, http, cached = result["build"], result["parts_ms"], result["http_ms"], result["http_cached_ms"]
    table = Table(title=f"Search latency, sample help center ({result['queries']} queries × {result['rounds']} rounds, ms)")
    for column in ("", "p50", "p95", "p99", "p50 ÷ parts p50"):
        table.add_column(column, justify="right")
    for name, row in (("raw parts (encode + lookups)", parts), ("HTTP, query cache off", http), ("HTTP, repeated query", cached)):
        table.add_row(name, *(f"{row[p]:.2f}" for p in ("p50", "p95", "p99")), f"{row['p50'] / parts['p50']:.2f}×")
    console.print(table)
    console.print(f"p99 ÷ p50 over HTTP (cache off): {http['p99'] / http['p50']:.2f}")
    console.print(
        f"Index build: {build['chunks']} chunks of {build['articles']} articles in {build['build_seconds']:.1f}s = "
        f"{build['build_chunks_per_s']:.1f} chunks/s; raw encode {build['raw_encode_chunks_per_s']:.1f} chunks/s; "
        f"ratio {build['ratio']:.2f}"
    )
    console.print(f"{result['machine']}; model {result['model']}; {result['date']}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="times each query is sent (default 10)")
    args = parser.parse_args(argv)
    result = run(args.rounds)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"search-latency-{result['date'].replace(':', '')}.json"
    out.write_text(json.dumps(result, indent=2))
    show(result)
    console.print(f"written to {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")


if __name__ == "__main__":
    main()
