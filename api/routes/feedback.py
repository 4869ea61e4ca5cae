"""POST /v1/feedback (what became of a suggestion, an answer or an article) and GET /v1/articles/{id}/feedback (staff)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from typing_extensions import TypedDict

from api.deps import KnowledgeBaseDep, PrincipalDep, client_surface
from kb.access import STAFF_ROLES
from kb.analytics import SEARCH_ID
from kb.assist import CUSTOMER_OUTCOMES, OUTCOMES, REASONS, Feedback, feedback_summary, record_feedback
from kb.core import Line, Prose

router = APIRouter(prefix="/v1", tags=["feedback"])


class FeedbackIn(BaseModel):
    outcome: Line = Field(description=f"One of {', '.join(OUTCOMES)}; which ones depends on who reports it.")
    interaction_id: Line | None = Field(default=None, description="The interaction_id of a suggestion list or an answer.")
    article_id: Line | None = Field(default=None, description="The article concerned; every article the interaction showed when absent.")
    locale: Line | None = None
    anchor: Line | None = Field(default=None, description="The section concerned.")
    reason: Line | None = Field(default=None, description=f"With a negative outcome: {', '.join(REASONS)}.")
    comment: Prose | None = None
    search_id: Annotated[Line | None, Field(
        default=None, pattern=f"^{SEARCH_ID}$",
        description="With a customer's helpful or not_helpful: the `search_id` of the search that led to the article, for the reports.",
    )] = None  # fmt: skip


class FeedbackOut(TypedDict):
    recorded: Annotated[int, Field(description="Rows written: one per article concerned.")]
    articles: list[str]


class CommentOut(TypedDict):
    outcome: str
    reason: str | None
    comment: str
    locale: str
    anchor: str
    revision: str
    principal_kind: str
    created_at: str


class FeedbackSummaryOut(TypedDict):
    article_id: str
    outcomes: dict[str, int]
    reasons: dict[str, int]
    by_revision: dict[str, dict[str, int]]
    by_section: Annotated[dict[str, dict[str, int]], Field(description="Per section anchor; the empty anchor is the whole article.")]
    comments: list[CommentOut]


@router.post("/feedback", status_code=201, response_model=FeedbackOut)
async def post_feedback(request: Request, kb: KnowledgeBaseDep, principal: PrincipalDep, body: FeedbackIn) -> FeedbackOut:
    """Record what became of an interaction's articles, or of one article; each outcome once per interaction and article.

    A vote naming the search behind it is also an event tied to that search, as the site's votes are: what
    the `not-helpful` report counts against the query."""
    feedback = Feedback(**body.model_dump(exclude={"search_id"}))
    surface = client_surface(request)  # a bad header refused before anything is written
    rows = await run_in_threadpool(record_feedback, kb, feedback, principal=principal)
    if body.search_id is not None and body.outcome in CUSTOMER_OUTCOMES and surface is not None:
        for row in rows:
            kb.events.vote(surface=surface, search_id=body.search_id, article_id=row.article_id, locale=row.locale,
                           outcome=row.outcome, principal=principal)  # fmt: skip
    return FeedbackOut(recorded=len(rows), articles=[row.article_id for row in rows])


@router.get("/articles/{article_id}/feedback", response_model=FeedbackSummaryOut)
async def get_feedback(
    kb: KnowledgeBaseDep, principal: PrincipalDep, article_id: Annotated[Line, Path()], locale: Line | None = None
) -> FeedbackSummaryOut:
    """What agents, bots and customers said about an article: outcomes, reasons, per revision and section, the newest comments."""
    if principal.kind not in STAFF_ROLES:
        raise HTTPException(403, "an article's feedback is for staff: it needs an agent, writer, reviewer or admin API key")
    summary = await run_in_threadpool(feedback_summary, kb.engine, article_id, locale=locale)
    return FeedbackSummaryOut(
        article_id=summary.article_id,
        outcomes=summary.outcomes,
        reasons=summary.reasons,
        by_revision=summary.by_revision,
        by_section=summary.by_section,
        comments=[
            CommentOut(
                outcome=row.outcome,
                reason=row.reason,
                comment=row.comment or "",
                locale=row.locale,
                anchor=row.anchor,
                revision=row.revision,
                principal_kind=row.principal_kind,
                created_at=row.created_at.isoformat(),
            )
            for row in summary.comments
        ],
    )
