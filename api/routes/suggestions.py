"""POST /v1/suggestions and /v1/suggestions:batch: articles, and the passage in each, for an agent working a ticket."""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, Field, TypeAdapter
from typing_extensions import TypedDict

from api.deps import KnowledgeBaseDep, PrincipalDep, batch_item, customer_token_view
from api.schemas import AUDIENCE_DESCRIPTION, STATUS_DESCRIPTION, AnnouncementOut, access_of, announcement_out, article_url
from kb.access import PUBLIC, STAFF_ROLES, Principal, View, customer_view
from kb.analytics import SearchEvent, elapsed_ms
from kb.assist import DEFAULT_SUGGESTIONS, Message, Suggestion, Suggestions, Ticket, suggest, ticket_request
from kb.core import MAX_LIMIT, InvalidRequest, KnowledgeBase, Line, Prose, SearchRequest

router = APIRouter(prefix="/v1", tags=["agents"])

MAX_SUGGESTIONS = 20
MAX_BATCH = 100


class MessageIn(BaseModel):
    role: Literal["customer", "agent"]
    text: Prose


class RequesterIn(BaseModel):
    """Who the ticket is from, when the helpdesk knows their segments but holds no token of theirs."""

    segments: list[Line] = Field(default=[], max_length=MAX_LIMIT)


class TicketIn(BaseModel):
    subject: Prose = ""
    body: Prose = ""
    messages: list[MessageIn] = Field(default=[], max_length=500, description="The conversation after the body, oldest first.")
    locale: Line | None = None
    tags: list[Line] = Field(default=[], max_length=MAX_LIMIT, description="The helpdesk's tags: read as words of the ticket.")
    exclude: list[Line] = Field(default=[], max_length=MAX_LIMIT, description="Article ids the ticket already links.")
    limit: int = Field(default=DEFAULT_SUGGESTIONS, ge=1, le=MAX_SUGGESTIONS)
    requester: RequesterIn | None = Field(default=None, description="The requester's segments; anonymous when absent.")
    customer_token: Line | None = Field(default=None, description="The requester's signed customer token, instead of `requester`.")


class BatchIn(BaseModel):
    tickets: list[TicketIn] = Field(min_length=1, max_length=MAX_BATCH)


class SuggestionOut(TypedDict):
    id: str
    title: str
    locale: str
    url: str
    anchor: Annotated[str, Field(description="Id of the section the passage is in; empty for the lead.")]
    section: Annotated[list[str], Field(description="The section's heading path.")]
    passage: Annotated[str, Field(description="Whole sentences of the section that hold what the ticket asks: ready to paste.")]
    matched_terms: Annotated[list[str], Field(description="The ticket's words as the passage writes them: why it matched.")]
    snippet: Annotated[str, Field(description="HTML-escaped excerpt of the section, matches wrapped in <mark>.")]
    score: float
    revision: Annotated[str, Field(description="Commit that last changed the article.")]
    commit: Annotated[str, Field(description="Commit of the index snapshot that answered.")]
    sendable: Annotated[
        bool, Field(description="Whether the requester may see the article: false for internal or other segments' articles.")
    ]
    audience: Annotated[str | list[str] | None, Field(description=AUDIENCE_DESCRIPTION)]
    status: Annotated[str | None, Field(description=STATUS_DESCRIPTION)]
    announcement: Annotated[
        AnnouncementOut | None, Field(description="For an announcement, its window; an active one comes first. Null otherwise.")
    ]


class SuggestionsOut(TypedDict):
    interaction_id: Annotated[str, Field(description="Quote it in POST /v1/feedback to say what the agent did with these.")]
    commit: str
    query: Annotated[
        str, Field(description="What was searched for: the ticket's last customer turn, greetings, quotes and signatures removed.")
    ]
    suggestions: list[SuggestionOut]


class BatchOut(TypedDict):
    results: list[SuggestionsOut]


SUGGESTIONS_OUT, BATCH_OUT = TypeAdapter(SuggestionsOut), TypeAdapter(BatchOut)


