"""An article's past: GET /v1/articles/{id}/history (commits, newest first), /diff (between two refs), and
POST /v1/articles/{id}/restore (a proposal putting it back as it was)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import KnowledgeBaseDep, PrincipalDep, ViewDep
from api.routes.articles import pick_translation
from api.routes.proposals import ProposalOut, require
from api.schemas import DiffOut, HistoryOut, RevisionOut
from kb.access import WRITER_ROLES
from kb.core import Line
from kb.writing import MAX_HISTORY_PAGE, article_diff, history_page, restore_article

router = APIRouter(prefix="/v1", tags=["history"])


@router.get("/articles/{article_id}/history", response_model=HistoryOut)
def get_history(
    request: Request,
    response: Response,
    kb: KnowledgeBaseDep,
    view: ViewDep,
    article_id: Line,
    locale: Line | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_HISTORY_PAGE)] = 20,
    cursor: Line | None = None,
) -> HistoryOut:
    """Commits that changed the article, newest first, following renames and moves of its file."""
    snapshot = kb.snapshot
    article = pick_translation(kb.translations(article_id, view=view, snapshot=snapshot), article_id, locale)
    with kb.open_repo() as repo:
        page = history_page(repo, article, at=snapshot.commit, view=view, limit=limit, cursor=cursor)
    next_url = None
    if page.next_cursor:
        next_url = str(request.url.include_query_params(cursor=page.next_cursor))
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return HistoryOut(id=article.id, locale=article.locale, items=[RevisionOut.of(r) for r in page.revisions], next=next_url)


@router.get("/articles/{article_id}/diff", response_model=DiffOut)
def get_diff(
    kb: KnowledgeBaseDep,
    view: ViewDep,
    article_id: Line,
    from_ref: Annotated[Line, Query(alias="from", description="Commit sha, branch or tag of the old version.")],
    to_ref: Annotated[Line | None, Query(alias="to", description="Of the new version; the served commit when absent.")] = None,
    locale: Line | None = None,
) -> DiffOut:
    """The article's Markdown file between two refs: a unified diff, and rows for a side-by-side view."""
    snapshot = kb.snapshot
    article = pick_translation(kb.translations(article_id, view=view, snapshot=snapshot), article_id, locale)
    with kb.open_repo() as repo:
        result = article_diff(repo, article, from_ref, snapshot.commit if to_ref is None else to_ref, at=snapshot.commit, view=view)
    return DiffOut.of_article(result.diff, article=article, from_commit=result.old_commit, to_commit=result.new_commit)


class RestoreIn(BaseModel):
    revision: Line = Field(description="A commit, branch or tag of the article's history (GET /v1/articles/{id}/history).")
    locale: Line | None = Field(default=None, description="Which translation; English, else the first, when absent.")


@router.post("/articles/{article_id}/restore", status_code=201, response_model=ProposalOut)
async def restore(kb: KnowledgeBaseDep, principal: PrincipalDep, article_id: Line, body: RestoreIn) -> ProposalOut:
    """A proposal putting the article back as it was at ``revision``, reviewed and merged like any other."""
    require(principal, WRITER_ROLES, "restoring an article")
    snapshot = kb.snapshot
    article = pick_translation(kb.translations(article_id, view=principal.view, snapshot=snapshot), article_id, body.locale)
    author = principal.name or principal.kind
    record = await run_in_threadpool(restore_article, kb, article, body.revision, at=snapshot.commit, author=author)
    return ProposalOut.of(record)
