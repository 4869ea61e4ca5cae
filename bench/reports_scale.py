"""Reports at scale: every report over 30 days of 10 million synthetic events (90 days) on PostgreSQL.

    python -m bench.reports_scale [--events 10000000] [--database postgresql://postgres@127.0.0.1:5432/test]

Part of `make bench`; writes its section of docs/benchmarks.md. The events go into a schema of their own
(dropped afterwards), made by PostgreSQL itself (``generate_series``): searches on five surfaces in two
locales with a long tail of queries (a power law over 50,000), 8 % of them finding nothing, clicks and
votes naming their searches, views, and a bot's or agent's outcome on some of theirs in the ledger.
Then: the rollup of 90 days (what the server does once, then an hour's worth at a time), each report over
the last 30 days from the rollup (median of three runs), the floor beside them (reading those days'
rollup rows, nothing grouped), one report read from the events alone (no rollup) to show what the
rollup saves, and the purge of the oldest 30 days.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from urllib.parse import quote

import sqlalchemy
from rich.console import Console

from bench.report import write_section
from bench.server import ROOT
from kb.analytics import REPORTS, Period, purge_events, roll_up, run_report
from kb.analytics.rollups import ROLLED_THROUGH
from kb.core.db import make_engine, normalise_url
from search.cpu import cpu_description

TARGET_SECONDS = 1.0
DAYS = 90
REPORT_DAYS = 30
QUERIES = 50_000

console = Console()

EVENTS_SQL = """
INSERT INTO events (at, kind, surface, search_id, query, locale, mode, principal_kind, results, total, latency_ms, article_id, position,
                    outcome)
SELECT
  now() - interval '{days} days' * ((((g::bigint / 20) * 7919) % 1000003) / 1000003.0) + (g % 20) * interval '2 seconds',
  kind, surface,
  CASE kind WHEN 'view' THEN NULL WHEN 'search' THEN md5(g::text) ELSE md5((g - g % 20)::text) END,
  CASE WHEN kind = 'search' THEN 'query ' || floor(power(random(), 3) * {queries})::int END,
  CASE WHEN g % 10 < 7 THEN 'en' ELSE 'ja' END,
  CASE WHEN kind = 'search' THEN 'hybrid' END,
  CASE WHEN surface IN ('bot', 'agent') THEN surface ELSE 'anonymous' END,
  CASE WHEN kind = 'search' THEN 'a1,a2,a3' END,
  CASE WHEN kind = 'search' THEN CASE WHEN random() < 0.08 THEN 0 ELSE 3 END END,
  CASE WHEN kind = 'search' THEN 3.0 END,
  CASE WHEN kind <> 'search' THEN 'article-' || (g % 400) END,
  CASE WHEN kind = 'click' THEN 1 + g % 3 END,
  CASE WHEN kind = 'vote' THEN CASE WHEN random() < 0.3 THEN 'not_helpful' ELSE 'helpful' END END
FROM (
  SELECT g,
    CASE WHEN g % 20 <= 10 THEN 'search' WHEN g % 20 <= 15 THEN 'view' WHEN g % 20 <= 18 THEN 'click' ELSE 'vote' END AS kind,
    (ARRAY['site', 'site', 'site', 'site', 'site', 'widget', 'widget', 'api', 'api', 'bot', 'bot', 'agent'])[1 + (g / 20) % 12] AS surface
  FROM generate_series(1, {events}) AS g
) AS generated
"""
"""Twenty rows a block, two seconds apart at a moment of the 90 days: eleven searches, five views, three clicks and a vote;
the clicks and the vote name the block's first search."""

