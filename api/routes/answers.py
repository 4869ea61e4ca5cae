"""POST /v1/answers and /v1/answers:batch: a cited answer for a chatbot, or a hand-off to a person."""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, TypeAdapter
from typing_extensions import TypedDict

from api.deps import CUSTOMER_TOKEN_HEADER, KnowledgeBaseDep, PrincipalDep, batch_item, customer_token_view
from api.routes.suggestions import MessageIn
from api.schemas import AnnouncementOut, article_url
from kb.access import Principal, View
from kb.analytics import SearchEvent, elapsed_ms
from kb.assist import Announced, Answer, Citation, Message, Question, answer, question_request
from kb.core import InvalidRequest, KnowledgeBase, Line, Prose, SearchRequest

router = APIRouter(prefix="/v1", tags=["agents"])

MAX_BATCH = 100
ABSTAINED = {
    "no_match": "nothing in the help center matches the question",
    "low_confidence": "the best article found is not a confident answer",
}


class QuestionIn(BaseModel):
    question: Prose
    conversation: list[MessageIn] = Field(default=[], max_length=500, description="The turns before the question, oldest first.")
    locale: Line | None = None
    customer_token: Line | None = Field(
        default=None,
        description=f"A bot key answering a signed-in customer: their token, read as they would (like {CUSTOMER_TOKEN_HEADER}).",
    )


class BatchIn(BaseModel):
    questions: list[QuestionIn] = Field(min_length=1, max_length=MAX_BATCH)


class CitationOut(TypedDict):
    article_id: str
    title: str
    locale: str
    url: str
    anchor: Annotated[str, Field(description="Id of the section the quote is in; empty for the lead.")]
    section: Annotated[list[str], Field(description="The section's heading path.")]
    commit: Annotated[str, Field(description="Commit of the index snapshot that answered.")]
    revision: Annotated[str, Field(description="Commit that last changed the article: the quote is verbatim in the section there.")]
    quote: Annotated[str, Field(description="Whole sentences of the section, verbatim: GET /v1/citations/resolve finds them again.")]


class AnnouncedOut(CitationOut):
    announcement: AnnouncementOut


class AnswerOut(TypedDict):
    interaction_id: Annotated[str, Field(description="Quote it in POST /v1/feedback: resolved, rejected or escalated.")]
    commit: str
    abstained: bool
    handoff: Annotated[bool, Field(description="Whether a person should take over: always when kb abstains.")]
    reason: Annotated[str | None, Field(description="Why kb abstained: no_match or low_confidence; null for an answer.")]
    message: Annotated[str | None, Field(description="The reason in words, for logs and bot builders.")]
    confidence: Annotated[float, Field(description="The calibrated probability that the cited article answers the question.")]
    threshold: Annotated[float, Field(description="The confidence below which kb abstains (KB_ANSWER_MIN_CONFIDENCE).")]
    announcements: Annotated[
        list[AnnouncedOut],
        Field(description="Active announcements the question matches (an outage it asks about), most severe first: show them "
              "before the answer, even when kb abstains."),
    ]
    answer: Annotated[str, Field(description="The answer: sentences quoted from the cited section; empty when kb abstains.")]
    citations: list[CitationOut]


class BatchOut(TypedDict):
    results: list[AnswerOut]


ANSWER_OUT, BATCH_OUT = TypeAdapter(AnswerOut), TypeAdapter(BatchOut)


@router.post("/answers", response_model=AnswerOut)
async def answers(kb: KnowledgeBaseDep, principal: PrincipalDep, body: QuestionIn) -> Response:
    """A bot's question answered with sentences from the best section, each cited, or abstained on with a hand-off."""
    return await _answer_many(kb, principal, [body], batch=False)


@router.post("/answers:batch", response_model=BatchOut)
async def answers_batch(kb: KnowledgeBaseDep, principal: PrincipalDep, body: BatchIn) -> Response:
    """Many questions at once (a bot's queue, a back-fill): one model call encodes them all."""
    return await _answer_many(kb, principal, body.questions, batch=True)


