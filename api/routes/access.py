"""GET /v1/access/explain: whether a principal can see an article, and which rule decided (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import KnowledgeBaseDep, PrincipalDep
from kb.access import ADMIN_ROLES, ArticleNotFound, Explanation, access_rules_at, explain_access, parse_principal
from kb.core import InvalidRequest, Line

router = APIRouter(prefix="/v1/access", tags=["access"])


class ExplanationOut(BaseModel):
    article: str
    locale: str
    path: str = Field(description="The article's file in the content repository.")
    principal: str
    visible: bool
    audience: str = Field(description="The effective audience: public, signed_in, agents or [segment, …].")
    audience_rule: str = Field(description="What set the audience: front matter, a .kb/access.yml rule, or the default.")
    status: str
    reason: str = Field(description="Why the principal can or cannot see it.")


@router.get("/explain", response_model=list[ExplanationOut])
async def explain(
    kb: KnowledgeBaseDep,
    principal: PrincipalDep,
    article: Annotated[Line, Query(description="The article's id.")],
    locale: Annotated[Line | None, Query(description="One locale; every locale of the article without it.")] = None,
    as_: Annotated[
        Line, Query(alias="as", description="anonymous, customer, customer:SEGMENT,…, bot, agent, writer, reviewer or admin.")
    ] = "anonymous",
) -> list[ExplanationOut]:
    """One verdict per locale of the article, against the served snapshot and its `.kb/access.yml`."""
    if principal.kind not in ADMIN_ROLES:
        raise HTTPException(403, "explaining access needs an admin API key")
    try:
        subject = parse_principal(as_)
    except ValueError as error:
        raise InvalidRequest("as", str(error)) from None
    snapshot = kb.snapshot

    def explain_served() -> list[Explanation]:
        with kb.open_repo() as repo:
            rules, _ = access_rules_at(repo, snapshot.commit)
        return explain_access(snapshot.articles, rules, article, locale=locale, principal=subject)

    try:
        found = await run_in_threadpool(explain_served)
    except ArticleNotFound as missing:
        raise HTTPException(404, str(missing)) from None
    return [
        ExplanationOut(
            article=e.article_id, locale=e.locale, path=e.path, principal=e.principal, visible=e.visible, audience=e.audience,
            audience_rule=e.audience_rule, status=e.status, reason=e.reason,
        )
        for e in found
    ]
