"""The help-center pages (home, category, article, search, a friendly 404) over the PUBLIC view, with static files."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import jinja2
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from markupsafe import Markup
from starlette.types import Scope

from api.deps import KnowledgeBaseDep, ViewDep
from api.rendering import article_html
from api.schemas import article_url
from api.site import messages
from api.site.views import (
    PAGE_SIZE,
    LanguageLink,
    Link,
    category_groups,
    category_url,
    language_links,
    last_page,
    lead,
    page_number,
    result_page,
    search_url,
    table_of_contents,
)
from articles.model import LOCALES
from kb.access import View
from kb.knowledge_base import KnowledgeBase
from kb.requests import InvalidRequest, SearchRequest
from search.snapshot import Filters, Results

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
STATIC_URL = "/hc/static"
DEFAULT_LOCALE = "en"
HOME_ARTICLES = 6
"""Articles listed per category card on the home page; the category page lists them all."""
SUGGESTIONS = 5
"""Results search.js asks /v1/search for while the reader types."""

SECURITY_HEADERS = {
    # No inline script or style anywhere: search.js and site.css are files, and render_html writes
    # table alignment as classes.
    "Content-Security-Policy": "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}

# Built once per process: the environment holds compiled templates only, no request or test state.
_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


class SecureStaticFiles(StaticFiles):
    """StaticFiles whose responses carry the site's security headers too (nosniff matters most for files)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


router = APIRouter(include_in_schema=False)
router.mount(STATIC_URL, SecureStaticFiles(directory=STATIC_DIR), name="site-static")


@cache
def static_url(name: str) -> str:
    """A file's URL with a content hash, so a deploy never serves a stale stylesheet or script from a cache."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]
    return f"{STATIC_URL}/{name}?v={digest}"


def _secured(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def _redirect(url: str) -> Response:
    return _secured(RedirectResponse(url, status_code=307))


def _page(template: str, *, kb: KnowledgeBase, locale: str, status: int = 200, **values: object) -> Response:
    context = {
        "locale": locale,
        "t": messages.MESSAGES[locale],
        "static": static_url,
        "home_url": f"/hc/{locale}",
        "search_url": f"/hc/{locale}/search",
        "suggestions": SUGGESTIONS,
        "max_query": kb.settings.max_query_chars,
        "languages": language_links(locale, {}),
        "description": "",
        **values,
    }
    html = _templates.get_template(template).render(context)
    return _secured(HTMLResponse(html, status_code=status))


def _not_found(kb: KnowledgeBase, locale: str) -> Response:
    """One page for every missing thing, built from the locale alone: a hidden article looks exactly like a missing one."""
    return _page("not_found.html", kb=kb, locale=locale if locale in LOCALES else DEFAULT_LOCALE, status=404)


@router.get("/")
def root() -> Response:
    return _redirect(f"/hc/{DEFAULT_LOCALE}")


@router.get("/hc")
def help_center_root() -> Response:
    return _redirect(f"/hc/{DEFAULT_LOCALE}")


@router.get("/hc/{locale}")
def home(kb: KnowledgeBaseDep, view: ViewDep, locale: str) -> Response:
    if locale not in LOCALES:
        return _not_found(kb, locale)
    articles = kb.articles(view=view, filters=Filters(locale=locale))
    return _page(
        "home.html",
        kb=kb,
        locale=locale,
        groups=category_groups(articles, locale, per_group=HOME_ARTICLES),
        description=messages.MESSAGES[locale]["hero_lead"],
    )


@router.get("/hc/{locale}/categories/{category}")
def category_page(kb: KnowledgeBaseDep, view: ViewDep, locale: str, category: str) -> Response:
    if locale not in LOCALES:
        return _not_found(kb, locale)
    articles = kb.articles(view=view, filters=Filters(locale=locale, category=category))
    if not articles:  # a category of hidden articles only is as absent as one that does not exist
        return _not_found(kb, locale)
    group = category_groups(articles, locale)[0]
    translated = [code for code in LOCALES if kb.articles(view=view, filters=Filters(locale=code, category=category))]
    return _page(
        "category.html",
        kb=kb,
        locale=locale,
        group=group,
        languages=language_links(locale, {code: category_url(code, category) for code in translated}),
        description=group.description,
    )


@router.get("/hc/{locale}/articles/{article_id}")
def article_page(kb: KnowledgeBaseDep, view: ViewDep, locale: str, article_id: str) -> Response:
    article = kb.article(article_id, locale=locale, view=view) if locale in LOCALES else None
    if article is None:
        moved = kb.redirect(article_id, locale=locale, view=view) if locale in LOCALES else None
        return RedirectResponse(article_url(moved.id, moved.locale), 301) if moved else _not_found(kb, locale)
    translations = [a for a in kb.translations(article_id, view=view) if a.locale != locale]
    category, updated = article.front.category, article.updated_at
    return _page(
        "article.html",
        kb=kb,
        locale=locale,
        article=article,
        body=Markup(article_html(kb, article, view=view)),  # sanitised by nh3 in render_html
        toc=table_of_contents(article),
        category=Link(messages.category_name(locale, category), category_url(locale, category)) if category else None,
        updated=(updated.date().isoformat(), messages.format_date(locale, updated)) if updated else None,
        translations=[LanguageLink(a.locale, messages.LOCALE_NAMES[a.locale], article_url(a.id, a.locale), False) for a in translations],
        languages=language_links(locale, {a.locale: article_url(a.id, a.locale) for a in (article, *translations)}),
        description=lead(article),
    )


@router.get("/hc/{locale}/search")
def search_page(kb: KnowledgeBaseDep, view: ViewDep, locale: str, q: str = "", page: str = "1") -> Response:
    if locale not in LOCALES:
        return _not_found(kb, locale)
    query, number = q.strip(), page_number(page)
    values: dict[str, object] = {
        "query": query, "results": [], "total": None, "error": None,
        "pages": [], "page": number, "last_page": 0, "previous_url": None, "next_url": None,
    }  # fmt: skip
    status = 200
    if query:
        try:
            found = _search(kb, view, query=query, locale=locale, page=number)
        except InvalidRequest as error:
            values["error"], status = error.message, 400
        else:
            if not found.hits and number > 1:  # past the end, e.g. an old link after a reindex
                return _redirect(search_url(locale, query, last_page(found.total)))
            values |= result_page(found, locale=locale, query=query, page=number)
    if not values["results"]:
        values["groups"] = category_groups(kb.articles(view=view, filters=Filters(locale=locale)), locale, per_group=0)
    urls = {code: search_url(code, query) if query else f"/hc/{code}/search" for code in LOCALES}
    return _page("search.html", kb=kb, locale=locale, status=status, languages=language_links(locale, urls), **values)


def _search(kb: KnowledgeBase, view: View, *, query: str, locale: str, page: int) -> Results:
    request = SearchRequest(
        query=query, locale=locale, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, max_query_chars=kb.settings.max_query_chars
    )
    return kb.search(request, view=view).results


@router.get("/hc/{rest:path}")
def unknown_page(kb: KnowledgeBaseDep, rest: str) -> Response:
    """Anything else under /hc gets the site's own 404 page (a trailing slash is forgiven) rather than JSON."""
    if rest.endswith("/"):
        return _redirect("/hc/" + rest.rstrip("/") if rest.strip("/") else f"/hc/{DEFAULT_LOCALE}")
    return _not_found(kb, rest.split("/", 1)[0])
