"""What recording events costs a search: GET /v1/search p50 with analytics on and off, in the same run.

    python -m bench.events_overhead [--rounds 40]   # part of `make bench`; writes its section of docs/benchmarks.md

Two `kb serve` over the bundled sample, one with ``KB_ANALYTICS=true`` (every search queued for the
background writer, its query scrubbed there), one with ``false``; each in its own data folder, the query
cache on, as served. Each round asks every sample query of both servers one at a time after 10 ms idle,
alternating which goes first, so a drift of the machine's speed falls on both sides of the ratio.
"""

from __future__ import annotations

import argparse
import http.client
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import numpy as np
from rich.console import Console

from bench.queries import SAMPLE_QUERIES
from bench.report import write_section
from bench.search_latency import timed_get
from bench.server import ROOT, running_server
from search.cpu import cpu_description

IDLE_SECONDS = 0.01
TARGET = 1.05

console = Console()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    env = {"KB_RATE_LIMIT_ANONYMOUS": "1000000/minute"}
    with (
        tempfile.TemporaryDirectory() as on_folder,
        tempfile.TemporaryDirectory() as off_folder,
        running_server(env | {"KB_DATA_DIR": on_folder, "KB_ANALYTICS": "true"}) as recording,
        running_server(env | {"KB_DATA_DIR": off_folder, "KB_ANALYTICS": "false"}) as quiet,
    ):
        connections = {
            "on": http.client.HTTPConnection(urlsplit(recording.base).netloc, timeout=60),
            "off": http.client.HTTPConnection(urlsplit(quiet.base).netloc, timeout=60),
        }
        paths = [f"/v1/search?{urlencode({'q': query, 'locale': locale})}" for query, locale in SAMPLE_QUERIES]
        for path in paths:  # warm: each query's vector in both servers' caches
            for connection in connections.values():
                timed_get(connection, path)
        times: dict[str, list[float]] = {"on": [], "off": []}
        for round_number in range(args.rounds):
            order = ("on", "off") if round_number % 2 == 0 else ("off", "on")
            for path in paths:
                for side in order:
                    time.sleep(IDLE_SECONDS)
                    times[side].append(timed_get(connections[side], path))
    p50 = {side: float(np.percentile(np.array(values) * 1000, 50)) for side, values in times.items()}
    ratio = p50["on"] / p50["off"]
    markdown = "\n".join([
        "## Recording events (analytics)",
        "",
        f"- command: `make bench  # = python -m bench.events_overhead --rounds {args.rounds}`",
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}; machine: {cpu_description()} ({platform.machine()})",
        f"- GET /v1/search over HTTP on the sample, {len(times['on'])} searches a side, query cache on:",
        f"  p50 with events recorded **{p50['on']:.2f} ms**, without {p50['off']:.2f} ms: **{ratio:.3f}×** (target ≤ {TARGET})",
    ])  # fmt: skip
    console.print(markdown)
    write_section(args.out, "make bench: events", markdown + "\n")


if __name__ == "__main__":
    main()
