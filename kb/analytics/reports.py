"""Reports for staff over a date range, per locale and surface: what readers look for and do not find,
which articles fail them, how bots and agents fare with what kb gives them.

Each report is one SQL query over the rollup tables for the days rolled up (`rollups.py`) and over the
events themselves for the days after (today), so a month costs a month of rollup rows, never a month of
events. Feedback (votes, bots' and agents' outcomes) is read from the ledger by its date. The API
(`/v1/reports/{name}`), `kb report` and the staff dashboard show the same :class:`Report`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, Engine, Float, Select, Subquery, case, cast, desc, func, literal, select, text, union_all
from sqlmodel import Session

from articles.model import LOCALES
from kb.analytics.rollups import article_totals, day_start, query_totals, rolled_through
from kb.core.db import ArticleDayRecord, FeedbackRecord, QueryDayRecord
from kb.core.requests import InvalidRequest

SURFACES = ("site", "widget", "api", "bot", "agent")
CLICK_SURFACES = ("site", "widget", "api")
"""Where a reader picks among results: click-through means something only there."""
DEFAULT_DAYS = 30
MAX_DAYS = 366
MAX_LIMIT = 500
LOW_CLICK_THROUGH = 0.25
"""A query whose searches with results are clicked less often than this fails its readers."""
MIN_SEARCHES = 3
"""Searches a query needs before its click-through is judged: one search clicked or not says little."""

Kind = Literal["text", "count", "rate", "date"]


@dataclass(frozen=True)
class Period:
    """What a report covers: days ``since`` … ``until`` (UTC, both included), one locale and one surface or all."""

    since: dt.date
    until: dt.date
    locale: str | None = None
    surface: str | None = None

    @classmethod
    def checked(
        cls, *, since: dt.date | None = None, until: dt.date | None = None, locale: str | None = None,
        surface: str | None = None, today: dt.date | None = None,
    ) -> Period:  # fmt: skip
        """A period from a caller's values: the last :data:`DEFAULT_DAYS` days by default; each bad value an InvalidRequest naming it."""
        until = until or today or dt.datetime.now(dt.UTC).date()
        since = since or until - dt.timedelta(days=DEFAULT_DAYS - 1)
        if since > until:
            raise InvalidRequest("since", f"{since} is after until ({until})")
        if (until - since).days + 1 > MAX_DAYS:
            raise InvalidRequest("since", f"a report covers at most {MAX_DAYS} days; {since} … {until} is {(until - since).days + 1}")
        if locale is not None and locale not in LOCALES:
            raise InvalidRequest("locale", f"{locale!r} is not one of {', '.join(LOCALES)}")
        if surface is not None and surface not in SURFACES:
            raise InvalidRequest("surface", f"{surface!r} is not one of {', '.join(SURFACES)}")
        return cls(since, until, locale, surface)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: Kind


@dataclass(frozen=True)
class Report:
    """A report's rows, each a dict of its columns' keys (rates are 0…1, or None where nothing was counted)."""

    name: str
    title: str
    period: Period
    columns: tuple[Column, ...]
    rows: list[dict]

    def as_dict(self) -> dict:
        """As the API and `kb report --json` give it: dates in ISO form, rates to four places (more says nothing)."""
        period = self.period
        return {
            "report": self.name, "title": self.title, "since": period.since.isoformat(), "until": period.until.isoformat(),
            "locale": period.locale, "surface": period.surface, "columns": [vars(column) for column in self.columns],
            "rows": [{key: _plain(value) for key, value in row.items()} for row in self.rows],
        }  # fmt: skip


def _plain(value: object) -> object:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _rate(part: ColumnElement, whole: ColumnElement) -> ColumnElement:
    """part / whole as a fraction; NULL where whole is 0."""
    return cast(part, Float) / func.nullif(whole, 0)


def query_rows(engine: Engine, period: Period) -> Subquery:
    """The period's searches per day, surface, locale and query: rollup rows where rolled up, events after."""
    return _rows(engine, period, QueryDayRecord, query_totals, _QUERY_COLUMNS, "queries")


