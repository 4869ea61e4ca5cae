"""Content gaps from the command line: `kb gaps list`, `kb gaps report TOPIC`, `kb gaps propose TOPIC` (as /v1/gaps)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from kb.cli.common import LocaleFilter, Since, SurfaceFilter, Until, console, fail
from kb.core.settings import Settings
from kb.writing.gap_work import MAX_TOPICS

if TYPE_CHECKING:
    from kb.analytics import Period, Topic
    from kb.core.knowledge_base import KnowledgeBase

TopicId = Annotated[str, typer.Argument(metavar="TOPIC", help="A topic's id, as `kb gaps list` shows it.")]


def gaps_list(
    since: Since = None,
    until: Until = None,
    locale: LocaleFilter = None,
    surface: SurfaceFilter = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_TOPICS, help="Topics to show, the most failed first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the topics as JSON, as GET /v1/gaps gives them.")] = False,
) -> None:
    """Questions readers asked and did not get answered, grouped by meaning, the most failed topic first."""
    from kb.writing import gap_topics

    period = _period(since, until, locale, surface)
    with _knowledge_base() as kb:
        found = gap_topics(kb, period, limit=limit)
    if as_json:
        data = {"since": period.since.isoformat(), "until": period.until.isoformat(), "topics": [topic.as_dict() for topic in found]}
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    console.print(_table(found, period))


def gaps_report(
    topic_id: TopicId, since: Since = None, until: Until = None, locale: LocaleFilter = None, surface: SurfaceFilter = None
) -> None:
    """The topic as Markdown, for a pull request or an issue: its questions, how often they failed, the nearest article."""
    from kb.writing import gap_report

    period = _period(since, until, locale, surface)
    with _knowledge_base() as kb:
        topic = _find(kb, topic_id, period)
    sys.stdout.write(gap_report(topic))


def gaps_propose(
    topic_id: TopicId,
    since: Since = None,
    until: Until = None,
    locale: LocaleFilter = None,
    surface: SurfaceFilter = None,
    template: Annotated[str | None, typer.Option(help="A template of .kb/templates/ (e.g. how-to); a blank page when absent.")] = None,
    article_id: Annotated[str | None, typer.Option("--id", help="The new article's id; from the topic's words when absent.")] = None,
    author: Annotated[str, typer.Option(help="Who proposes it (the proposal's author).")] = "kb gaps",
) -> None:
    """Propose a draft article for the topic, its questions in the front matter: a proposal to review like any other."""
    from kb.core.requests import InvalidRequest
    from kb.writing import ProposalRefused, gap_proposal

    period = _period(since, until, locale, surface)
    with _knowledge_base() as kb:
        topic = _find(kb, topic_id, period)
        try:
            record = gap_proposal(kb, topic, at=kb.snapshot.commit, author=author, template=template, article_id=article_id)
        except InvalidRequest as refused:
            fail(f"--{refused.field}: {refused.message}")
        except ProposalRefused as refused:
            fail(str(refused))
    console.print(f"proposal {record.id}: {record.title} (branch {record.branch})", markup=False)
    console.print(f"review it as any other: GET /v1/proposals/{record.id}, then POST /v1/proposals/{record.id}/merge", markup=False)


def _period(since: dt.datetime | None, until: dt.datetime | None, locale: str | None, surface: str | None) -> Period:
    from kb.analytics import Period
    from kb.core.requests import InvalidRequest

    try:
        return Period.checked(since=since and since.date(), until=until and until.date(), locale=locale, surface=surface)
    except InvalidRequest as refused:
        fail(f"--{refused.field}: {refused.message}")


@contextmanager
def _knowledge_base() -> Iterator[KnowledgeBase]:
    """The served knowledge base, indexed if the saved snapshot is behind, closed on the way out."""
    from kb.core.bootstrap import open_knowledge_base

    kb = open_knowledge_base(Settings())
    try:
        yield kb
    finally:
        kb.close()


def _find(kb: KnowledgeBase, topic_id: str, period: Period) -> Topic:
    from kb.writing import UnknownTopic, find_topic

    try:
        return find_topic(kb, topic_id, period)
    except UnknownTopic as unknown:
        fail(f"{unknown} (see kb gaps list with the same period)")


def _table(topics: list[Topic], period: Period) -> Table:
    table = Table(title=f"Content gaps, {period.since} … {period.until}")
    for label, justify in (("topic", "left"), ("most failed question", "left"), ("locale", "left"), ("failed", "right"),
                           ("trend", "right"), ("questions", "right"), ("nearest article", "left")):  # fmt: skip
        table.add_column(label, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for topic in topics:
        trend = "new" if topic.trend is None else f"{topic.trend:+.0%}"
        near = f"{topic.nearest.article_id} ({topic.nearest.cosine:.2f})" if topic.nearest else "—"
        table.add_row(topic.id, topic.label, topic.locale, str(topic.failed), trend, str(topic.queries), near)
    if not topics:
        table.caption = "no failed questions in this period"
    return table