@router.post("/suggestions", response_model=SuggestionsOut)
async def suggestions(kb: KnowledgeBaseDep, principal: PrincipalDep, body: TicketIn) -> Response:
    """Articles for an agent working a ticket (internal ones included), each with the passage that answers and whether it may be sent."""
    return await _suggest_many(kb, principal, [body], batch=False)


@router.post("/suggestions:batch", response_model=BatchOut)
async def suggestions_batch(kb: KnowledgeBaseDep, principal: PrincipalDep, body: BatchIn) -> Response:
    """Suggestions for many tickets at once (a helpdesk back-fill): one model call encodes them all."""
    return await _suggest_many(kb, principal, body.tickets, batch=True)


async def _suggest_many(kb: KnowledgeBase, principal: Principal, tickets: list[TicketIn], *, batch: bool) -> Response:
    if principal.kind not in STAFF_ROLES:
        raise HTTPException(403, "suggestions are for agents: they need an agent, writer, reviewer or admin API key")
    requesters, requests = [], []
    for number, ticket in enumerate(tickets):
        with batch_item("tickets", number, batch=batch):
            requesters.append(_requester(kb, ticket))
            requests.append(ticket_request(_ticket(ticket)))
    work = partial(_suggested, kb, requests, principal=principal, requesters=requesters, batch=batch)
    return await asyncio.get_running_loop().run_in_executor(None, work)


def _suggested(kb: KnowledgeBase, requests: list[SearchRequest], *, principal: Principal, requesters: list[View], batch: bool) -> Response:
    """Suggest and serialise in the worker thread, as search does: the event loop never holds a large body."""
    started = time.perf_counter()
    results = suggest(kb, requests, view=principal.view, requesters=requesters, principal_kind=principal.kind)
    latency = elapsed_ms(started) / len(requests)
    for request, result in zip(requests, results, strict=True):  # what each ticket searched for, as a search of the agent surface
        shown = [suggestion.hit.article.id for suggestion in result.suggestions]
        event = SearchEvent("agent", result.query, request.locale, request.mode, shown, len(shown), latency)
        kb.events.search(event, principal, search_id=result.interaction_id)
    out = [_out(result) for result in results]
    body = BATCH_OUT.dump_json(BatchOut(results=out)) if batch else SUGGESTIONS_OUT.dump_json(out[0])
    return Response(body, media_type="application/json")


def _ticket(body: TicketIn) -> Ticket:
    return Ticket(
        subject=body.subject,
        body=body.body,
        messages=tuple(Message(m.role, m.text) for m in body.messages),
        locale=body.locale,
        tags=tuple(body.tags),
        exclude=tuple(body.exclude),
        limit=body.limit,
    )


def _requester(kb: KnowledgeBase, body: TicketIn) -> View:
    """The view the requester reads with: their token's, else the segments given, else an anonymous visitor's."""
    if body.customer_token is not None and body.requester is not None:
        raise InvalidRequest("customer_token", "give the requester's customer_token or their segments (requester), not both")
    if body.customer_token is not None:
        return customer_token_view(kb.settings, body.customer_token)
    if body.requester is not None:
        return customer_view(frozenset(body.requester.segments))
    return PUBLIC


def _out(result: Suggestions) -> SuggestionsOut:
    return SuggestionsOut(
        interaction_id=result.interaction_id,
        commit=result.commit,
        query=result.query,
        suggestions=[_suggestion_out(s, commit=result.commit) for s in result.suggestions],
    )


def _suggestion_out(suggestion: Suggestion, *, commit: str) -> SuggestionOut:
    article, chunk = suggestion.hit.article, suggestion.hit.chunk
    audience, status = access_of(article, staff=True)
    return SuggestionOut(
        id=article.id,
        title=article.title,
        locale=article.locale,
        url=article_url(article.id, article.locale, chunk.anchor),
        anchor=chunk.anchor,
        section=list(chunk.heading_path),
        passage=suggestion.passage.text,
        matched_terms=list(suggestion.passage.matched),
        snippet=suggestion.hit.snippet,
        score=round(suggestion.hit.score, 6),
        revision=article.revision,
        commit=commit,
        sendable=suggestion.sendable,
        audience=audience,
        status=status,
        announcement=announcement_out(article, active=suggestion.announced),
    )
