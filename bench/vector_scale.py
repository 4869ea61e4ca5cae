"""Vector index at scale: exact (flat) against HNSW search through kb's own VectorIndex, per chunk count.

Used to choose ``HNSW_MIN_CHUNKS`` and the HNSW parameters in search/vector.py; the figures it prints
are cited there. For each size: build time, bytes per vector (the index as faiss serialises it),
latency p50 / p95 at k=10 and k=100 of one query at a time on one faiss thread, as the server
searches, and HNSW's recall against flat search, which is exact; then the same with an allow-list
admitting a random half of the chunks (``--allow``), applied inside the search as kb does.

The vectors are synthetic, 384-dimensional like all-MiniLM-L6-v2's, and clustered: uniform random
vectors are an unrealistic worst case for HNSW (in 384 dimensions every vector is about as far from a
query as every other, so no neighbourhood guides the graph walk). Here a two-level Gaussian mixture,
128 topics and 4,096 centres around them, each vector its centre plus noise lying mostly in a
16-dimensional subspace of its topic (text embeddings have a low intrinsic dimension), normalised.
Measured on 4,196 vectors, it is somewhat harder than MiniLM over the English sets in ../shared/data:
relative contrast at 10 neighbours 1.38 (MiniLM 1.66; uniform random 1.08), local intrinsic dimension
~14 (MiniLM ~8; uniform random ~109). Queries are drawn from the same mixture. Vectors are generated
in chunks; the largest size is generated once and every smaller size is a prefix of it.

    python -m bench.vector_scale --sizes 10000 30000 100000 --queries 100
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bench.report import write_section
from search.vector import HNSW, HNSWParameters, IndexKind, VectorIndex

console = Console()
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DIMENSION = 384
CHUNK_ROWS = 32_768
KS = (10, 100)


@dataclass(frozen=True)
class Mixture:
    """Two-level Gaussian mixture on the sphere; see the module docstring for why it looks like this."""

    centres: np.ndarray  # (centres, dimension), unnormalised: a topic plus an offset
    centre_topic: np.ndarray  # (centres,)
    subspaces: np.ndarray  # (topics, rank, dimension), orthonormal rows
    spread: float = 0.7  # norm of the noise within a topic's subspace
    jitter: float = 0.25  # norm of the isotropic noise

    @classmethod
    def make(cls, rng: np.random.Generator, *, topics: int = 128, centres: int = 4096, rank: int = 16) -> Mixture:
        shared = _normalised(rng.standard_normal((1, DIMENSION)))  # embeddings share a mean direction
        topic = _normalised(_normalised(rng.standard_normal((topics, DIMENSION))) + 0.3 * shared)
        centre_topic = rng.integers(0, topics, centres)
        offsets = 0.8 * rng.standard_normal((centres, DIMENSION)) / np.sqrt(DIMENSION)
        subspaces = np.linalg.qr(rng.standard_normal((topics, DIMENSION, rank)))[0].transpose(0, 2, 1)
        centre_vectors = (topic[centre_topic] + offsets).astype(np.float32)
        return cls(centre_vectors, centre_topic, subspaces.astype(np.float32))

    def sample(self, rows: int, rng: np.random.Generator) -> np.ndarray:
        labels = rng.integers(0, len(self.centres), rows)
        rank = self.subspaces.shape[1]
        noise = self.jitter / np.sqrt(DIMENSION) * rng.standard_normal((rows, DIMENSION), dtype=np.float32)
        within = self.spread / np.sqrt(rank) * rng.standard_normal((rows, rank), dtype=np.float32)
        topics = self.centre_topic[labels]
        for topic in np.unique(topics):
            rows_of_topic = topics == topic
            noise[rows_of_topic] += within[rows_of_topic] @ self.subspaces[topic]
        return _normalised(self.centres[labels] + noise)


def _normalised(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def generate(mixture: Mixture, rows: int, rng: np.random.Generator, advance: Callable[[int], None]) -> np.ndarray:
    """``rows`` vectors, drawn CHUNK_ROWS at a time so the temporaries stay small whatever the size."""
    vectors = np.empty((rows, DIMENSION), dtype=np.float32)
    for start in range(0, rows, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, rows)
        vectors[start:stop] = mixture.sample(stop - start, rng)
        advance(stop - start)
    return vectors


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50 / p95 in milliseconds."""
    values = np.asarray(samples) * 1000
    return {"p50": float(np.percentile(values, 50)), "p95": float(np.percentile(values, 95))}


