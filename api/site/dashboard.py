"""The staff dashboard (`/hc/{locale}/staff/dashboard`): the reports of `kb/analytics/reports.py` at a glance.

Server-rendered like every page of the site: headline figures, the period's searches day by day as an
inline SVG chart (no script, no charting library; the same figures in a table beside it for screen
readers), and the reports' tables. Only staff signed in to the site reach it; anyone else gets the
site's 404, as for a page that does not exist.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Engine

from api.schemas import article_url
from articles.model import LOCALES
from articles.templates import TEMPLATES_DIR, parse_templates, template_for
from kb.access import STAFF
from kb.analytics import CLICK_SURFACES, MAX_LIMIT, Period, Report, Topic, run_report
from kb.core import KnowledgeBase
from kb.writing import BehindOriginal, UnknownOrigin, gap_topics, reviews_due, translations_behind
from kb.writing.contradictions import Contradiction, contradictions

RANKED_ROWS = 10
"""Rows of each ranked table: the dashboard is for a glance; `kb report` and the API give more."""
GAP_QUERIES = 2_000
"""The most failed queries the dashboard groups into topics: a first load embeds at most these (a few seconds), later
loads find their vectors kept (`KnowledgeBase.gap_vectors`). `kb gaps list` and `GET /v1/gaps` group them all."""
CHART_WIDTH = 720
CHART_HEIGHT = 180
CHART_LEFT = 40
"""Room on the chart's left for the scale's labels."""
CHART_BOTTOM = 24
"""Room under the bars for the first and last day."""


@dataclass(frozen=True)
class Headline:
    """One figure at the top of the dashboard: its message key and the value as shown."""

    key: str
    value: str


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    searches_y: float
    searches_height: float
    zero_y: float
    zero_height: float
    label: str
    """The day and its figures, as the bar's tooltip (and what a screen reader finds in the table)."""


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    base: float
    top_value: int
    bars: list[Bar]
    first_day: str
    last_day: str


@dataclass(frozen=True)
class Dashboard:
    period: Period
    headlines: list[Headline]
    chart: Chart
    reports: dict[str, Report]
    """Each report's first :data:`RANKED_ROWS` rows."""
    article_traffic: list[dict]
    """The ``articles`` report's rows, up to :data:`~kb.analytics.MAX_LIMIT`: what ranks the articles due for review."""


TABLES = ("top-queries", "zero-results", "low-click-through", "not-helpful", "articles", "bots", "agents")
"""The reports the dashboard shows as tables, in its order."""


def dashboard(engine: Engine, period: Period) -> Dashboard:
    """Every report the dashboard shows, over one period (the articles' once, long enough to rank those due for review)."""
    reports = {name: run_report(engine, name, period, limit=RANKED_ROWS) for name in ("daily", "surfaces", *TABLES) if name != "articles"}
    articles = run_report(engine, "articles", period, limit=MAX_LIMIT)
    reports["articles"] = dataclasses.replace(articles, rows=articles.rows[:RANKED_ROWS])
    return Dashboard(period, headlines(reports), daily_chart(reports["daily"]), reports, articles.rows)


def headlines(reports: dict[str, Report]) -> list[Headline]:
    """The period's figures across locales: searches, how many found nothing, how often results were opened, views,
    the bots' deflection and the agents' acceptance of suggestions."""
    surfaces, daily = reports["surfaces"].rows, reports["daily"].rows
    picked = [row for row in surfaces if row["surface"] in CLICK_SURFACES]
    bots, agents = reports["bots"].rows, reports["agents"].rows
    return [
        Headline("dash_searches", f"{sum(row['searches'] for row in surfaces):,}"),
        Headline("dash_zero_rate", _percent(_total(surfaces, "zero_results"), _total(surfaces, "searches"))),
        Headline("dash_click_through", _percent(_total(picked, "clicked"), _total(picked, "searches") - _total(picked, "zero_results"))),
        Headline("dash_views", f"{_total(daily, 'views'):,}"),
        Headline("dash_deflection", _percent(_total(bots, "answered") - _total(bots, "escalated"), _total(bots, "questions"))),
        Headline("dash_acceptance", _percent(_total(agents, "accepted"), _total(agents, "suggested"))),
    ]


def _total(rows: list[dict], key: str) -> int:
    return sum(row[key] for row in rows)