async def _answer_many(kb: KnowledgeBase, principal: Principal, questions: list[QuestionIn], *, batch: bool) -> Response:
    """Each question's view (the key's, or a customer's it forwards) checked here; the answers and their JSON in a worker thread."""
    views: list[View] = []
    requests: list[SearchRequest] = []
    for number, body in enumerate(questions):
        with batch_item("questions", number, batch=batch):
            views.append(_view(kb, principal, body))
            conversation = tuple(Message(m.role, m.text) for m in body.conversation)
            requests.append(question_request(Question(body.question, conversation, body.locale)))
    work = partial(_answered, kb, requests, views, principal=principal, batch=batch)
    return await asyncio.get_running_loop().run_in_executor(None, work)


def _answered(kb: KnowledgeBase, requests: list[SearchRequest], views: list[View], *, principal: Principal, batch: bool) -> Response:
    """The questions answered group by group of one view, then serialised, as search serialises: off the event loop."""
    found: dict[int, Answer] = {}
    started = time.perf_counter()
    for view in dict.fromkeys(views):
        positions = [n for n, v in enumerate(views) if v == view]
        results = answer(kb, [requests[n] for n in positions], view=view, principal_kind=principal.kind)
        found.update(zip(positions, results, strict=True))
    latency = elapsed_ms(started) / len(requests)
    for number, request in enumerate(requests):  # each question a bot asked, as a search of the bot surface
        given = found[number]
        cited = [citation.article_id for citation in given.citations]
        total = 0 if given.abstained else len(cited)  # a question the bot did not answer is its zero-result search
        event = SearchEvent("bot", request.query, request.locale, request.mode, cited, total, latency)
        kb.events.search(event, principal, search_id=given.interaction_id)
    threshold = kb.settings.answer_min_confidence
    out = [_out(found[n], threshold) for n in range(len(requests))]
    body = BATCH_OUT.dump_json(BatchOut(results=out)) if batch else ANSWER_OUT.dump_json(out[0])
    return Response(body, media_type="application/json")


def _view(kb: KnowledgeBase, principal: Principal, body: QuestionIn) -> View:
    """The key's own view, or the customer's whose token a bot forwards in the body."""
    if body.customer_token is None:
        return principal.view
    if principal.kind != "bot":
        raise InvalidRequest("customer_token", f"a customer_token is for bot keys answering a customer; a {principal.kind} reads as itself")
    if principal.customer is not None:
        raise InvalidRequest("customer_token", f"the customer is already named by {CUSTOMER_TOKEN_HEADER}; give one or the other")
    return customer_token_view(kb.settings, body.customer_token)


def _out(result: Answer, threshold: float) -> AnswerOut:
    return AnswerOut(
        interaction_id=result.interaction_id,
        commit=result.commit,
        abstained=result.abstained,
        handoff=result.handoff,
        reason=result.reason,
        message=ABSTAINED.get(result.reason) if result.reason else None,
        confidence=round(result.confidence, 4),
        threshold=threshold,
        announcements=[announced_out(news) for news in result.announcements],
        answer=result.text,
        citations=[citation_out(citation) for citation in result.citations],
    )


def announced_out(news: Announced) -> AnnouncedOut:
    window = AnnouncementOut(severity=news.severity, starts=news.starts, ends=news.ends, active=True)
    return AnnouncedOut(**citation_out(news.citation), announcement=window)


def citation_out(citation: Citation) -> CitationOut:
    return CitationOut(
        article_id=citation.article_id,
        title=citation.title,
        locale=citation.locale,
        url=article_url(citation.article_id, citation.locale, citation.anchor),
        anchor=citation.anchor,
        section=list(citation.section),
        commit=citation.commit,
        revision=citation.revision,
        quote=citation.quote,
    )
