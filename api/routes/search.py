"""GET and POST /v1/search: hybrid, keyword or semantic search over the articles the caller may see."""

from __future__ import annotations

import asyncio
import time
from functools import partial

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.deps import AS_DESCRIPTION, KnowledgeBaseDep, ViewDep, client_surface, knowledge_base_of, principal_of, reading_as, view_of
from api.ratelimits import rate_limited
from api.schemas import SEARCH_OUT, SearchOut, hit_out
from kb.access import Principal, View
from kb.analytics import SearchEvent, elapsed_ms
from kb.core import MAX_LIMIT, InvalidRequest, KnowledgeBase, Line, Prose, SearchRequest, SearchResponse
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


def _respond(request: SearchRequest, response: SearchResponse, *, staff: bool, search_id: str | None) -> SearchOut:
    return SearchOut(
        search_id=search_id,
        query=request.query,
        mode=request.mode,
        locale=request.locale,
        total=response.results.total,
        limit=request.limit,
        offset=request.offset,
        commit=response.commit,
        hits=[hit_out(hit, commit=response.commit, staff=staff) for hit in response.results.hits],
        facets=response.results.facets,
        read_as=[{"typed": typed, "word": word} for typed, word in response.results.read_as],
    )


async def _run(http: Request, kb: KnowledgeBase, view: View, body: SearchBody) -> Response:
    """Check the request on the event loop (cheap), then search and serialise in a worker thread.

    The route is ``async`` so nothing before the search costs a thread hop; the search itself is
    CPU-bound (query encoding, both indexes, snippets), so it runs in the event loop's thread pool,
    where it never holds up the event loop's other requests. asyncio's own pool and not Starlette's
    (anyio's): its hop cost 0.09 ms less per search (`make bench`), anyio's cancel scope and
    capacity limiter buying nothing for a call that is never cancelled.

    It returns the JSON itself: FastAPI's own pass over a returned value (validate against
    ``SearchOut``, then encode) would cost as much as building it.
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
    # A customer's search, as they typed it; not a writer's preview of a branch, nor staff reading as someone else.
    surface = client_surface(http) if body.ref is None and body.as_ is None else None
    principal = await principal_of(http, kb)
    search = partial(_search, kb, request, reader=reader, ref=body.ref, staff=view.staff, surface=surface, principal=principal)
    return await asyncio.get_running_loop().run_in_executor(None, search)


def _search(
    kb: KnowledgeBase, request: SearchRequest, *, reader: View, ref: str | None, staff: bool, surface: str | None, principal: Principal
) -> Response:
    started = time.perf_counter()
    snapshot = _preview(kb, ref) if ref is not None else None
    searched = kb.search_many([request], view=reader, snapshot=snapshot)[0]
    search_id = None
    if surface is not None:
        hits = [hit.article.id for hit in searched.results.hits]
        event = SearchEvent(surface, request.query, request.locale, request.mode, hits, searched.results.total, elapsed_ms(started))
        search_id = kb.events.search(event, principal)
    out = _respond(request, searched, staff=staff, search_id=search_id)
    return Response(SEARCH_OUT.dump_json(out), media_type="application/json")


def _preview(kb: KnowledgeBase, ref: str) -> IndexSnapshot:
    """A preview is for people preparing content (staff only, checked by the caller): drafts and unmerged text."""
    try:
        return kb.preview(ref)
    except InvalidRef as invalid:
        raise InvalidRequest("ref", str(invalid)) from None


def _query_parameters() -> list[dict[str, object]]:
    """SearchBody's fields as OpenAPI query parameters: the GET route reads them itself (see search_get)."""
    schema = SearchBody.model_json_schema(by_alias=True)
    required = set(schema.get("required", ()))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": field,
         **({"description": field["description"]} if "description" in field else {})}
        for name, field in schema["properties"].items()
    ]  # fmt: skip


_QUERY_NAMES = frozenset(field.alias or name for name, field in SearchBody.model_fields.items())


@router.get("/search", response_model=SearchOut, openapi_extra={"parameters": _query_parameters()})
async def search_get(request: Request) -> Response:
    # The help center's hot path, read by hand (a comment, not a docstring: FastAPI would publish it).
    # The caller is counted and known through the same functions FastAPI would call as dependencies:
    # solving them as a graph cost 0.08 ms per search in process. The query string is read into
    # SearchBody in one validation: declared one by one as parameters, the nine fields were each
    # solved and validated, then validated again as the body (0.1 ms). The fields, and kb.core.text's
    # checks on each, are SearchBody's, the same as the POST form's.
    kb = await knowledge_base_of(request)
    await rate_limited(request, kb)
    view = await view_of(request, kb)
    params = request.query_params
    fields = {name: params.getlist(name) if name == "tags" else params[name] for name in params.keys() & _QUERY_NAMES}
    try:
        body = SearchBody.model_validate(fields, by_alias=True, by_name=False)
    except ValidationError as invalid:
        errors = [{**error, "loc": ("query", *error["loc"])} for error in invalid.errors(include_url=False)]
        raise RequestValidationError(errors) from None
    return await _run(request, kb, view, body)


@router.post("/search", response_model=SearchOut, dependencies=[Depends(rate_limited)])
async def search_post(request: Request, kb: KnowledgeBaseDep, view: ViewDep, body: SearchBody) -> Response:
    return await _run(request, kb, view, body)