def _percent(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "—"


def daily_chart(daily: Report) -> Chart:
    """Bars of searches per day, each with its zero-result searches drawn over its foot."""
    rows = daily.rows
    top = max([row["searches"] for row in rows] + [1])
    scale = _nice_top(top)
    base = CHART_HEIGHT - CHART_BOTTOM
    room = base - 8
    step = (CHART_WIDTH - CHART_LEFT) / max(len(rows), 1)
    bars = []
    for number, row in enumerate(rows):
        searched = row["searches"] / scale * room
        zero = row["zero_results"] / scale * room
        day = row["day"] if isinstance(row["day"], dt.date) else dt.date.fromisoformat(row["day"])
        label = f"{day.isoformat()}: {row['searches']} / {row['zero_results']}"
        x = CHART_LEFT + number * step + step * 0.15
        bars.append(
            Bar(
                round(x, 1),
                round(step * 0.7, 1),
                round(base - searched, 1),
                round(searched, 1),
                round(base - zero, 1),
                round(zero, 1),
                label,
            )
        )
    first = rows[0]["day"] if rows else daily.period.since
    last = rows[-1]["day"] if rows else daily.period.until
    return Chart(CHART_WIDTH, CHART_HEIGHT, CHART_LEFT, base, scale, bars, str(first), str(last))


def _nice_top(value: int) -> int:
    """The scale's top: the smallest of 1, 2 or 5 times a power of ten at or above ``value``."""
    power = 1
    while True:
        for factor in (1, 2, 5):
            if factor * power >= value:
                return factor * power
        power *= 10


def shown_rows(kb: KnowledgeBase, report: Report) -> list[dict]:
    """A report's rows as the dashboard shows them: an article by its title, linked to its page (staff see every article)."""
    if report.name != "articles":
        return report.rows
    rows = []
    for row in report.rows:
        found = kb.article(row["article_id"], locale=row["locale"], view=STAFF) if row["locale"] in LOCALES else None
        title, url = (found.title, article_url(found.id, found.locale)) if found else (row["article_id"], None)
        rows.append(row | {"title": title, "url": url})
    return rows


def dashboard_gaps(kb: KnowledgeBase, period: Period) -> list[Topic]:
    """The period's content gaps among its :data:`GAP_QUERIES` most failed queries, the most failed topic first."""
    return gap_topics(kb, period, most_failed=GAP_QUERIES)


@dataclass(frozen=True)
class DueRow:
    """An article due for review as the dashboard lists it: where readers meet it or miss it most, first."""

    title: str
    url: str
    locale: str
    due: dt.date
    views: int
    failed_searches: int
    """Failed questions of the gap topics this article is the nearest to: what readers looked for here and did not find."""
    not_helpful: int


def due_for_review(kb: KnowledgeBase, dash: Dashboard, gaps: list[Topic]) -> list[DueRow]:
    """Articles whose ``review_every`` has run out, ranked by the period's views and failed searches near them
    together, then by "not helpful" votes: writers start where a stale article costs readers most."""
    due = reviews_due(kb.articles(view=STAFF), today=dash.period.until)
    traffic = {(row["article_id"], row["locale"]): row for row in dash.article_traffic}
    failed: dict[tuple[str, str], int] = {}
    for topic in gaps:
        if topic.nearest is not None:
            key = (topic.nearest.article_id, topic.nearest.locale)
            failed[key] = failed.get(key, 0) + topic.failed
    rows = []
    for item in due:
        article = item.article
        seen = traffic.get(article.key, {})
        rows.append(DueRow(article.title, article_url(article.id, article.locale), article.locale, item.due, seen.get("views", 0),
                           failed.get(article.key, 0), seen.get("not_helpful", 0)))  # fmt: skip
    return sorted(rows, key=lambda row: (-(row.views + row.failed_searches), -row.not_helpful, row.due))


def behind_originals(kb: KnowledgeBase) -> list[BehindOriginal]:
    """Translations whose original changed since the commit they were made from, with the original's diff since."""
    snapshot = kb.snapshot
    unknown: list[UnknownOrigin] = []  # a translated_from that is no commit here: kb check names it
    with kb.open_repo() as repo:
        return translations_behind(
            repo, kb.articles(view=STAFF), at=snapshot.commit, default_locale=kb.site().default_locale, unknown=unknown
        )


def gap_templates(kb: KnowledgeBase) -> dict[str, list[str]]:
    """Per locale, the names of the served commit's templates an article of it can start from, offered for a writer's
    draft from a content gap (a template with only a Japanese variant is not offered for an English topic)."""
    return _templates_at(kb, kb.snapshot.commit)


@lru_cache(maxsize=4)
def _templates_at(kb: KnowledgeBase, commit: str) -> dict[str, list[str]]:
    with kb.open_repo() as repo:
        templates = parse_templates((file.path, file.data) for file in repo.files_at(commit, under=TEMPLATES_DIR))[0]
    names = sorted({name for name, _ in templates})
    return {locale: [name for name in names if template_for(templates, name, locale)] for locale in LOCALES}


def possible_contradictions(kb: KnowledgeBase) -> list[Contradiction]:
    """Sections of the served articles giving different figures for one thing, found once per served commit
    (the sections' vectors come from the embedding cache the index filled)."""
    return _contradictions_at(kb, kb.snapshot.commit)


@lru_cache(maxsize=4)
def _contradictions_at(kb: KnowledgeBase, commit: str) -> list[Contradiction]:
    return contradictions(kb.articles(view=STAFF), kb.indexer.encoder)
