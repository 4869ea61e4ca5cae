"""GET /v1/widget: what the in-product widget shows on a page of the company's product before the reader types.

The widget (``/hc/static/widget.js``) runs on the company's own pages, on another origin: it calls this
from the browser, so that origin must be in ``KB_CORS_ORIGINS``. It reads as the customer whose token the
page hands it (``Authorization: Bearer``), else as an anonymous reader.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import KnowledgeBaseDep, ViewDep
from api.schemas import ArticleSummary
from articles.contexts import AREA
from articles.model import LOCALES
from kb.core import InvalidRequest, Line

router = APIRouter(prefix="/v1", tags=["widget"])

MAX_PATH = 2048
MAX_AREAS = 20


class WidgetOut(BaseModel):
    locale: str
    announcements: list[ArticleSummary] = Field(description="Active announcements the reader may see, most severe first.")
    articles: list[ArticleSummary] = Field(description="Articles whose `contexts:` match the page, most specific first.")
    help_center: str = Field(description="The help center's home in the locale, for a link out of the panel.")
    contact: str | None = Field(
        description="The contact page when .kb/site.yml names a support channel; add q= (the search) and read= (article ids read)."
    )


@router.get("/widget", response_model=WidgetOut)
def widget(
    kb: KnowledgeBaseDep,
    view: ViewDep,
    locale: Line = "en",
    path: Annotated[Line | None, Query(description="The product page's URL path, e.g. /settings/billing.")] = None,
    areas: Annotated[Line, Query(description="Product areas the page declares, comma-separated, e.g. billing,invoices.")] = "",
) -> WidgetOut:
    """The page's articles (by their `contexts:`) and the active announcements, in the reader's locale where translated."""
    if locale not in LOCALES:
        raise InvalidRequest("locale", f"unknown locale {locale!r}; kb has {', '.join(LOCALES)}")
    if path is not None and (not path.startswith("/") or len(path) > MAX_PATH):
        raise InvalidRequest("path", f"must be a URL path starting with / and at most {MAX_PATH} characters")
    declared = frozenset(part.strip() for part in areas.split(",") if part.strip())
    if len(declared) > MAX_AREAS or (bad := sorted(a for a in declared if not AREA.match(a))):
        detail = f"at most {MAX_AREAS} areas" if len(declared) > MAX_AREAS else f"not an area name: {', '.join(map(repr, bad))}"
        raise InvalidRequest("areas", f"{detail} (lowercase letters, digits, . _ -, separated by commas)")
    staff = view.staff
    return WidgetOut(
        locale=locale,
        announcements=[ArticleSummary.of(a, staff=staff) for a in kb.announcements(view=view, locale=locale)],
        articles=[ArticleSummary.of(a, staff=staff) for a in kb.for_page(view=view, locale=locale, path=path, areas=declared)],
        help_center=f"/hc/{locale}",
        contact=f"/hc/{locale}/contact" if kb.site().support is not None else None,
    )