def _article_rows(engine: Engine, period: Period) -> Subquery:
    """The period's views and clicks per day, surface, locale and article, as :func:`query_rows` reads searches."""
    return _rows(engine, period, ArticleDayRecord, article_totals, _ARTICLE_COLUMNS, "articles")


_QUERY_COLUMNS = ("day", "surface", "locale", "query", "searches", "zero_results", "clicked", "not_helpful", "resolved", "escalated",
                  "accepted")  # fmt: skip
_ARTICLE_COLUMNS = ("day", "surface", "locale", "article_id", "views", "clicks")


def _rows(
    engine: Engine, period: Period, rollup: type[QueryDayRecord] | type[ArticleDayRecord],
    totals: Callable[[dt.datetime, dt.datetime], Select], columns: tuple[str, ...], name: str,
) -> Subquery:  # fmt: skip
    """A rollup table's rows for the days it holds, and ``totals`` summed from the events for each day after."""
    rolled = rolled_through(engine)
    parts: list[Select] = []
    if rolled is not None and period.since <= rolled:
        table = rollup.__table__  # type: ignore[union-attr]  # sqlmodel tables lack the attribute's type
        parts.append(select(*[table.c[c] for c in columns]).where(table.c.day >= period.since, table.c.day <= min(period.until, rolled)))
    for day in _live_days(period, rolled):
        live = totals(day_start(day), day_start(day + dt.timedelta(days=1))).add_columns(literal(day).label("day")).subquery()
        parts.append(select(*[live.c[c] for c in columns]))
    return union_all(*parts).subquery(name) if len(parts) > 1 else parts[0].subquery(name)


def _live_days(period: Period, rolled: dt.date | None) -> list[dt.date]:
    """The period's days not rolled up yet: read from the events themselves."""
    first = period.since if rolled is None else max(period.since, rolled + dt.timedelta(days=1))
    return [first + dt.timedelta(days=n) for n in range((period.until - first).days + 1)]


def filtered(rows: Subquery, period: Period, *, surfaces: tuple[str, ...] | None = None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if period.locale is not None:
        conditions.append(rows.c.locale == period.locale)
    if period.surface is not None:
        conditions.append(rows.c.surface == period.surface)
    if surfaces is not None:
        conditions.append(rows.c.surface.in_(surfaces))
    return conditions


def _sum(rows: Subquery, name: str) -> ColumnElement[int]:
    return func.coalesce(func.sum(rows.c[name]), 0)


def _queries_report(
    engine: Engine, period: Period, limit: int, *, having: Callable[[Subquery], ColumnElement[bool]] | None,
    order: Callable[[Subquery], ColumnElement], surfaces: tuple[str, ...] | None = None,
) -> list[dict]:  # fmt: skip
    """Queries grouped over the period: searches, zero-result searches, clicked searches and click-through."""
    rows = query_rows(engine, period)
    searches, zero, clicked = _sum(rows, "searches"), _sum(rows, "zero_results"), _sum(rows, "clicked")
    statement = (
        select(
            rows.c.query.label("query"), searches.label("searches"), zero.label("zero_results"), clicked.label("clicked"),
            _rate(clicked, searches - zero).label("click_through"), _sum(rows, "not_helpful").label("not_helpful"),
        )
        .where(*filtered(rows, period, surfaces=surfaces))
        .group_by(rows.c.query)
        .order_by(desc(order(rows)), rows.c.query)
        .limit(limit)
    )  # fmt: skip
    if having is not None:
        statement = statement.having(having(rows))
    return _fetch(engine, statement)


REPORT_WORK_MEM = "64MB"
"""PostgreSQL's memory for one report's grouping (a month of a busy help center: some 50,000 queries): with the
default 4 MB the hash table spills to disk and the report takes twice as long."""


@contextmanager
def report_session(engine: Engine) -> Iterator[Session]:
    """A session for one report's query: on PostgreSQL with :data:`REPORT_WORK_MEM` for its transaction only."""
    with Session(engine) as session:
        if engine.dialect.name == "postgresql":
            session.execute(text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))
        yield session


