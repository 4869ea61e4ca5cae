"""Content gaps at scale: 100,000 failed searches grouped into topics, beside the model's own cost for their queries.

    python -m bench.gaps_scale [--searches 100000] [--distinct 30000]   # part of `make bench`

The sample help center is opened in a temporary folder (as `kb serve` would, SQLite); then as many
searches that found nothing are recorded over 30 days, their queries drawn from ``--distinct`` different
questions (built from a support vocabulary: a lead, a verb, an object and a detail) with a power law, as
search logs have a head of common questions and a long tail. Timed: `failed_queries` (SQL), embedding the
distinct queries (`encode_queries`, int8, each alone), grouping them (faiss neighbours, leaders), the
nearest article of the 50 largest topics; the floor is the embedding alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import platform
import random
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from sqlalchemy import insert
from sqlmodel import Session

from bench.report import write_section
from bench.server import ROOT
from kb.access import STAFF
from kb.analytics import Period, failed_queries
from kb.analytics.gaps import group, nearest_article
from kb.core.bootstrap import open_knowledge_base
from kb.core.db import EventRecord
from kb.core.settings import Settings
from search.cpu import cpu_description

TARGET_SECONDS = 60
DAYS = 30
TOPICS = 50

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


def questions(distinct: int, rng: random.Random) -> list[str]:
    every = [" ".join(part for part in parts if part) for parts in itertools.product(LEADS, VERBS, OBJECTS, DETAILS)]
    rng.shuffle(every)
    return every[:distinct]


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
        read = time.perf_counter()
        ordered = sorted(failed, key=lambda q: (-q.failed, q.query))
        vectors = kb.encoder.encode_queries([q.query for q in ordered]).astype(np.float32)
        embedded = time.perf_counter()
        groups = group(vectors)
        grouped = time.perf_counter()
        snapshot = kb.snapshot
        allowed = snapshot.visible_articles(STAFF)
        largest = sorted(groups, key=lambda members: -sum(ordered[i].failed for i in members))[:TOPICS]
        near = [nearest_article(vectors[members[0]], snapshot, allowed, "en") for members in largest]
        finished = time.perf_counter()
        floor_start = time.perf_counter()
        kb.encoder.encode_queries([q.query for q in ordered])
        floor = time.perf_counter() - floor_start
        kb.close()
    total = finished - started
    markdown = "\n".join([
        "## Content gaps at scale",
        "",
        f"- command: `make bench  # = python -m bench.gaps_scale --searches {args.searches} --distinct {args.distinct}`",
        f"- date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}; machine: {cpu_description()} ({platform.machine()})",
        f"- {args.searches:,} searches that found nothing over {DAYS} days, {len(failed):,} distinct queries (SQLite):",
        f"  grouped into {len(groups):,} topics in **{total:.1f} s** (target ≤ {TARGET_SECONDS} s): reading them {read - started:.1f} s, "
        f"embedding {embedded - read:.1f} s, grouping {grouped - embedded:.1f} s, the nearest article of the {TOPICS} largest "
        f"{finished - grouped:.1f} s ({sum(n is not None for n in near)} near one)",
        f"- floor: the model embedding those queries alone, {floor:.1f} s: the whole is {total / floor:.2f}× it",
    ])  # fmt: skip
    console.print(markdown)
    write_section(args.out, "make bench: content gaps", markdown + "\n")


if __name__ == "__main__":
    main()
