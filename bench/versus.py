"""This checkout against an earlier revision, side by side in one run: search p50 over HTTP and build throughput.

    python -m bench.versus 676045a [--rounds 20] [--builds 3] [--json]

"No slower than before" cannot be read off two `make bench` runs: on this shared 2-core machine the same
code's search p50 moves by ±15% between runs minutes apart. Here the earlier revision is checked out into
a temporary Git worktree, both checkouts serve the bundled sample help center at once (query cache off),
and every query goes to both, in an order that alternates, so a drift hits both alike. Full builds from
an empty embedding cache alternate the same way, each in its own process with the model already loaded.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import numpy as np
from rich.console import Console
from rich.table import Table

from bench.queries import SAMPLE_QUERIES
from bench.search_latency import timed_get
from bench.server import ROOT, running_server

console = Console(stderr=True)

BUILD = """
import json, time
from kb.core.bootstrap import ensure_content, load_encoder
from kb.core.db import make_engine
from kb.core.knowledge_base import KnowledgeBase
from kb.core.settings import Settings

settings = Settings()
ensure_content(settings)
encoder = load_encoder(settings)
encoder.encode(["warm up the model", "and whatever runs many texts"])  # lazily made sessions, outside the timing
kb = KnowledgeBase(settings=settings, encoder=encoder, engine=make_engine(settings.database))
started = time.perf_counter()
kb.refresh()
seconds = time.perf_counter() - started
print(json.dumps({"chunks": len(kb.snapshot.chunks), "seconds": seconds}))
"""
"""A full build in one checkout, timed inside its process: only APIs both revisions share."""


def checkout(revision: str, folder: Path) -> Path:
    """``revision`` as a detached Git worktree in ``folder`` (removed by :func:`remove_checkout`)."""
    done = subprocess.run(["git", "worktree", "add", "--detach", str(folder), revision], cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"bench.versus: cannot check out {revision!r}: {done.stderr.strip()}")
    return folder


def remove_checkout(folder: Path) -> None:
    subprocess.run(["git", "worktree", "remove", "--force", str(folder)], cwd=ROOT, check=False, capture_output=True)


def side_env(workdir: Path, name: str) -> dict[str, str]:
    """Each side its own data, database and model export: export formats differ between revisions."""
    data = workdir / name
    return {"KB_DATA_DIR": str(data), "KB_DATABASE_URL": f"sqlite:///{data}.sqlite3", "KB_MODEL_CACHE_DIR": str(workdir / f"{name}-models"),
            "KB_QUERY_CACHE_SIZE": "0", "KB_RATE_LIMIT_ANONYMOUS": "100000000/minute", "CI": "1"}  # fmt: skip


def timed_searches(bases: list[str], rounds: int) -> list[list[float]]:
    """Seconds per search on each server; each query is sent to every server, the order turning each round."""
    connections = [http.client.HTTPConnection(urlsplit(base).netloc, timeout=30) for base in bases]
    paths = ["/v1/search?" + urlencode({"q": query, "locale": locale}) for query, locale in SAMPLE_QUERIES]
    samples: list[list[float]] = [[] for _ in bases]
    try:
        for round_number in range(rounds + 1):  # round 0 warms both up and is not kept
            order = list(range(len(bases)))
            if round_number % 2:
                order.reverse()
            for path in paths:
                for side in order:
                    elapsed = timed_get(connections[side], path)
                    if round_number:
                        samples[side].append(elapsed)
    finally:
        for connection in connections:
            connection.close()
    return samples


def timed_build(folder: Path, env: dict[str, str], data: Path) -> dict[str, float]:
    """One full build from an empty embedding cache (a fresh data folder) in ``folder``'s code."""
    run_env = {**os.environ, **env, "KB_DATA_DIR": str(data), "KB_DATABASE_URL": f"sqlite:///{data}.sqlite3"}
    done = subprocess.run([sys.executable, "-c", BUILD], cwd=folder, env=run_env, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("revision", help="the earlier revision to compare with (a commit, tag or branch)")
    parser.add_argument("--rounds", type=int, default=20, help="rounds over the sample queries (default 20)")
    parser.add_argument("--builds", type=int, default=3, help="full builds per side (default 3)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kb-versus-") as temporary:
        workdir = Path(temporary)
        sides = {args.revision: checkout(args.revision, workdir / "before"), "this checkout": ROOT}
        try:
            envs = {name: side_env(workdir, f"side{number}") for number, name in enumerate(sides)}
            with (
                console.status("both checkouts: starting `kb serve` (exporting the model on first start)…"),
                running_server(envs[args.revision], checkout=sides[args.revision]) as before,
                running_server(envs["this checkout"], checkout=ROOT) as after,
            ):
                console.log(f"search over HTTP, {args.rounds} rounds, alternating…")
                searches = timed_searches([before.base, after.base], args.rounds)
            builds: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
            with console.status(f"full builds, {args.builds} per side, alternating…"):
                for number in range(args.builds):
                    for name in sides if number % 2 == 0 else reversed(list(sides)):
                        data = workdir / f"build-{number}-{envs[name]['KB_DATA_DIR'].rsplit('/', 1)[-1]}"
                        builds[name].append(timed_build(sides[name], envs[name], data))
        finally:
            remove_checkout(sides[args.revision])
    figures = {}
    for (name, samples), built in zip(zip(sides, searches, strict=True), builds.values(), strict=True):
        milliseconds = np.asarray(samples) * 1000
        figures[name] = {
            "search_p50_ms": float(np.percentile(milliseconds, 50)),
            "search_p95_ms": float(np.percentile(milliseconds, 95)),
            "build_chunks_per_s": float(np.median([b["chunks"] / b["seconds"] for b in built])),
            "chunks": int(built[0]["chunks"]),
        }
    before_figures, after_figures = figures[args.revision], figures["this checkout"]
    figures["ratio"] = {key: after_figures[key] / before_figures[key] for key in ("search_p50_ms", "search_p95_ms", "build_chunks_per_s")}
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    table = Table("", "search p50 ms", "search p95 ms", "build chunks/s (median)", "chunks", title="sample help center, side by side")
    for name in sides:
        row = figures[name]
        cells = (f"{row['search_p50_ms']:.2f}", f"{row['search_p95_ms']:.2f}", f"{row['build_chunks_per_s']:.1f}")
        table.add_row(name, *cells, str(row["chunks"]))
    ratio = figures["ratio"]
    table.add_row("after / before", *(f"{ratio[key]:.3f}" for key in ("search_p50_ms", "search_p95_ms", "build_chunks_per_s")), "")
    Console().print(table)


if __name__ == "__main__":
    main()