def _fetch(engine: Engine, statement: Select) -> list[dict]:
    with report_session(engine) as session:
        return [dict(row._mapping) for row in session.execute(statement)]


QUERY = Column("query", "Query", "text")
SEARCHES = Column("searches", "Searches", "count")
ZERO = Column("zero_results", "Zero results", "count")
CLICKED = Column("clicked", "Clicked", "count")
CLICK_THROUGH = Column("click_through", "Click-through", "rate")
NOT_HELPFUL_AFTER = Column("not_helpful", "Not helpful after a click", "count")


def top_queries(engine: Engine, period: Period, limit: int) -> Report:
    rows = _queries_report(engine, period, limit, having=None, order=lambda r: _sum(r, "searches"))
    return Report("top-queries", "Top queries", period, (QUERY, SEARCHES, ZERO, CLICK_THROUGH), rows)


def zero_result_queries(engine: Engine, period: Period, limit: int) -> Report:
    rows = _queries_report(engine, period, limit, having=lambda r: _sum(r, "zero_results") > 0, order=lambda r: _sum(r, "zero_results"))
    return Report("zero-results", "Queries that found nothing", period, (QUERY, ZERO, SEARCHES), rows)


def low_click_through_queries(engine: Engine, period: Period, limit: int) -> Report:
    """Queries with results at least :data:`MIN_SEARCHES` times, opened under :data:`LOW_CLICK_THROUGH` of them, on click surfaces."""

    def failing(rows: Subquery) -> ColumnElement[bool]:
        answered = _sum(rows, "searches") - _sum(rows, "zero_results")
        return (answered >= MIN_SEARCHES) & (cast(_sum(rows, "clicked"), Float) < LOW_CLICK_THROUGH * answered)

    def unclicked(rows: Subquery) -> ColumnElement:
        return _sum(rows, "searches") - _sum(rows, "zero_results") - _sum(rows, "clicked")

    rows = _queries_report(engine, period, limit, having=failing, order=unclicked, surfaces=CLICK_SURFACES)
    return Report("low-click-through", "Queries whose results are seldom opened", period, (QUERY, SEARCHES, CLICKED, CLICK_THROUGH), rows)


def not_helpful_after_click(engine: Engine, period: Period, limit: int) -> Report:
    rows = _queries_report(engine, period, limit, having=lambda r: _sum(r, "not_helpful") > 0, order=lambda r: _sum(r, "not_helpful"))
    return Report(
        "not-helpful",
        "Queries whose opened article was then voted not helpful",
        period,
        (QUERY, NOT_HELPFUL_AFTER, SEARCHES, CLICKED),
        rows,
    )


def _on(rows: Subquery, surfaces: tuple[str, ...], name: str) -> ColumnElement[int]:
    """The sum of ``name`` over the rows of ``surfaces`` only."""
    return func.coalesce(func.sum(case((rows.c.surface.in_(surfaces), rows.c[name]), else_=0)), 0)


def daily(engine: Engine, period: Period, limit: int) -> Report:
    """Day by day, every day of the period (none left out for having no searches): what the dashboard charts."""
    rows = query_rows(engine, period)
    with_results = _on(rows, CLICK_SURFACES, "searches") - _on(rows, CLICK_SURFACES, "zero_results")
    searches = select(
        rows.c.day, _sum(rows, "searches").label("searches"), _sum(rows, "zero_results").label("zero_results"),
        _rate(_on(rows, CLICK_SURFACES, "clicked"), with_results).label("click_through"),
    ).where(*filtered(rows, period)).group_by(rows.c.day)  # fmt: skip
    articles = _article_rows(engine, period)
    views = select(articles.c.day, _sum(articles, "views").label("views")).where(*filtered(articles, period)).group_by(articles.c.day)
    by_day = {_as_date(row["day"]): row for row in _fetch(engine, searches)}
    viewed = {_as_date(row["day"]): row["views"] for row in _fetch(engine, views)}
    days = [period.since + dt.timedelta(days=n) for n in range((period.until - period.since).days + 1)]
    out = []
    for day in days:
        found = by_day.get(day, {})
        searched, zero = found.get("searches", 0), found.get("zero_results", 0)
        out.append({
            "day": day, "searches": searched, "zero_results": zero, "zero_rate": zero / searched if searched else None,
            "click_through": found.get("click_through"), "views": viewed.get(day, 0),
        })  # fmt: skip
    columns = (Column("day", "Day", "date"), SEARCHES, ZERO, ZERO_RATE, CLICK_THROUGH, VIEWS)
    return Report("daily", "Day by day", period, columns, out)


