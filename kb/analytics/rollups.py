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

from sqlalchemy import ColumnElement, Engine, Integer, Select, Subquery, case, cast, delete, func, insert, literal, select, union_all
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

FOLLOW_UP = dt.timedelta(days=1)
"""How long after a search its click, vote or outcome is looked for: what comes later is not counted."""

_EVENTS = EventRecord.__table__.alias("searched")  # type: ignore[attr-defined]
_LATER = EventRecord.__table__.alias("later")  # type: ignore[attr-defined]
_FEEDBACK = FeedbackRecord.__table__  # type: ignore[attr-defined]
_ARTICLE_EVENTS = EventRecord.__table__  # type: ignore[attr-defined]


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many rows meet ``condition``, as an INTEGER like the rollup's columns (PostgreSQL's sum is a BIGINT, and
    summing BIGINTs again gives NUMERIC: slow arithmetic when a report adds a month of them up)."""
    return cast(func.coalesce(func.sum(case((condition, 1), else_=0)), 0), Integer)


def _followed(start: dt.datetime, end: dt.datetime) -> Subquery:
    """Per search id named in [start, end + FOLLOW_UP): whether a click, a "not helpful" vote, and (an agent's or
    bot's interaction) an outcome followed it. Read from the window's rows alone, by time, then joined by id:
    a day's searches cost a day's follow-ups, never a lookup per search."""
    until = end + FOLLOW_UP
    events = (
        select(
            _LATER.c.search_id.label("search_id"),
            (_LATER.c.kind == "click").label("click"),
            ((_LATER.c.kind == "vote") & (_LATER.c.outcome == "not_helpful")).label("not_helpful"),
            literal(False).label("resolved"), literal(False).label("escalated"), literal(False).label("accepted"),
        )
        .where(_LATER.c.kind.in_(["click", "vote"]), _LATER.c.at >= start, _LATER.c.at < until, _LATER.c.search_id.is_not(None))
    )  # fmt: skip
    outcomes = (
        select(
            _FEEDBACK.c.interaction_id.label("search_id"), literal(False).label("click"), literal(False).label("not_helpful"),
            (_FEEDBACK.c.outcome == "resolved").label("resolved"), (_FEEDBACK.c.outcome == "escalated").label("escalated"),
            _FEEDBACK.c.outcome.in_(ACCEPTED).label("accepted"),
        )
        .where(_FEEDBACK.c.created_at >= start, _FEEDBACK.c.created_at < until, _FEEDBACK.c.interaction_id.is_not(None))
    )  # fmt: skip
    both = union_all(events, outcomes).subquery("follow_ups")
    flags = [func.max(case((both.c[name], 1), else_=0)).label(name) for name in _FOLLOW_UPS]
    return select(both.c.search_id, *flags).group_by(both.c.search_id).subquery("followed")


_FOLLOW_UPS = ("click", "not_helpful", "resolved", "escalated", "accepted")
_QUERY_KEY = func.lower(func.coalesce(_EVENTS.c.query, ""))
"""How searches are grouped: by their (scrubbed) query, lowercased."""


def query_totals(start: dt.datetime, end: dt.datetime) -> Select:
    """Searches in [start, end) per surface, locale and query, with what followed them: a rollup's row, from events.

    Columns as :class:`~kb.core.db.QueryDayRecord` has them, without its day. A bot's question it did not
    answer was handed off already: its outcomes are not counted as an answer's.
    """
    locale = func.coalesce(_EVENTS.c.locale, "")
    followed = _followed(start, end)
    answered_by = {
        "resolved": _EVENTS.c.surface == "bot",
        "escalated": _EVENTS.c.surface == "bot",
        "accepted": _EVENTS.c.surface == "agent",
    }
    return (
        select(
            _EVENTS.c.surface.label("surface"),
            locale.label("locale"),
            _QUERY_KEY.label("query"),
            cast(func.count(), Integer).label("searches"),
            _count_if(_EVENTS.c.total == 0).label("zero_results"),
            _count_if(followed.c.click == 1).label("clicked"),
            _count_if(followed.c.not_helpful == 1).label("not_helpful"),
            *(_count_if(by & (_EVENTS.c.total > 0) & (followed.c[name] == 1)).label(name) for name, by in answered_by.items()),
        )
        .select_from(_EVENTS.outerjoin(followed, followed.c.search_id == _EVENTS.c.search_id))
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
