"""Content gaps at scale: 100,000 failed searches grouped into topics, beside the model's own cost for their queries.

    python -m bench.gaps_scale [--searches 100000] [--distinct 30000]   # part of `make bench`

The sample help center is opened in a temporary folder (as `kb serve` would, SQLite); then as many
searches that found nothing are recorded over 30 days, their queries drawn from ``--distinct`` different
questions (built from a support vocabulary: a lead, a verb, an object and a detail) with a power law, as
search logs have a head of common questions and a long tail. Timed: `gap_topics` as `GET /v1/gaps` runs it
(reading the failed queries, embedding each distinct one, grouping them with faiss, the nearest article of
each listed topic), once from cold and once again with the vectors kept, and the dashboard's bounded
first reading; the floor is the model embedding the distinct queries alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import platform
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
from rich.console import Console
from sqlalchemy import insert
from sqlmodel import Session

from api.site.dashboard import GAP_QUERIES
from bench.report import write_section
from bench.server import ROOT
from kb.analytics import Period, failed_queries
from kb.core.bootstrap import open_knowledge_base
from kb.core.db import EventRecord
from kb.core.knowledge_base import GAP_VECTORS
from kb.core.settings import Settings
from kb.writing import MAX_TOPICS, gap_topics
from search.cpu import cpu_description
from search.query import QueryVectors

TARGET_SECONDS = 60
DAYS = 30

LEADS = ["how do i", "can i", "why can't i", "where do i", "is it possible to", "help me", "unable to", "how to"]
VERBS = ["cancel", "export", "import", "delete", "change", "reset", "share", "download", "upload", "sync", "merge", "rename",
         "restore", "archive", "invite", "remove", "connect", "disconnect", "pay", "refund"]  # fmt: skip
OBJECTS = ["my subscription", "the invoice", "a teammate", "my password", "the workspace", "a project", "my data", "the api key",
           "two-factor", "the calendar", "a board", "my card", "the mobile app", "a webhook", "the zapier zap", "my email",
           "the billing address", "an attachment", "a comment", "the export file", "a custom field", "the sso settings",
           "a guest", "the trial", "my account", "the seats", "a template", "a report", "the audit log", "a label"]  # fmt: skip
DETAILS = ["", "on android", "on iphone", "from the web", "in bulk", "after the trial", "without admin rights", "for last year",
           "to csv", "to excel", "in japanese", "on a shared workspace", "when offline", "with saml", "twice", "by mistake",
           "every month", "for a guest", "from google", "after it expired"]  # fmt: skip

console = Console()
T = TypeVar("T")


def questions(distinct: int, rng: random.Random) -> list[str]:
    every = [" ".join(part for part in parts if part) for parts in itertools.product(LEADS, VERBS, OBJECTS, DETAILS)]
    rng.shuffle(every)
    return every[:distinct]


def timed(action: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--searches", type=int, default=100_000)
    parser.add_argument("--distinct", type=int, default=30_000)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    rng = random.Random(16)
    texts = questions(args.distinct, rng)
    weights = 1 / np.arange(1, len(texts) + 1) ** 0.8  # Zipf-like: a head of common questions, a long tail
    drawn = rng.choices(texts, weights=weights.tolist(), k=args.searches)
    with tempfile.TemporaryDirectory() as folder:
        with console.status("Opening the sample help center…"):
            kb = open_knowledge_base(Settings(data_dir=Path(folder)))
        now = dt.datetime.now(dt.UTC)
        rows = [{"at": now - dt.timedelta(seconds=rng.uniform(0, DAYS * 86400)), "kind": "search", "surface": "site",
                 "query": query, "locale": "en", "mode": "hybrid", "principal_kind": "anonymous", "results": "", "total": 0}
                for query in drawn]  # fmt: skip
        with Session(kb.engine) as session:
            session.execute(insert(EventRecord), rows)
            session.commit()
        period = Period.checked(since=(now - dt.timedelta(days=DAYS - 1)).date())
        started = time.perf_counter()
        failed = failed_queries(kb.engine, period)
        read = time.perf_counter() - started
        cold, topics = timed(lambda: gap_topics(kb, period, limit=MAX_TOPICS))
        warm, _ = timed(lambda: gap_topics(kb, period, limit=MAX_TOPICS))
        kb.gap_vectors = QueryVectors(kb.encoder, size=GAP_VECTORS)  # a server just started: nothing kept yet
        dashboard, _ = timed(lambda: gap_topics(kb, period, most_failed=GAP_QUERIES))
        floor, _ = timed(lambda: kb.encoder.encode_queries([query.query for query in failed]))
        kb.close()
    markdown = "\n".join([
        "## Content gaps at scale",
        "",
        f"- command: `make bench  # = python -m bench.gaps_scale --searches {args.searches} --distinct {args.distinct}`",
        f"- date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}; machine: {cpu_description()} ({platform.machine()})",
        f"- {args.searches:,} searches that found nothing over {DAYS} days, {len(failed):,} distinct queries (SQLite):",
        f"  grouped into topics (`gap_topics`, the {MAX_TOPICS} largest listed, {sum(t.nearest is not None for t in topics)} near an "
        f"article) in **{cold:.1f} s** (target ≤ {TARGET_SECONDS} s); reading the failed queries alone takes {read:.1f} s",
        f"- floor: the model embedding those queries alone, {floor:.1f} s: the whole is {cold / floor:.2f}× it",
        f"- read again (a proposal after the list), their vectors kept: {warm:.1f} s; the dashboard's first reading after a "
        f"start, its {GAP_QUERIES:,} most failed queries: {dashboard:.1f} s",
    ])  # fmt: skip
    console.print(markdown)
    write_section(args.out, "make bench: content gaps", markdown + "\n")


if __name__ == "__main__":
    main()