def _as_date(value: dt.date | str) -> dt.date:
    """A day as the database returns it (SQLite: the ISO text of a literal date)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


VIEWS = Column("views", "Views", "count")
ZERO_RATE = Column("zero_rate", "Zero-result rate", "rate")


def surfaces(engine: Engine, period: Period, limit: int) -> Report:
    """Each surface's searches, how many found nothing, and (where readers pick among results) how many were opened."""
    rows = query_rows(engine, period)
    searches, zero, clicked = _sum(rows, "searches"), _sum(rows, "zero_results"), _sum(rows, "clicked")
    statement = (
        select(
            rows.c.surface.label("surface"), searches.label("searches"), zero.label("zero_results"),
            _rate(zero, searches).label("zero_rate"), clicked.label("clicked"), _rate(clicked, searches - zero).label("click_through"),
        )
        .where(*filtered(rows, period)).group_by(rows.c.surface).order_by(desc(searches), rows.c.surface)
    )  # fmt: skip
    found = _fetch(engine, statement)
    for row in found:
        if row["surface"] not in CLICK_SURFACES:
            row["click_through"] = None  # bots and agents do not click: their outcomes are in their own reports
    columns = (
        Column("surface", "Surface", "text"),
        SEARCHES,
        ZERO,
        Column("zero_rate", "Zero-result rate", "rate"),
        CLICKED,
        CLICK_THROUGH,
    )
    return Report("surfaces", "Searches by surface", period, columns, found)


def articles(engine: Engine, period: Period, limit: int) -> Report:
    """Per article and language: views and clicks (on the period's surface), and what the ledger says of it (on every surface)."""
    events = _article_rows(engine, period)
    seen = select(
        events.c.article_id, events.c.locale, events.c.views, events.c.clicks, *(literal(0).label(name) for name in _OUTCOME_COLUMNS)
    ).where(*filtered(events, period))
    feedback = FeedbackRecord.__table__  # type: ignore[attr-defined]
    said = select(
        feedback.c.article_id, feedback.c.locale, literal(0).label("views"), literal(0).label("clicks"),
        *(case((feedback.c.outcome == name, 1), else_=0).label(name) for name in _OUTCOME_COLUMNS),
    ).where(
        feedback.c.created_at >= day_start(period.since), feedback.c.created_at < day_start(period.until + dt.timedelta(days=1)),
        *([feedback.c.locale == period.locale] if period.locale else []),
    )  # fmt: skip
    both = union_all(seen, said).subquery("both")
    views = _sum(both, "views")
    helpful, not_helpful = _sum(both, "helpful"), _sum(both, "not_helpful")
    resolved, escalated, rejected = _sum(both, "resolved"), _sum(both, "escalated"), _sum(both, "rejected")
    statement = (
        select(
            both.c.article_id, both.c.locale, views.label("views"), _sum(both, "clicks").label("clicks"),
            helpful.label("helpful"), not_helpful.label("not_helpful"), _rate(helpful, helpful + not_helpful).label("helpfulness"),
            resolved.label("resolved"), escalated.label("escalated"),
            _rate(resolved, resolved + escalated + rejected).label("resolution_rate"),
        )
        .group_by(both.c.article_id, both.c.locale)
        .order_by(desc(views), desc(helpful + not_helpful + resolved + escalated + rejected), both.c.article_id, both.c.locale)
        .limit(limit)
    )  # fmt: skip
    columns = (
        Column("article_id", "Article", "text"), Column("locale", "Locale", "text"), VIEWS, Column("clicks", "Clicks", "count"),
        Column("helpful", "Helpful", "count"), Column("not_helpful", "Not helpful", "count"), Column("helpfulness", "Helpfulness", "rate"),
        Column("resolved", "Resolved (bot)", "count"), Column("escalated", "Escalated (bot)", "count"),
        Column("resolution_rate", "Bot resolution rate", "rate"),
    )  # fmt: skip
    return Report("articles", "Articles", period, columns, _fetch(engine, statement))


