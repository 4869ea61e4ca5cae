"""Rollups: each day's events summed per query and per article, so a report over a month reads a day's
worth of rows per query instead of every search (millions, on a busy help center).

A day is rolled up once it has ended (UTC), and rolled again for :data:`REROLL_DAYS` days after, so a
click, a vote or a bot's outcome reported a little late still counts; what has not been rolled up yet
(today) is summed from the events by the same query when a report asks (:func:`query_totals`).
Rolling a day replaces its rows in one transaction under a database lock, so two servers never count
a day twice. The purge removes rolled-up days with the events they came from (`retention.py`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Engine, Select, case, delete, exists, func, insert, literal, select
from sqlmodel import Session

from kb.core.db import ArticleDayRecord, EventRecord, FeedbackRecord, QueryDayRecord, StateRecord
from kb.core.locks import database_lock

ROLLED_THROUGH = "analytics_rolled_through"
"""The state key holding the last day rolled up (ISO date): every day up to it is in the rollup tables."""
REROLL_DAYS = 2
"""Complete days rolled up again at every turn: clicks, votes and outcomes reported up to two days late still count."""
LOCK = "analytics-rollup"

ACCEPTED = ("used", "linked")
"""An agent's outcomes that mean a suggestion list helped."""

_EVENTS = EventRecord.__table__.alias("searched")  # type: ignore[attr-defined]
_LATER = EventRecord.__table__.alias("later")  # type: ignore[attr-defined]
_FEEDBACK = FeedbackRecord.__table__  # type: ignore[attr-defined]
_ARTICLE_EVENTS = EventRecord.__table__  # type: ignore[attr-defined]


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _followed_by(kind: str, *, outcome: str | None = None) -> ColumnElement[bool]:
    """A search that a later event of ``kind`` names (a click on a result, a vote on a clicked article)."""
    named = select(literal(1)).where(_LATER.c.search_id == _EVENTS.c.search_id, _LATER.c.kind == kind)
    if outcome is not None:
        named = named.where(_LATER.c.outcome == outcome)
    return exists(named)


def _reported(surface: str, outcomes: Sequence[str]) -> ColumnElement[bool]:
    """An agent's or bot's search that showed something and whose interaction the ledger holds one of ``outcomes`` for.

    A bot's question it did not answer was handed off already: its escalation is no failed answer.
    """
    said = select(literal(1)).where(_FEEDBACK.c.interaction_id == _EVENTS.c.search_id, _FEEDBACK.c.outcome.in_(outcomes))
    return (_EVENTS.c.surface == surface) & (_EVENTS.c.total > 0) & exists(said)


_QUERY_KEY = func.lower(func.coalesce(_EVENTS.c.query, ""))
"""How searches are grouped: by their (scrubbed) query, lowercased."""


def query_totals(start: dt.datetime, end: dt.datetime) -> Select:
    """Searches in [start, end) per surface, locale and query, with what followed them: a rollup's row, from events.

    Columns as :class:`~kb.core.db.QueryDayRecord` has them, without its day.
    """
    locale = func.coalesce(_EVENTS.c.locale, "")
    return (
        select(
            _EVENTS.c.surface.label("surface"),
            locale.label("locale"),
            _QUERY_KEY.label("query"),
            func.count().label("searches"),
            _count_if(_EVENTS.c.total == 0).label("zero_results"),
            _count_if(_followed_by("click")).label("clicked"),
            _count_if(_followed_by("vote", outcome="not_helpful")).label("not_helpful"),
            _count_if(_reported("bot", ["resolved"])).label("resolved"),
            _count_if(_reported("bot", ["escalated"])).label("escalated"),
            _count_if(_reported("agent", ACCEPTED)).label("accepted"),
        )
        .where(_EVENTS.c.kind == "search", _EVENTS.c.at >= start, _EVENTS.c.at < end)
        .group_by(_EVENTS.c.surface, locale, _QUERY_KEY)
    )


def article_totals(start: dt.datetime, end: dt.datetime) -> Select:
    """Views and clicks in [start, end) per surface, locale and article: an article rollup's row, from events."""
    events = _ARTICLE_EVENTS
    locale = func.coalesce(events.c.locale, "")
    return (
        select(
            events.c.surface.label("surface"),
            locale.label("locale"),
            events.c.article_id.label("article_id"),
            _count_if(events.c.kind == "view").label("views"),
            _count_if(events.c.kind == "click").label("clicks"),
        )
        .where(events.c.kind.in_(["view", "click"]), events.c.at >= start, events.c.at < end, events.c.article_id.is_not(None))
        .group_by(events.c.surface, locale, events.c.article_id)
    )


def day_start(day: dt.date) -> dt.datetime:
    """The moment a day (UTC) begins."""
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def rolled_through(engine: Engine) -> dt.date | None:
    """The last day the rollup tables hold; None before the first rollup."""
    with Session(engine) as session:
        found = session.get(StateRecord, ROLLED_THROUGH)
    return dt.date.fromisoformat(found.value) if found is not None else None


def roll_up(engine: Engine, *, now: dt.datetime | None = None) -> list[dt.date]:
    """Roll up every ended day not rolled up yet, and the last :data:`REROLL_DAYS` again; the days rolled.

    Each day in a transaction of its own, so events keep being written between them (SQLite has one writer).
    """
    last = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).date() - dt.timedelta(days=1)
    with Session(engine) as session:
        first = _first_day(session, session.get(StateRecord, ROLLED_THROUGH), last)
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    for day in days:
        with database_lock(engine, LOCK) as session:
            _roll_day(session, day)
            session.merge(StateRecord(key=ROLLED_THROUGH, value=day.isoformat()))
    return days


def _first_day(session: Session, done: StateRecord | None, last: dt.date) -> dt.date:
    """Where rolling starts: a few days before the last rolled, or the oldest event's day the first time."""
    if done is not None:
        return min(dt.date.fromisoformat(done.value) + dt.timedelta(days=1), last) - dt.timedelta(days=REROLL_DAYS - 1)
    oldest = session.execute(select(func.min(EventRecord.at))).scalar()
    return oldest.date() if oldest is not None else last


def _roll_day(session: Session, day: dt.date) -> None:
    start, end = day_start(day), day_start(day + dt.timedelta(days=1))
    session.execute(delete(QueryDayRecord).where(QueryDayRecord.day == day))  # type: ignore[arg-type]
    session.execute(delete(ArticleDayRecord).where(ArticleDayRecord.day == day))  # type: ignore[arg-type]
    queries = query_totals(start, end).add_columns(literal(day).label("day"))
    articles = article_totals(start, end).add_columns(literal(day).label("day"))
    session.execute(insert(QueryDayRecord).from_select([c.name for c in queries.selected_columns], queries))
    session.execute(insert(ArticleDayRecord).from_select([c.name for c in articles.selected_columns], articles))