@contextmanager
def faiss_threads(count: int) -> Iterator[None]:
    """faiss's OpenMP threads for a while.

    Searches run on one: an allow-list (kb always passes one) keeps faiss on one thread anyway, and
    without one a single flat query is split over every core, which on a busy machine makes the
    threads wait on each other (16 ms instead of 0.3 ms at 10,000 chunks with the other core busy).
    """
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(count)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def search_all(
    index: VectorIndex, queries: np.ndarray, *, k: int, allowed: np.ndarray | None, advance: Callable[[int], None]
) -> tuple[dict[str, float], list[np.ndarray]]:
    """Every query once, one at a time, after a few warm-up searches; latencies and the ids found."""
    for query in queries[:5]:
        index.search(query, k=k, allowed=allowed)
    samples, found = [], []
    for query in queries:
        started = time.perf_counter()
        ids, _ = index.search(query, k=k, allowed=allowed)
        samples.append(time.perf_counter() - started)
        found.append(ids)
        advance(1)
    return percentiles(samples), found


def recall(found: list[np.ndarray], exact: list[np.ndarray]) -> float:
    """Share of the exact top k that was found, over all queries."""
    hits = sum(len(np.intersect1d(ids, truth)) for ids, truth in zip(found, exact, strict=True))
    return hits / max(sum(len(truth) for truth in exact), 1)


def condition_name(fraction: float | None) -> str:
    return "all" if fraction is None else f"{fraction:.0%}"


@dataclass(frozen=True)
class Plan:
    """What is measured at every size."""

    queries: np.ndarray
    allow_fractions: tuple[float | None, ...]  # None: no allow-list
    hnsw: HNSWParameters
    ef_searches: tuple[int, ...]
    build_threads: int
    seed: int

    @property
    def keys(self) -> list[str]:
        return [f"k{k} {condition_name(fraction)}" for fraction in self.allow_fractions for k in KS]


@dataclass
class Measured:
    """One index at one size: its build, its size, and each condition's latency (and recall, if approximate)."""

    kind: IndexKind
    build_seconds: float
    bytes_per_vector: float
    latency_ms: dict[str, dict[str, float]]
    parameters: HNSWParameters | None = None
    recall: dict[str, float] | None = None

    def row(self) -> dict[str, object]:
        parameters = None if self.parameters is None else asdict(self.parameters)
        return {"kind": self.kind, "parameters": parameters, "build_seconds": self.build_seconds,
                "bytes_per_vector": self.bytes_per_vector, "latency_ms": self.latency_ms, "recall": self.recall}


def measure_searches(
    index: VectorIndex, plan: Plan, advance: Callable[[int], None]
) -> tuple[dict[str, dict[str, float]], dict[str, list[np.ndarray]]]:
    """Latency and hits for each allow-list and k; the masks are random and the same for both kinds."""
    uniform = np.random.default_rng(plan.seed).random((index.size,))
    latency, found = {}, {}
    with faiss_threads(1):
        for fraction in plan.allow_fractions:
            allowed = None if fraction is None else uniform < fraction
            for k in KS:
                key = f"k{k} {condition_name(fraction)}"
                latency[key], found[key] = search_all(index, plan.queries, k=k, allowed=allowed, advance=advance)
    return latency, found


def build(vectors: np.ndarray, plan: Plan, kind: IndexKind) -> tuple[VectorIndex, float]:
    with faiss_threads(plan.build_threads):
        started = time.perf_counter()
        index = VectorIndex(vectors, kind=kind, hnsw=plan.hnsw)
        return index, time.perf_counter() - started


