"""POST /v1/events/click: a reader opened one of a search's results, told by the page or app that showed them.

The help center's own pages record their clicks themselves (the result links carry the search); an
application that shows kb's results in its own interface reports them here, naming the ``search_id``
its search returned, so reports can tell a search that helped from one that did not.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from api.deps import KnowledgeBaseDep, PrincipalDep, client_surface
from articles.model import LOCALES
from kb.analytics import SEARCH_ID
from kb.core import Line

router = APIRouter(prefix="/v1", tags=["analytics"])


class ClickIn(BaseModel):
    article_id: Line = Field(description="The article opened.")
    locale: Line | None = Field(default=None, description=f"Its locale ({', '.join(LOCALES)}); any, when absent.")
    search_id: Annotated[
        Line | None, Field(default=None, pattern=f"^{SEARCH_ID}$", description="The `search_id` of the search it was found by.")
    ]
    position: Annotated[int | None, Field(default=None, ge=1, le=1000, description="Its place among that search's results, from 1.")]


@router.post("/events/click", status_code=204, response_class=Response)
def click(request: Request, kb: KnowledgeBaseDep, principal: PrincipalDep, body: ClickIn) -> Response:
    """Record the click (off the request path); 404 for an article the caller may not see, as for a missing one."""
    if body.locale is not None and body.locale not in LOCALES:
        raise HTTPException(422, f"locale {body.locale!r} is not one of {', '.join(LOCALES)}")
    if body.locale:
        found = kb.article(body.article_id, locale=body.locale, view=principal.view)
    else:
        found = next(iter(kb.translations(body.article_id, view=principal.view)), None)
    if found is None:
        raise HTTPException(404, f"no article {body.article_id!r}")
    surface = client_surface(request)
    if surface is not None:
        kb.events.click(
            surface=surface, search_id=body.search_id, article_id=found.id, locale=found.locale, position=body.position, principal=principal
        )
    return Response(status_code=204)
