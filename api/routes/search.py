"""GET and POST /v1/search: hybrid, keyword or semantic search over the articles the caller may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field

from api.deps import KnowledgeBaseDep, ViewDep
from api.schemas import HitOut, SearchOut
from kb.access import View
from kb.knowledge_base import KnowledgeBase, SearchResponse
from kb.requests import MAX_LIMIT, InvalidRequest, SearchRequest
from search.snapshot import IndexSnapshot
from versioning import InvalidRef

router = APIRouter(prefix="/v1", tags=["search"])


class SearchBody(BaseModel):
    """The POST form: the same fields as the query string, for long queries and for clients that prefer JSON."""

    q: str = Field(description="What to search for, in any supported language.")
    locale: str | None = None
    category: str | None = None
    tags: list[str] = []
    mode: str = "hybrid"
    limit: int = Field(default=10, description=f"1 to {MAX_LIMIT}.")
    offset: int = 0
    ref: str | None = Field(
        default=None, description="Search a branch, tag or commit instead of the served content (agents and writers)."
    )


def _respond(request: SearchRequest, response: SearchResponse) -> SearchOut:
    return SearchOut(
        query=request.query,
        mode=request.mode,
        locale=request.locale,
        total=response.results.total,
        limit=request.limit,
        offset=request.offset,
        commit=response.commit,
        hits=[HitOut.of(hit, commit=response.commit) for hit in response.results.hits],
        facets=response.results.facets,
    )


def _run(kb: KnowledgeBase, view: View, body: SearchBody) -> Response:
    """The search, serialised here: ``SearchOut`` is validated as it is built, and FastAPI's own pass
    over a returned model (validate again, then encode) costs a thread-pool hop per request."""
    request = SearchRequest(
        query=body.q,
        mode=body.mode,
        locale=body.locale,
        category=body.category,
        tags=tuple(body.tags),
        limit=body.limit,
        offset=body.offset,
        max_query_chars=kb.settings.max_query_chars,
    )
    snapshot = _preview(kb, view, body.ref) if body.ref is not None else None
    out = _respond(request, kb.search_many([request], view=view, snapshot=snapshot)[0])
    return Response(out.model_dump_json(), media_type="application/json")


def _preview(kb: KnowledgeBase, view: View, ref: str) -> IndexSnapshot:
    """A preview is for people preparing content: its drafts and unmerged text are not for customers."""
    if not view.staff:
        raise HTTPException(403, "searching a ref (a preview) needs an agent, writer, reviewer or admin API key")
    try:
        return kb.preview(ref)
    except InvalidRef as invalid:
        raise InvalidRequest("ref", str(invalid)) from None


@router.get("/search", response_model=SearchOut)
def search_get(
    kb: KnowledgeBaseDep,
    view: ViewDep,
    q: Annotated[str, Query(description="What to search for.")],
    locale: str | None = None,
    category: str | None = None,
    tags: Annotated[list[str], Query(description="Only articles carrying all of these tags.")] = [],  # noqa: B006 - FastAPI copies the default per request
    mode: str = "hybrid",
    limit: int = 10,
    offset: int = 0,
    ref: Annotated[str | None, Query(description="A branch, tag or commit to search (agents and writers).")] = None,
) -> Response:
    body = SearchBody(q=q, locale=locale, category=category, tags=tags, mode=mode, limit=limit, offset=offset, ref=ref)
    return _run(kb, view, body)


@router.post("/search", response_model=SearchOut)
def search_post(kb: KnowledgeBaseDep, view: ViewDep, body: SearchBody) -> Response:
    return _run(kb, view, body)