def measure_size(vectors: np.ndarray, plan: Plan, progress: Progress) -> list[Measured]:
    """Flat first (its hits are the truth), freed before the HNSW graph is built; then one row per efSearch."""
    size = len(vectors)
    searches = len(plan.keys) * len(plan.queries)
    task = progress.add_task(f"{size:,}: building flat", total=None)
    flat, seconds = build(vectors, plan, "flat")
    progress.update(task, description=f"{size:,}: searching flat", total=searches, completed=0)
    latency, exact = measure_searches(flat, plan, lambda n: progress.advance(task, n))
    rows = [Measured("flat", seconds, flat.serialized_size() / size, latency)]
    del flat
    shape = f"M={plan.hnsw.m}, efConstruction={plan.hnsw.ef_construction}"
    progress.update(task, description=f"{size:,}: building HNSW ({shape})", total=None)
    graph, seconds = build(vectors, plan, "hnsw")
    bytes_per_vector = graph.serialized_size() / size
    for ef_search in plan.ef_searches:
        graph.hnsw = replace(plan.hnsw, ef_search=ef_search)  # efSearch is per search: one graph serves every value
        progress.update(task, description=f"{size:,}: searching HNSW, efSearch={ef_search}", total=searches, completed=0)
        latency, found = measure_searches(graph, plan, lambda n: progress.advance(task, n))
        recalls = {key: recall(found[key], exact[key]) for key in found}
        rows.append(Measured("hnsw", seconds, bytes_per_vector, latency, graph.hnsw, recalls))
    progress.remove_task(task)
    return rows


def flat_crossing(sizes: list[int], rows: list[list[Measured]], budget_ms: float) -> float | None:
    """Chunk count at which flat p50 (k=100, no allow-list) reaches the budget, on the line through the two largest sizes.

    Beyond the CPU cache a flat scan costs the same per chunk at every size, so its latency grows
    linearly; below it (10,000 chunks are 15 MB) it is cheaper per chunk and would flatten the line.
    """
    if len(sizes) < 2:
        return None
    p50 = [next(m for m in measured if m.kind == "flat").latency_ms["k100 all"]["p50"] for measured in rows]
    slope = (p50[-1] - p50[-2]) / (sizes[-1] - sizes[-2])
    return None if slope <= 0 else sizes[-1] + (budget_ms - p50[-1]) / slope


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed)
    mixture = Mixture.make(rng)
    sizes = sorted(args.sizes)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("generating vectors", total=sizes[-1] + args.queries)
        corpus = generate(mixture, sizes[-1], rng, lambda n: progress.advance(task, n))
        # Their own generator: the same queries whatever the sizes asked for.
        queries = generate(mixture, args.queries, np.random.default_rng(args.seed + 1), lambda n: progress.advance(task, n))
        progress.remove_task(task)
        plan = Plan(
            queries=queries,
            allow_fractions=(None, *args.allow),
            hnsw=HNSWParameters(m=args.m, ef_construction=args.ef_construction, ef_search=args.ef_search[0]),
            ef_searches=tuple(args.ef_search),
            build_threads=args.build_threads,
            seed=args.seed,
        )
        rows = [measure_size(corpus[:size], plan, progress) for size in sizes]
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "faiss": f"{faiss.__version__}; OpenMP threads: {args.build_threads} for builds, 1 for searches",
        "dimension": DIMENSION,
        "queries": args.queries,
        "seed": args.seed,
        "keys": plan.keys,
        "budget_ms": args.budget_ms,
        "flat_crossing_chunks": flat_crossing(sizes, rows, args.budget_ms),
        "sizes": [{"chunks": size, "indexes": [m.row() for m in measured]} for size, measured in zip(sizes, rows, strict=True)],
    }


def _rows(result: dict[str, Any]) -> Iterator[list[str]]:
    """One row of cells per index and size, for the terminal table and the Markdown one alike."""
    keys = result["keys"]
    for entry in result["sizes"]:
        for index in entry["indexes"]:
            parameters = index["parameters"]
            name = "flat" if parameters is None else "hnsw {m}/{ef_construction}/{ef_search}".format(**parameters)
            latency = [f"{index['latency_ms'][key]['p50']:.2f} / {index['latency_ms'][key]['p95']:.2f}" for key in keys]
            recalls = ["" if index["recall"] is None else f"{index['recall'][key]:.3f}" for key in keys]
            yield [f"{entry['chunks']:,}", name, f"{index['build_seconds']:.1f}", f"{index['bytes_per_vector']:.0f}", *latency, *recalls]


