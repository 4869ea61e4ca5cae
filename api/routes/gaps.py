"""Content gaps for staff: GET /v1/gaps (failed questions grouped into topics), and each topic turned into work in
Git: POST /v1/gaps/{topic}/proposal (a draft article as a proposal) or GET /v1/gaps/{topic}/report (Markdown)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import KnowledgeBaseDep, PrincipalDep
from api.routes.proposals import ProposalOut, require
from kb.access import STAFF_ROLES, WRITER_ROLES
from kb.analytics import Period, Topic
from kb.core import KnowledgeBase, Line
from kb.writing import MAX_TOPICS, UnknownTopic, find_topic, gap_proposal, gap_report, gap_topics

router = APIRouter(prefix="/v1/gaps", tags=["analytics"])


class NearOut(BaseModel):
    article_id: str
    locale: str
    title: str
    cosine: float


class TopicOut(BaseModel):
    id: str
    label: str = Field(description="Its most failed question.")
    locale: str
    failed: int = Field(description="Searches that found nothing, bot answers escalated, results of seldom-opened queries left unopened.")
    earlier: int = Field(description="Of those, in the first half of the period.")
    later: int
    trend: float | None = Field(description="Later against earlier: 1.0 twice as often; null when new.")
    queries: int
    examples: list[tuple[str, int]]
    nearest: NearOut | None

    @classmethod
    def of(cls, topic: Topic) -> TopicOut:
        return cls.model_validate(topic.as_dict())


class GapsOut(BaseModel):
    since: dt.date
    until: dt.date
    topics: list[TopicOut]


Since = Annotated[dt.date | None, Query(description="First day (UTC); 29 days before `until` by default.")]
Until = Annotated[dt.date | None, Query(description="Last day (UTC); today by default.")]


@router.get("", response_model=GapsOut)
async def gaps(
    kb: KnowledgeBaseDep, principal: PrincipalDep, since: Since = None, until: Until = None, locale: Line | None = None,
    surface: Line | None = None, limit: Annotated[int, Query(ge=1, le=MAX_TOPICS)] = 50,
) -> GapsOut:  # fmt: skip
    """Failed questions grouped by meaning, the most failed topic first."""
    require(principal, STAFF_ROLES, "reading content gaps")
    period = Period.checked(since=since, until=until, locale=locale, surface=surface)
    found = await run_in_threadpool(lambda: gap_topics(kb, period, limit=limit))
    return GapsOut(since=period.since, until=period.until, topics=[TopicOut.of(topic) for topic in found])


class ProposalFromGapIn(BaseModel):
    since: dt.date | None = None
    until: dt.date | None = None
    locale: Line | None = None
    surface: Line | None = None
    template: Line | None = Field(default=None, description="A template of .kb/templates/ (e.g. how-to); a blank page when absent.")
    id: Line | None = Field(default=None, description="The new article's id; from the topic's words when absent.")


async def _topic(kb: KnowledgeBase, topic_id: str, period: Period) -> Topic:
    try:
        return await run_in_threadpool(find_topic, kb, topic_id, period)
    except UnknownTopic as unknown:
        raise HTTPException(404, str(unknown)) from None


@router.post("/{topic_id}/proposal", status_code=201, response_model=ProposalOut)
async def propose(kb: KnowledgeBaseDep, principal: PrincipalDep, topic_id: Line, body: ProposalFromGapIn) -> ProposalOut:
    """A proposal adding a draft article for the topic, its questions in the front matter."""
    require(principal, WRITER_ROLES, "proposing an article for a gap")
    topic = await _topic(kb, topic_id, Period.checked(since=body.since, until=body.until, locale=body.locale, surface=body.surface))
    author = principal.name or principal.kind
    record = await run_in_threadpool(
        lambda: gap_proposal(kb, topic, at=kb.snapshot.commit, author=author, template=body.template, article_id=body.id)
    )
    return ProposalOut.of(record)


@router.get("/{topic_id}/report", response_class=Response, responses={200: {"content": {"text/markdown": {}}}})
async def report(
    kb: KnowledgeBaseDep, principal: PrincipalDep, topic_id: Line, since: Since = None, until: Until = None, locale: Line | None = None,
    surface: Line | None = None,
) -> Response:  # fmt: skip
    """The topic as Markdown, for a pull request or an issue: its questions, how often they failed, the nearest article."""
    require(principal, STAFF_ROLES, "reading content gaps")
    topic = await _topic(kb, topic_id, Period.checked(since=since, until=until, locale=locale, surface=surface))
    return Response(gap_report(topic), media_type="text/markdown; charset=utf-8")