FEEDBACK_SQL = """
INSERT INTO feedback (interaction_id, article_id, locale, anchor, revision, commit, principal_kind, outcome, created_at)
SELECT search_id, 'article-1', locale, '', repeat('0', 40), repeat('0', 40), surface,
  CASE WHEN surface = 'agent' THEN 'used' WHEN random() < 0.7 THEN 'resolved' ELSE 'escalated' END,
  at + interval '1 minute'
FROM events WHERE kind = 'search' AND surface IN ('bot', 'agent') AND id % 3 = 0
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--database", default=os.environ.get("KB_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    schema = f"kb_bench_reports_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(normalise_url(args.database))
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in args.database else "?"
    engine = make_engine(f"{args.database}{separator}options={quote(f'-csearch_path={schema}')}")
    try:
        markdown = measure(engine, args.events)
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()
    console.print(markdown)
    write_section(args.out, "make bench: reports at scale", markdown + "\n")


def measure(engine: sqlalchemy.Engine, events: int) -> str:
    with console.status(f"Writing {events:,} events…"):
        fill = timed(lambda: _fill(engine, events))
    with console.status("Rolling up 90 days…"):
        rollup = timed(lambda: roll_up(engine))
    with console.status("Rolling up again, as the server does every hour…"):
        hourly = timed(lambda: roll_up(engine))
    period = Period.checked(since=dt.datetime.now(dt.UTC).date() - dt.timedelta(days=REPORT_DAYS - 1))
    seconds = {name: median_of_three(partial(run_report, engine, name, period, limit=20)) for name in REPORTS}
    floor = median_of_three(lambda: _scan_rollup_rows(engine, period))
    rows, events_in_period = _sizes(engine, period)
    with engine.begin() as connection:  # the same report as if no day had been rolled up
        connection.exec_driver_sql(f"DELETE FROM kb_state WHERE key = '{ROLLED_THROUGH}'")
    raw = timed(lambda: run_report(engine, "top-queries", period, limit=20))
    roll_up(engine)
    purge = timed(lambda: purge_events(engine, days=DAYS - 30))
    left = _count(engine, "SELECT count(*) FROM events")
    table = "\n".join(f"| `{name}` | {seconds[name] * 1000:.0f} ms |" for name in REPORTS)
    worst = max(seconds.values())
    return "\n".join([
        "## Reports at scale (PostgreSQL)",
        "",
        f"- command: `make bench  # = python -m bench.reports_scale --events {events}`",
        f"- date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}; machine: {cpu_description()} ({platform.machine()})",
        f"- {events:,} synthetic events over {DAYS} days written in {fill:.0f} s; rolled up in {rollup:.0f} s "
        f"(the server's hourly turn after that: {hourly:.1f} s); {events_in_period:,} events in the {REPORT_DAYS} days reported, "
        f"{rows:,} rollup rows for them",
        f"- each report over {REPORT_DAYS} days, median of three (target ≤ {TARGET_SECONDS:.0f} s): slowest **{worst * 1000:.0f} ms**",
        "",
        "| report | time |",
        "|---|---|",
        table,
        "",
        f"- floor: scanning those days' rollup rows, nothing grouped: {floor * 1000:.0f} ms (slowest report ÷ floor: {worst / floor:.1f}×)",
        f"- without the rollup (`top-queries` from the events themselves): {raw * 1000:.0f} ms, "
        f"{raw / seconds['top-queries']:.0f}× the rolled-up {seconds['top-queries'] * 1000:.0f} ms",
        f"- purge to {DAYS - 30} days (events and their rollup rows): {purge:.0f} s, {left:,} events left",
    ])  # fmt: skip


def _fill(engine: sqlalchemy.Engine, events: int) -> None:
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(EVENTS_SQL.format(days=DAYS, queries=QUERIES, events=events)))
        connection.execute(sqlalchemy.text(FEEDBACK_SQL))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE events")
        connection.exec_driver_sql("VACUUM ANALYZE feedback")


def _scan_rollup_rows(engine: sqlalchemy.Engine, period: Period) -> None:
    """The floor: PostgreSQL reading every rollup row of the period and summing one column, nothing grouped."""
    with engine.connect() as connection:
        sql = "SELECT sum(searches) FROM query_days WHERE day BETWEEN :since AND :until"
        connection.execute(sqlalchemy.text(sql), {"since": period.since, "until": period.until}).scalar()


def _sizes(engine: sqlalchemy.Engine, period: Period) -> tuple[int, int]:
    start = dt.datetime.combine(period.since, dt.time(), tzinfo=dt.UTC)
    rows = _count(engine, f"SELECT count(*) FROM query_days WHERE day >= '{period.since.isoformat()}'")
    return rows, _count(engine, f"SELECT count(*) FROM events WHERE at >= '{start.isoformat()}'")


def _count(engine: sqlalchemy.Engine, sql: str) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql(sql).scalar() or 0)


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def median_of_three(work: Callable[[], object]) -> float:
    return statistics.median(timed(work) for _ in range(3))


if __name__ == "__main__":
    main()
