"""GET and POST /v1/search: hybrid, keyword or semantic search over the articles the caller may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.deps import AS_DESCRIPTION, KnowledgeBaseDep, ViewDep, reading_as
from api.schemas import HitOut, SearchOut
from kb.access import View
from kb.knowledge_base import KnowledgeBase, SearchResponse
from kb.requests import MAX_LIMIT, InvalidRequest, SearchRequest
from kb.text import Line, Prose
from search.snapshot import IndexSnapshot
from versioning import InvalidRef

router = APIRouter(prefix="/v1", tags=["search"])


class SearchBody(BaseModel):
    """The POST form: the same fields as the query string, for long queries and for clients that prefer JSON."""

    model_config = ConfigDict(populate_by_name=True)

    q: Prose = Field(description="What to search for, in any supported language.")
    locale: Line | None = None
    category: Line | None = None
    tags: list[Line] = []
    mode: Line = "hybrid"
    limit: int = Field(default=10, description=f"1 to {MAX_LIMIT}.")
    offset: int = 0
    ref: Line | None = Field(
        default=None, description="Search a branch, tag or commit instead of the served content (agents and writers)."
    )
    as_: Line | None = Field(default=None, alias="as", description=AS_DESCRIPTION)


def _respond(request: SearchRequest, response: SearchResponse, *, staff: bool) -> SearchOut:
    return SearchOut(
        query=request.query,
        mode=request.mode,
        locale=request.locale,
        total=response.results.total,
        limit=request.limit,
        offset=request.offset,
        commit=response.commit,
        hits=[HitOut.of(hit, commit=response.commit, staff=staff) for hit in response.results.hits],
        facets=response.results.facets,
    )


async def _run(kb: KnowledgeBase, view: View, body: SearchBody) -> Response:
    """Check the request on the event loop (cheap), then search and serialise in a worker thread.

    The route is ``async`` so nothing before the search costs a thread hop; the search itself is
    CPU-bound (query encoding, both indexes, snippets), so it runs in the thread pool, where it never
    holds up the event loop's other requests. It returns the JSON itself: ``SearchOut`` is validated
    as it is built, and FastAPI's own pass over a returned model (validate again, then encode) would
    cost as much again.
    """
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
    if body.ref is not None and not view.staff:
        raise HTTPException(403, "searching a ref (a preview) needs an agent, writer, reviewer or admin API key")
    reader = reading_as(view, body.as_)
    return await run_in_threadpool(_search, kb, request, reader=reader, ref=body.ref, staff=view.staff)


def _search(kb: KnowledgeBase, request: SearchRequest, *, reader: View, ref: str | None, staff: bool) -> Response:
    snapshot = _preview(kb, ref) if ref is not None else None
    searched = kb.search_many([request], view=reader, snapshot=snapshot)[0]
    out = _respond(request, searched, staff=staff)
    return Response(out.model_dump_json(), media_type="application/json")


def _preview(kb: KnowledgeBase, ref: str) -> IndexSnapshot:
    """A preview is for people preparing content (staff only, checked by the caller): drafts and unmerged text."""
    try:
        return kb.preview(ref)
    except InvalidRef as invalid:
        raise InvalidRequest("ref", str(invalid)) from None


@router.get("/search", response_model=SearchOut)
async def search_get(
    kb: KnowledgeBaseDep,
    view: ViewDep,
    q: Annotated[Prose, Query(description="What to search for.")],
    locale: Line | None = None,
    category: Line | None = None,
    tags: Annotated[list[Line], Query(description="Only articles carrying all of these tags.")] = [],  # noqa: B006 - FastAPI copies the default per request
    mode: Line = "hybrid",
    limit: int = 10,
    offset: int = 0,
    ref: Annotated[Line | None, Query(description="A branch, tag or commit to search (agents and writers).")] = None,
    as_: Annotated[Line | None, Query(alias="as", description=AS_DESCRIPTION)] = None,
) -> Response:
    fields = {"q": q, "locale": locale, "category": category, "tags": tags, "mode": mode, "limit": limit, "offset": offset,
              "ref": ref, "as": as_}  # fmt: skip
    body = SearchBody.model_validate(fields)
    return await _run(kb, view, body)


@router.post("/search", response_model=SearchOut)
async def search_post(kb: KnowledgeBaseDep, view: ViewDep, body: SearchBody) -> Response:
    return await _run(kb, view, body)
