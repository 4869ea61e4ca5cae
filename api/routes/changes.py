"""GET /v1/changes: the change feed, for caches and external indexes that follow kb."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from api.deps import KnowledgeBaseDep, ViewDep
from kb.core import MAX_CHANGES_PAGE, Line, change_page

router = APIRouter(prefix="/v1", tags=["changes"])


class ChangeOut(BaseModel):
    id: str
    locale: str
    kind: str = Field(description="upsert: fetch the article again; delete: drop it.")
    commit: str = Field(description="The snapshot's commit that made the change.")
    revision: str | None = Field(description="The commit that last changed the article; null on deletes.")


class ChangesOut(BaseModel):
    items: list[ChangeOut] = Field(description="Oldest first.")
    cursor: str = Field(description="Pass as `since` to continue; returned even when there is nothing new.")
    next: str = Field(description="The URL to poll next.")


@router.get("/changes", response_model=ChangesOut)
def get_changes(
    request: Request,
    kb: KnowledgeBaseDep,
    view: ViewDep,
    since: Annotated[Line | None, Query(description="A cursor from an earlier response; from the start without one.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_CHANGES_PAGE)] = 100,
) -> ChangesOut:
    """Articles upserted and deleted by each reindex, as this caller may see them, oldest first."""
    page = change_page(kb.engine, view, cursor=since, limit=limit)
    return ChangesOut(
        items=[ChangeOut(id=c.article_id, locale=c.locale, kind=c.kind, commit=c.commit, revision=c.revision) for c in page.changes],
        cursor=page.cursor,
        next=str(request.url.include_query_params(since=page.cursor)),
    )