def show(result: dict[str, Any]) -> None:
    keys = result["keys"]
    title = f"Vector search, one query at a time ({result['queries']} queries; latency ms p50 / p95; R = recall)"
    table = Table(title=title)
    for column in ("chunks", "index", "build s", "B/vector", *keys, *(f"R@{key[1:]}" for key in keys)):
        table.add_column(column, justify="right")
    for cells in _rows(result):
        table.add_row(*cells)
    console.print(table)
    console.print(
        "hnsw M/efConstruction/efSearch (efSearch is raised to k when lower); k10 50%: top 10 with an allow-list "
        "admitting a random 50% of chunks; recall against flat search, which is exact."
    )
    if result["flat_crossing_chunks"] is not None:
        console.print(
            f"Flat p50 at k=100 reaches {result['budget_ms']:g} ms at ≈ {result['flat_crossing_chunks']:,.0f} chunks "
            "(line through the two largest sizes)."
        )
    console.print(f"{result['machine']}; faiss {result['faiss']}; {result['date']}")


def markdown(result: dict[str, Any], *, command: str) -> str:
    """The same table for docs/benchmarks.md, with the command that printed it."""
    keys = result["keys"]
    lines = [
        "## Vector search at scale (flat vs HNSW)",
        "",
        f"- command: `{command}`",
        f"- date: {result['date']}; machine: {result['machine']}; faiss {result['faiss']}",
        f"- synthetic clustered {result['dimension']}-d vectors (see `bench/vector_scale.py`), {result['queries']} queries; "
        "latency in ms, p50 / p95, one query at a time; `k100 10%` = top 100 with an allow-list admitting a random 10% "
        "of chunks; R = recall against flat, which is exact",
        "",
        "| chunks | index | build s | bytes/vector | " + " | ".join(keys) + " | " + " | ".join(f"R@{k[1:]}" for k in keys) + " |",
        "|---" * (4 + 2 * len(keys)) + "|",
    ]
    lines += ["| " + " | ".join(cells) + " |" for cells in _rows(result)]
    if result["flat_crossing_chunks"] is not None:
        lines += ["", f"Flat p50 at k=100 reaches {result['budget_ms']:g} ms at ≈ {result['flat_crossing_chunks']:,.0f} chunks "
                  "(line through the two largest sizes); kb switches to HNSW at `HNSW_MIN_CHUNKS` in `search/vector.py`."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000, 300_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200, help="queries per size, k and allow-list (default 200)")
    parser.add_argument("--allow", type=float, nargs="+", default=[0.5, 0.1, 0.02],
                        help="shares an allow-list admits (default 0.5 0.1 0.02)")
    parser.add_argument("--m", type=int, default=HNSW.m, help=f"HNSW neighbours per node (default {HNSW.m})")
    parser.add_argument("--ef-construction", type=int, default=HNSW.ef_construction, help=f"default {HNSW.ef_construction}")
    parser.add_argument(
        "--ef-search", type=int, nargs="+", default=[HNSW.ef_search], help=f"one or more (default {HNSW.ef_search})"
    )
    parser.add_argument("--build-threads", type=int, default=os.cpu_count() or 1, help="default: every core")
    parser.add_argument("--budget-ms", type=float, default=10.0, help="flat p50 at which HNSW should take over (default 10)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md", help="page to write the table into")
    args = parser.parse_args(argv)
    result = run(args)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"vector-scale-{result['date'].replace(':', '')}.json"
    out.write_text(json.dumps(result, indent=2))
    show(result)
    write_section(args.out, "make bench: vector scale", markdown(result, command="make bench  # = python -m bench.vector_scale"))
    console.print(f"written to {out} and {args.out}")


if __name__ == "__main__":
    main()