_OUTCOME_COLUMNS = ("helpful", "not_helpful", "resolved", "escalated", "rejected")


def bots(engine: Engine, period: Period, limit: int) -> Report:
    """Per locale: the bots' questions, those answered, resolved and escalated, and deflection: answered and not escalated."""
    rows = query_rows(engine, period)
    questions, answered = _sum(rows, "searches"), _sum(rows, "searches") - _sum(rows, "zero_results")
    resolved, escalated = _sum(rows, "resolved"), _sum(rows, "escalated")
    statement = (
        select(
            rows.c.locale, questions.label("questions"), answered.label("answered"), resolved.label("resolved"),
            escalated.label("escalated"), _rate(resolved, answered).label("resolution_rate"),
            _rate(answered - escalated, questions).label("deflection"),
        )
        .where(*filtered(rows, period), rows.c.surface == "bot").group_by(rows.c.locale).order_by(desc(questions), rows.c.locale)
    )  # fmt: skip
    columns = (
        Column("locale", "Locale", "text"), Column("questions", "Questions", "count"), Column("answered", "Answered", "count"),
        Column("resolved", "Resolved", "count"), Column("escalated", "Escalated after an answer", "count"),
        Column("resolution_rate", "Resolution rate", "rate"), Column("deflection", "Deflection", "rate"),
    )  # fmt: skip
    return Report("bots", "Bots", period, columns, _fetch(engine, statement))


def agents(engine: Engine, period: Period, limit: int) -> Report:
    """Per locale: tickets kb suggested articles for, and how many of those lists an agent used or linked."""
    rows = query_rows(engine, period)
    suggested, accepted = _sum(rows, "searches") - _sum(rows, "zero_results"), _sum(rows, "accepted")
    statement = (
        select(
            rows.c.locale, _sum(rows, "searches").label("tickets"), suggested.label("suggested"), accepted.label("accepted"),
            _rate(accepted, suggested).label("acceptance"),
        )
        .where(*filtered(rows, period), rows.c.surface == "agent")
        .group_by(rows.c.locale)
        .order_by(desc(_sum(rows, "searches")), rows.c.locale)
    )  # fmt: skip
    columns = (
        Column("locale", "Locale", "text"), Column("tickets", "Tickets", "count"), Column("suggested", "With suggestions", "count"),
        Column("accepted", "Used or linked", "count"), Column("acceptance", "Acceptance", "rate"),
    )  # fmt: skip
    return Report("agents", "Agents' suggestions", period, columns, _fetch(engine, statement))


REPORTS: dict[str, Callable[[Engine, Period, int], Report]] = {
    "daily": daily,
    "surfaces": surfaces,
    "top-queries": top_queries,
    "zero-results": zero_result_queries,
    "low-click-through": low_click_through_queries,
    "not-helpful": not_helpful_after_click,
    "articles": articles,
    "bots": bots,
    "agents": agents,
}
"""Every report by name, as the API's path, `kb report`'s argument and the dashboard name them."""


def run_report(engine: Engine, name: str, period: Period, *, limit: int = 20) -> Report:
    """The report ``name`` over ``period``, at most ``limit`` rows (where rows are ranked)."""
    if name not in REPORTS:
        raise InvalidRequest("report", f"unknown report {name!r}; one of {', '.join(REPORTS)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequest("limit", f"must be 1 to {MAX_LIMIT}, not {limit}")
    return REPORTS[name](engine, period, limit)
