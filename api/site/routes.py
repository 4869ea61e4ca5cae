"""The help-center pages (home, category, article, search, a friendly 404) over the PUBLIC view, with static files."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from markupsafe import Markup
from starlette.types import Scope

from api.deps import KnowledgeBaseDep, ViewDep
from api.rendering import article_html
from api.schemas import article_url
from api.site import messages
from articles.model import LOCALES, Article
from kb.knowledge_base import KnowledgeBase
from kb.requests import MAX_OFFSET, InvalidRequest, SearchRequest
from search.snapshot import Filters, Hit

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
STATIC_URL = "/hc/static"
DEFAULT_LOCALE = "en"
PAGE_SIZE = 10
MAX_PAGE = MAX_OFFSET // PAGE_SIZE + 1
"""The last page whose offset kb accepts; later pages are clamped to it rather than refused."""
HOME_ARTICLES = 6
"""Articles listed per category card on the home page; the category page lists them all."""
SUGGESTIONS = 5

SECURITY_HEADERS = {
    # No inline script or style anywhere: search.js and site.css are files, and the article HTML has
    # its only style attribute (table alignment) turned into classes by _without_inline_styles.
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


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class CategoryGroup:
    slug: str
    name: str
    description: str
    url: str | None
    articles: list[Link]
    total: int


@dataclass(frozen=True)
class LanguageLink:
    locale: str
    name: str
    url: str
    current: bool


@dataclass(frozen=True)
class TocEntry:
    anchor: str
    title: str
    level: int


@dataclass(frozen=True)
class ResultView:
    title: str
    url: str
    path: str
    snippet: Markup


# -- responses ---------------------------------------------------------------------------------------------


def _secured(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def _redirect(url: str) -> Response:
    return _secured(RedirectResponse(url, status_code=307))


def _page(template: str, *, locale: str, status: int = 200, languages: list[LanguageLink] | None = None, **values: object) -> Response:
    t = messages.MESSAGES[locale]
    context = {
        "locale": locale,
        "t": t,
        "static": static_url,
        "home_url": f"/hc/{locale}",
        "search_url": f"/hc/{locale}/search",
        "suggestions": SUGGESTIONS,
        "languages": languages or _language_links(locale, {code: f"/hc/{code}" for code in LOCALES}),
        "description": "",
        **values,
    }
    html = _templates.get_template(template).render(context)
    return _secured(HTMLResponse(html, status_code=status))


def _not_found(kb: KnowledgeBase, locale: str) -> Response:
    """One page for every missing thing, built from the locale alone: a hidden article looks exactly like a missing one."""
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    return _page("not_found.html", locale=locale, status=404, max_query=kb.settings.max_query_chars)


def _language_links(locale: str, urls: dict[str, str]) -> list[LanguageLink]:
    return [
        LanguageLink(locale=code, name=messages.LOCALE_NAMES[code], url=urls.get(code, f"/hc/{code}"), current=code == locale)
        for code in LOCALES
    ]


# -- view models -------------------------------------------------------------------------------------------


def _category_url(locale: str, slug: str) -> str:
    return f"/hc/{locale}/categories/{slug}"


def _by_title(articles: Iterable[Article]) -> list[Article]:
    return sorted(articles, key=lambda article: article.title.casefold())


def _groups(articles: list[Article], locale: str, *, per_group: int | None = None) -> list[CategoryGroup]:
    """Articles by category in the help center's topic order; articles without a category come last."""
    slugs = sorted({a.front.category for a in articles if a.front.category}, key=messages.category_sort_key)
    groups = []
    for slug in [*slugs, None]:
        members = _by_title(a for a in articles if a.front.category == slug)
        if not members:
            continue
        groups.append(
            CategoryGroup(
                slug=slug or "",
                name=messages.category_name(locale, slug) if slug else messages.MESSAGES[locale]["other_articles"],
                description=messages.category_description(locale, slug) if slug else "",
                url=_category_url(locale, slug) if slug else None,
                articles=[Link(a.title, article_url(a.id, a.locale)) for a in members[:per_group]],
                total=len(members),
            )
        )
    return groups


def _toc(article: Article) -> list[TocEntry]:
    return [
        TocEntry(anchor=s.anchor, title=s.heading_path[-1], level=len(s.heading_path))
        for s in article.sections
        if s.anchor and s.heading_path
    ]


_ALIGN_STYLE = re.compile(r' style="text-align:(left|center|right)"')


def _without_inline_styles(html: str) -> str:
    """Table alignment as classes: the CSP forbids inline styles, and nh3 lets only text-align through."""
    return _ALIGN_STYLE.sub(r' class="align-\1"', html)


def _result(hit: Hit, locale: str) -> ResultView:
    article, chunk = hit.article, hit.chunk
    category = messages.category_name(locale, article.front.category) if article.front.category else ""
    return ResultView(
        title=article.title,
        url=article_url(article.id, article.locale, chunk.anchor),
        path=" › ".join(part for part in (category, *chunk.heading_path) if part),
        # The snippet is HTML-escaped by search.snippets with only <mark> added: the one field trusted as markup.
        snippet=Markup(hit.snippet),
    )


def _page_number(raw: str) -> int:
    """A page number from the query string; anything odd reads as the first page, far pages as the last one kb serves."""
    try:
        number = int(raw)
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)


