"""POST /v1/retrieve: cited passages for an LLM bot's prompt, packed up to its token budget."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, TypeAdapter
from typing_extensions import TypedDict

from api.deps import KnowledgeBaseDep, PrincipalDep
from api.routes.answers import CitationOut, citation_out
from api.routes.suggestions import MessageIn
from kb.access import Principal
from kb.assist import Message, Question
from kb.assist.retrieval import (
    DEFAULT_BUDGET,
    MAX_BUDGET,
    MODEL_TOKENIZER,
    Packed,
    TokenCounter,
    retrieval_request,
    retrieve,
    token_counter,
)
from kb.core import InvalidRequest, KnowledgeBase, Line, Prose, SearchRequest

router = APIRouter(prefix="/v1", tags=["agents"])


class RetrieveIn(BaseModel):
    query: Prose
    conversation: list[MessageIn] = Field(default=[], max_length=500, description="The turns before the query, oldest first.")
    locale: Line | None = None
    token_budget: int = Field(default=DEFAULT_BUDGET, ge=1, le=MAX_BUDGET, description="Most tokens the passages may take, with headers.")
    tokenizer: Line = Field(
        default=MODEL_TOKENIZER,
        description="How tokens are counted: `model` (the embedding model's tokenizer) or a tiktoken encoding, when tiktoken is installed.",
    )


class PassageOut(TypedDict):
    citation: CitationOut
    score: float
    tokens: Annotated[int, Field(description="Tokens of this passage's block in `context`.")]


class RetrieveOut(TypedDict):
    interaction_id: Annotated[str, Field(description="Quote it in POST /v1/feedback: whether the bot's answer resolved the question.")]
    commit: str
    tokenizer: str
    token_budget: int
    tokens: Annotated[int, Field(description="Tokens of `context`: never more than `token_budget`.")]
    passages: list[PassageOut]
    context: Annotated[str, Field(description="The passages as one prompt-ready text: `[n] Title › Section`, then the passage.")]


@router.post("/retrieve", response_model=RetrieveOut)
async def retrieve_passages(kb: KnowledgeBaseDep, principal: PrincipalDep, body: RetrieveIn) -> Response:
    """The best sections for a question, best first, each cited and de-duplicated, packed up to a token budget."""
    question = Question(body.query, tuple(Message(m.role, m.text) for m in body.conversation), body.locale)
    try:
        request = retrieval_request(question)
    except InvalidRequest as invalid:  # the question is this route's `query`
        raise InvalidRequest("query" if invalid.field == "question" else invalid.field, invalid.message) from None
    counter = token_counter(body.tokenizer, kb.encoder)
    work = partial(_retrieve, kb, principal, request, body, counter)
    return await asyncio.get_running_loop().run_in_executor(None, work)


def _retrieve(kb: KnowledgeBase, principal: Principal, request: SearchRequest, body: RetrieveIn, counter: TokenCounter) -> Response:
    """Retrieve and serialise in the worker thread, as search does: the event loop never holds a large body."""
    found = retrieve(kb, request, budget=body.token_budget, counter=counter, view=principal.view, principal_kind=principal.kind)
    out = RetrieveOut(
        interaction_id=found.interaction_id,
        commit=found.commit,
        tokenizer=body.tokenizer,
        token_budget=body.token_budget,
        tokens=found.tokens,
        passages=[_passage_out(p) for p in found.passages],
        context=found.context,
    )
    return Response(RETRIEVE_OUT.dump_json(out), media_type="application/json")


def _passage_out(passage: Packed) -> PassageOut:
    return PassageOut(citation=citation_out(passage.citation), score=round(passage.score, 6), tokens=passage.tokens)


RETRIEVE_OUT = TypeAdapter(RetrieveOut)