def _search_url(locale: str, query: str, page: int = 1) -> str:
    params = {"q": query} | ({"page": str(page)} if page > 1 else {})
    return f"/hc/{locale}/search?{urlencode(params)}"


def _pages(locale: str, query: str, page: int, total: int) -> list[Link]:
    """Numbered page links around the current one (at most 7), as (label, url) pairs."""
    last = min(math.ceil(total / PAGE_SIZE), MAX_PAGE)
    first = max(1, min(page - 3, last - 6))
    return [Link(str(number), _search_url(locale, query, number)) for number in range(first, min(last, first + 6) + 1)]


# -- routes ------------------------------------------------------------------------------------------------


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
    t = messages.MESSAGES[locale]
    return _page(
        "home.html",
        locale=locale,
        groups=_groups(articles, locale, per_group=HOME_ARTICLES),
        max_query=kb.settings.max_query_chars,
        description=t["hero_lead"],
    )


@router.get("/hc/{locale}/categories/{category}")
def category_page(kb: KnowledgeBaseDep, view: ViewDep, locale: str, category: str) -> Response:
    if locale not in LOCALES:
        return _not_found(kb, locale)
    articles = kb.articles(view=view, filters=Filters(locale=locale, category=category))
    if not articles:  # a category of hidden articles only is as absent as one that does not exist
        return _not_found(kb, locale)
    group = _groups(articles, locale)[0]
    urls = {
        code: _category_url(code, category)
        for code in LOCALES
        if code == locale or kb.articles(view=view, filters=Filters(locale=code, category=category))
    }
    return _page(
        "category.html",
        locale=locale,
        group=group,
        languages=_language_links(locale, urls),
        max_query=kb.settings.max_query_chars,
        description=group.description,
    )


@router.get("/hc/{locale}/articles/{article_id}")
def article_page(kb: KnowledgeBaseDep, view: ViewDep, locale: str, article_id: str) -> Response:
    article = kb.article(article_id, locale=locale, view=view) if locale in LOCALES else None
    if article is None:
        return _not_found(kb, locale)
    translations = [a for a in kb.translations(article_id, view=view) if a.locale != locale]
    category = article.front.category
    updated = article.updated_at
    return _page(
        "article.html",
        locale=locale,
        article=article,
        body=Markup(_without_inline_styles(article_html(kb, article, view=view))),  # sanitised by nh3 in render_html
        toc=_toc(article),
        category=Link(messages.category_name(locale, category), _category_url(locale, category)) if category else None,
        updated=(updated.date().isoformat(), messages.format_date(locale, updated)) if updated else None,
        translations=[LanguageLink(a.locale, messages.LOCALE_NAMES[a.locale], article_url(a.id, a.locale), False) for a in translations],
        languages=_language_links(locale, {locale: article_url(article.id, locale)} | {a.locale: article_url(a.id, a.locale) for a in translations}),
        max_query=kb.settings.max_query_chars,
        description=_lead(article),
    )


def _lead(article: Article) -> str:
    lead = next((s.text for s in article.sections if not s.anchor), "")
    return " ".join(lead.split())[:160]


@router.get("/hc/{locale}/search")
def search_page(kb: KnowledgeBaseDep, view: ViewDep, locale: str, q: str = "", page: str = "1") -> Response:
    if locale not in LOCALES:
        return _not_found(kb, locale)
    query = q.strip()
    number = _page_number(page)
    values: dict[str, object] = {
        "query": query,
        "results": [],
        "total": None,
        "error": None,
        "pages": [],
        "page": number,
        "previous_url": None,
        "next_url": None,
        "last_page": 0,
        "max_query": kb.settings.max_query_chars,
        "languages": _language_links(locale, {code: _search_url(code, query) if query else f"/hc/{code}/search" for code in LOCALES}),
    }
    status = 200
    if query:
        try:
            request = SearchRequest(
                query=query, locale=locale, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE,
                max_query_chars=kb.settings.max_query_chars,
            )  # fmt: skip
        except InvalidRequest as error:
            values["error"], status = error.message, 400
        else:
            results = kb.search(request, view=view).results
            last = min(math.ceil(results.total / PAGE_SIZE), MAX_PAGE)
            values |= {
                "results": [_result(hit, locale) for hit in results.hits],
                "total": results.total,
                "pages": _pages(locale, query, number, results.total) if last > 1 else [],
                "previous_url": _search_url(locale, query, number - 1) if number > 1 else None,
                "next_url": _search_url(locale, query, number + 1) if number < last else None,
                "last_page": last,
            }
    if not values["results"]:
        values["groups"] = _groups(kb.articles(view=view, filters=Filters(locale=locale)), locale, per_group=0)
    return _page("search.html", locale=locale, status=status, **values)


@router.get("/hc/{rest:path}")
def unknown_page(kb: KnowledgeBaseDep, rest: str) -> Response:
    """Anything else under /hc gets the site's own 404 page (a trailing slash is forgiven) rather than JSON."""
    if rest.endswith("/"):
        return _redirect("/hc/" + rest.rstrip("/") if rest.strip("/") else f"/hc/{DEFAULT_LOCALE}")
    return _not_found(kb, rest.split("/", 1)[0])
