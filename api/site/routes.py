"""The help-center pages (home, category, article, search, a friendly 404) over the PUBLIC view, with static files."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import time
from functools import cache, lru_cache, partial
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import jinja2
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from api.deps import SESSION_COOKIE, STAFF_COOKIE, KnowledgeBaseDep, customer, principal_of
from api.rendering import article_html
from api.schemas import article_url
from api.site import contact, messages, seo, votes
from api.site.dashboard import (
    GAP_QUERIES,
    RANKED_ROWS,
    behind_originals,
    dashboard,
    dashboard_gaps,
    due_for_review,
    gap_templates,
    possible_contradictions,
    shown_rows,
)
from api.site.dashboard import TABLES as DASHBOARD_TABLES
from api.site.pagecache import PageCache, etag_of, matches
from api.site.seo import PageMeta
from api.site.views import (
    PAGE_SIZE,
    ArticleFeedback,
    LanguageLink,
    Link,
    announcement_notice,
    banners,
    category_facets,
    category_groups,
    category_url,
    feedback_view,
    language_links,
    last_page,
    lead,
    page_number,
    popular,
    result_page,
    search_url,
    table_of_contents,
    translation_note,
)
from articles.model import LOCALES, Article
from kb.access import PUBLIC, STAFF_ROLES, WRITER_ROLES, Principal, View, authenticate, key_principal, session_key, session_token
from kb.access.keys import SESSION_HOURS
from kb.analytics import SEARCH_ID, SURFACES, Period, SearchEvent, elapsed_ms
from kb.assist import feedback_summary
from kb.core import LOGO_TYPES, MAX_OFFSET, Colors, InvalidRequest, KnowledgeBase, Line, Prose, SearchRequest, SiteConfig, SiteLink, Support
from kb.writing import ProposalRefused, UnknownOrigin, UnknownTopic, find_topic, gap_proposal, history_page, is_behind, restore_article
from search.snapshot import Filters, Results

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
STATIC_URL = "/hc/static"
HOME_ARTICLES = 6
"""Articles listed per category card on the home page; the category page lists them all."""
HISTORY_ROWS = 30
"""Commits on a page of an article's history."""
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


def _page(
    template: str,
    *,
    kb: KnowledgeBase,
    locale: str,
    view: View = PUBLIC,
    status: int = 200,
    meta: PageMeta | None = None,
    **values: object,
) -> Response:
    """A page of the site; ``meta`` (canonical address, the page in other locales) for every page a crawler
    should index, none for error pages, which say ``noindex``."""
    site = kb.site()
    context = {
        "site_name": site.site_name(locale),
        "brand_css": brand_css_url(site.colors),
        "logo_url": logo_url(kb),
        "contact": _link(site, site.contact, locale) if site.contact else None,
        "footer_links": [_link(site, link, locale) for link in site.footer_links],
        "signed_in": view.signed_in,
        "staff": view.staff,
        "locale": locale,
        "t": messages.MESSAGES[locale],
        "static": static_url,
        "home_url": f"/hc/{locale}",
        "search_url": f"/hc/{locale}/search",
        "suggestions": SUGGESTIONS,
        "max_query": kb.settings.max_query_chars,
        "languages": language_links(locale, dict(meta.alternates) if meta else {}),
        "description": "",
        "meta": meta,
        "banners": banners(kb.announcements(view=view, locale=locale), locale),
        "og_locales": seo.OG_LOCALES,
        "language_names": messages.LANGUAGE_NAMES[locale],
        "json_ld": seo.json_ld,
        **values,
    }
    html = _templates.get_template(template).render(context)
    return _secured(HTMLResponse(html, status_code=status))


def _link(site: SiteConfig, link: SiteLink, locale: str) -> Link:
    return Link(site.text(link.label, locale), link.url)


@lru_cache(maxsize=8)
def brand_css_url(colors: Colors) -> str:
    """The brand colours' stylesheet, named after them, so a change of colour is never served from a cache."""
    return f"/hc/brand.css?v={_digest(colors.model_dump_json().encode())}"


def logo_url(kb: KnowledgeBase) -> str | None:
    logo = kb.logo()
    return f"/hc/brand/logo?v={_digest(logo)}" if logo is not None else None


@lru_cache(maxsize=8)
def _digest(data: bytes) -> str:
    """A short content hash, once per logo or colour set (the bytes object kb keeps per commit hashes once)."""
    return hashlib.sha256(data).hexdigest()[:10]


@router.get("/hc/brand.css")
def brand_css(kb: KnowledgeBaseDep) -> Response:
    """.kb/site.yml's colours as the custom properties site.css reads (CSP allows no inline style)."""
    colors = kb.site().colors
    css = (
        f":root {{ --brand: {colors.brand}; --brand-dark: color-mix(in srgb, {colors.brand} 82%, black); }}\n"
        f"@media (prefers-color-scheme: dark) {{ :root {{ --brand-on-dark: {colors.brand_on_dark}; }} }}\n"
    )
    response = Response(css, media_type="text/css")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return _secured(response)


@router.get("/hc/brand/logo")
def brand_logo(kb: KnowledgeBaseDep) -> Response:
    """The logo .kb/site.yml names, from the served commit; an SVG cannot run script or load anything."""
    site, logo = kb.site(), kb.logo()
    if logo is None or site.logo is None:
        return _not_found(kb, site.default_locale)
    suffix = "." + site.logo.rsplit(".", 1)[-1].lower()
    response = Response(logo, media_type=LOGO_TYPES[suffix])
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    _secured(response).headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response


def _not_found(kb: KnowledgeBase, locale: str) -> Response:
    """One page for every missing thing, built from the locale alone: a hidden article looks exactly like a missing one."""
    return _unavailable(kb, locale, 404, "not_found")


def is_site_page(path: str) -> bool:
    """Whether a request is for a help-center page, answered in HTML rather than problem+json."""
    return (path == "/" or path == "/hc" or path.startswith("/hc/")) and not path.startswith(STATIC_URL)


def invalid_input(request: Request, error: Exception) -> Response:
    """A page, in the reader's locale, for an address whose text kb refuses (a control character in it, say)."""
    return _unavailable(request.app.state.kb, request.path_params.get("locale", ""), 400, "bad_request")


def _unavailable(kb: KnowledgeBase, locale: str, status: int, message: str) -> Response:
    """The page for what the site cannot show, with the ``message`` title and lead of the reader's locale."""
    locale = _locale_or_default(kb, locale)
    t = messages.MESSAGES[locale]
    return _page("unavailable.html", kb=kb, locale=locale, status=status, code=status,
                 title=t[f"{message}_title"], lead=t[f"{message}_lead"])  # fmt: skip


class SessionRefused(Exception):
    """The site's session cookie holds a token kb refuses: answered with a page, and the cookie cleared."""


async def _site_principal(request: Request, kb: KnowledgeBaseDep) -> Principal:
    """The reader: a staff member signed in with a key, else who ``principal_of`` says (a customer, or anonymous)."""
    token = request.cookies.get(STAFF_COOKIE)
    if token is not None:
        record = await run_in_threadpool(partial(session_key, kb.engine, token, secret=kb.session_secret))
        if record is None or record.role not in STAFF_ROLES:
            raise SessionRefused("the staff sign-in has ended or its key was revoked")
        return key_principal(record)
    try:
        return await principal_of(request, kb)
    except HTTPException as refused:
        if refused.status_code == 401:
            raise SessionRefused(str(refused.detail)) from None
        raise


SitePrincipalDep = Annotated[Principal, Depends(_site_principal)]


async def _site_view(principal: SitePrincipalDep) -> View:
    return principal.view


SiteViewDep = Annotated[View, Depends(_site_view)]


async def _site_origin(request: Request, kb: KnowledgeBaseDep) -> str:
    return seo.site_origin(request, kb.settings)


SiteOriginDep = Annotated[str, Depends(_site_origin)]


def session_refused(request: Request, error: Exception) -> Response:
    """A 401 page, in the reader's locale, that signs them out: the next page they open is the public one."""
    locale = request.path_params.get("locale", "")
    kb: KnowledgeBase = request.app.state.kb
    response = _page("session_expired.html", kb=kb, locale=_locale_or_default(kb, locale), status=401)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(STAFF_COOKIE, path="/hc")
    return response


@router.get("/hc/session")
def sign_in(request: Request, kb: KnowledgeBaseDep, jwt: Line, return_to: Line = "") -> Response:
    """Where the company's login sends a customer: ``jwt`` is their token; the site keeps it in a cookie.

    ``return_to`` must be a page of this help center, so the link cannot send anyone elsewhere.
    """
    try:
        customer(kb.settings, jwt, source="the jwt parameter")
    except HTTPException as refused:
        raise SessionRefused(str(refused.detail)) from None
    response = _redirect(return_to if _on_this_site(return_to) else f"/hc/{kb.site().default_locale}")
    response.set_cookie(
        SESSION_COOKIE, jwt, httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _on_this_site(url: str) -> bool:
    """A path under /hc on this host: never another site, whatever the spelling."""
    try:
        target = urlsplit(url)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return False
    return not target.scheme and not target.netloc and target.path.startswith("/hc") and "\\" not in url


@router.get("/hc/staff/signin")
def staff_sign_in_page(kb: KnowledgeBaseDep, locale: Line = "", return_to: Line = "") -> Response:
    """Where a staff member signs in to the help center with their API key, to see what readers said of each article."""
    return _staff_form(kb, _locale_or_default(kb, locale), return_to)


@router.post("/hc/staff/signin")
def staff_sign_in(
    request: Request,
    kb: KnowledgeBaseDep,
    key: Annotated[Line, Form()] = "",
    locale: Annotated[Line, Form()] = "",
    return_to: Annotated[Line, Form()] = "",
) -> Response:
    """A staff key (agent, writer, reviewer, admin) starts a session of :data:`SESSION_HOURS` hours; the key is not kept."""
    locale = _locale_or_default(kb, locale)
    if not _same_site(request):
        return _unavailable(kb, locale, 403, "forbidden")
    record = authenticate(kb.engine, key.strip()) if key.strip() else None
    t = messages.MESSAGES[locale]
    if record is None:
        return _staff_form(kb, locale, return_to, error=t["staff_key_refused"], status=401)
    if record.role not in STAFF_ROLES:
        return _staff_form(kb, locale, return_to, error=t["staff_key_not_staff"], status=403)
    response = RedirectResponse(return_to if _on_this_site(return_to) else f"/hc/{locale}", status_code=303)
    token, https = session_token(record, secret=kb.session_secret), request.url.scheme == "https"
    response.set_cookie(STAFF_COOKIE, token, max_age=SESSION_HOURS * 3600, path="/hc", httponly=True, samesite="strict", secure=https)
    response.headers["Cache-Control"] = "no-store"
    return _secured(response)


@router.post("/hc/staff/signout")
def staff_sign_out(request: Request, kb: KnowledgeBaseDep, locale: Annotated[Line, Form()] = "") -> Response:
    locale = _locale_or_default(kb, locale)
    if not _same_site(request):
        return _unavailable(kb, locale, 403, "forbidden")
    response = RedirectResponse(f"/hc/{locale}", status_code=303)
    response.delete_cookie(STAFF_COOKIE, path="/hc")
    return _secured(response)


def _staff_form(kb: KnowledgeBase, locale: str, return_to: str, *, error: str = "", status: int = 200) -> Response:
    response = _page("staff_signin.html", kb=kb, locale=locale, status=status, error=error,
                     return_to=return_to if _on_this_site(return_to) else "")  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return response


def _locale_or_default(kb: KnowledgeBase, locale: str) -> str:
    """``locale`` when kb has it, else the help center's default: for pages any path or form may ask for."""
    return locale if locale in LOCALES else kb.site().default_locale


@router.get("/hc/signout")
def sign_out(kb: KnowledgeBaseDep, locale: Line = "") -> Response:
    response = _redirect(f"/hc/{_locale_or_default(kb, locale)}")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
def root(kb: KnowledgeBaseDep) -> Response:
    return _redirect(f"/hc/{kb.site().default_locale}")


@router.get("/hc")
def help_center_root(kb: KnowledgeBaseDep) -> Response:
    return _redirect(f"/hc/{kb.site().default_locale}")


@router.get("/hc/{locale}")
def home(kb: KnowledgeBaseDep, view: SiteViewDep, origin: SiteOriginDep, locale: Line, untranslated: Line = "") -> Response:
    """The help center's home; ``?untranslated=1``: the language switch came from a page this language lacks."""
    if locale not in LOCALES:
        return _not_found(kb, locale)
    articles, site = kb.articles(view=view, filters=Filters(locale=locale)), kb.site()
    reader = messages.LANGUAGE_NAMES[locale][locale]
    return _page(
        "home.html",
        kb=kb,
        locale=locale,
        view=view,
        meta=PageMeta(origin, f"/hc/{locale}", {code: f"/hc/{code}" for code in LOCALES}, site.default_locale),
        groups=category_groups(_offered(kb, view, locale), locale, site, per_group=HOME_ARTICLES),
        popular=popular(articles),
        switched_note=messages.MESSAGES[locale]["switched_note"].format(reader=reader) if untranslated else "",
        description=messages.MESSAGES[locale]["hero_lead"],
    )


@router.get("/hc/{locale}/categories/{category}")
def category_page(kb: KnowledgeBaseDep, view: SiteViewDep, origin: SiteOriginDep, locale: Line, category: Line) -> Response:
    if locale not in LOCALES:
        return _not_found(kb, locale)
    articles = _offered(kb, view, locale, category=category)
    if not articles:  # a category of hidden articles only is as absent as one that does not exist
        return _not_found(kb, locale)
    site = kb.site()
    group = category_groups(articles, locale, site)[0]
    translated = [code for code in LOCALES if kb.articles(view=view, filters=Filters(locale=code, category=category))]
    return _page(
        "category.html",
        kb=kb,
        locale=locale,
        view=view,
        meta=PageMeta(
            origin, category_url(locale, category), {code: category_url(code, category) for code in translated}, site.default_locale
        ),
        group=group,
        description=group.description,
    )


@router.get("/hc/{locale}/articles/{article_id}")
def article_page(
    request: Request,
    kb: KnowledgeBaseDep,
    principal: SitePrincipalDep,
    origin: SiteOriginDep,
    locale: Line,
    article_id: Line,
    voted: Line = "",
    s: Line = "",
    p: Line = "",
) -> Response:
    """An article, rendered once per commit, locale, view and what else it shows (`pagecache.py`), with an ETag.

    Read, it is a view event; reached from a results page (``s``: the search's id, ``p``: the result's place), a click too.
    """
    snapshot, view = kb.snapshot, principal.view
    article = _readable(kb, view, article_id, locale)
    if article is None:
        moved = kb.redirect(article_id, locale=locale, view=view) if locale in LOCALES else None
        return RedirectResponse(article_url(moved.id, moved.locale), 301) if moved else _not_found(kb, locale)
    vote_state = voted if voted in VOTE_STATES else None
    if vote_state is None:  # after a vote the page comes back: not read again
        _record_reading(kb, principal, article, search_id=s, position=p)
    now = dt.datetime.now(dt.UTC)
    news = [(a.id, a.locale) for a in kb.announcements(view=view, locale=locale, moment=now)]
    notice = announcement_notice(article, now)
    if view.staff:  # what readers said changes with every vote: rendered each time, never cached
        response = _article(kb, view, origin, article, locale, vote_state=vote_state, moment=now, feedback=_feedback(kb, article, locale))
        response.headers["Cache-Control"] = "private, no-store"
        return response
    etag = etag_of(snapshot.commit, locale, article.key, view, origin, news, notice.state if notice else "", vote_state)
    cache: PageCache = request.app.state.page_cache
    if matches(request.headers.get("if-none-match"), etag):
        response = Response(status_code=304)
    elif (page := cache.get(etag)) is not None:
        response = HTMLResponse(page)
    else:
        response = _article(kb, view, origin, article, locale, vote_state=vote_state, moment=now)
        cache.put(etag, bytes(response.body))
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "no-cache"  # revalidate: a 304 costs a lookup, and a merge shows at once
    return _secured(response)


def _record_reading(kb: KnowledgeBase, principal: Principal, article: Article, *, search_id: str, position: str) -> None:
    """A view of ``article``, and the click that led to it when the link came from a results page (odd values: no click)."""
    if re.fullmatch(SEARCH_ID, search_id) and re.fullmatch(r"[0-9]{1,5}", position) and 1 <= int(position) <= MAX_OFFSET + PAGE_SIZE:
        kb.events.click(
            surface="site", search_id=search_id, article_id=article.id, locale=article.locale, position=int(position), principal=principal
        )
    kb.events.view(surface="site", article_id=article.id, locale=article.locale, principal=principal)


def _readable(kb: KnowledgeBase, view: View, article_id: str, locale: str) -> Article | None:
    """The article in ``locale``; without a translation there, in the default language (then any) it exists in."""
    if locale not in LOCALES:
        return None
    article = kb.article(article_id, locale=locale, view=view)
    if article is not None:
        return article
    default = kb.site().default_locale
    others = sorted(kb.translations(article_id, view=view), key=lambda a: (a.locale != default, a.locale))
    return others[0] if others else None


def _offered(kb: KnowledgeBase, view: View, locale: str, *, category: str | None = None) -> list[Article]:
    """What a listing in ``locale`` offers: its articles, and the default language's ones not translated yet."""
    own = kb.articles(view=view, filters=Filters(locale=locale, category=category))
    default = kb.site().default_locale
    if locale == default:
        return own
    translated = {a.id for a in own}
    untranslated = [a for a in kb.articles(view=view, filters=Filters(locale=default, category=category)) if a.id not in translated]
    return own + untranslated


VOTE_STATES = ("thanks", "sorry", "already")
"""What the article says where its vote form was, after a vote (``?voted=``: the page stays the same for everyone else)."""


def _article(
    kb: KnowledgeBase,
    view: View,
    origin: str,
    article: Article,
    locale: str,
    *,
    vote_state: str | None = None,
    vote_error: str | None = None,
    moment: dt.datetime | None = None,
    feedback: ArticleFeedback | None = None,
) -> Response:
    """``article`` on a page in ``locale``: its own language's, or another's while it is not translated yet; with what
    readers said of it (``feedback``) for staff."""
    article_id = article.id
    translations = [a for a in kb.translations(article_id, view=view) if a.locale != article.locale]
    category, updated = article.front.category, article.updated_at
    site = kb.site()
    original = next((a for a in translations if a.locale == site.default_locale), None)
    crumbs = [(site.site_name(locale), f"{origin}/hc/{locale}")]
    if category:
        crumbs.append((site.category_name(category, locale), origin + category_url(locale, category)))
    path = article_url(article_id, article.locale)
    crumbs.append((article.title, origin + path))
    description = lead(article)
    structured = seo.article_structured_data(
        article, url=origin + path, description=description, site_name=site.site_name(locale), breadcrumb=crumbs
    )
    alternates = {a.locale: article_url(a.id, a.locale) for a in sorted((article, *translations), key=lambda a: a.locale)}
    return _page(
        "article.html",
        kb=kb,
        locale=locale,
        view=view,
        status=400 if vote_error else 200,
        article=article,
        body=Markup(article_html(kb, article, view=view)),  # sanitised by nh3 in render_html
        toc=table_of_contents(article),
        related=[Link(r.title, article_url(r.id, r.locale)) for r in kb.related(article, view=view)],
        category=Link(site.category_name(category, locale), category_url(locale, category)) if category else None,
        updated=(updated.date().isoformat(), messages.format_date(locale, updated)) if updated else None,
        translations=[LanguageLink(a.locale, messages.LOCALE_NAMES[a.locale], article_url(a.id, a.locale), False) for a in translations],
        meta=PageMeta(
            origin, path, alternates, site.default_locale, kind="article", structured_data=tuple(structured),
            indexable=article.locale == locale,  # an untranslated stand-in: its own page is the one to index
        ),
        translation_note=translation_note(article, locale, original, site.default_locale, behind=_behind(kb, article, original)),
        description=description,
        announcement=announcement_notice(article, moment or dt.datetime.now(dt.UTC)),
        vote_url=f"{article_url(article_id, locale)}/vote",
        vote_reasons=votes.REASONS,
        vote_state=vote_state,
        vote_error=vote_error,
        support_url=_support_url(kb, locale, article, None) if vote_state == "sorry" else None,
        feedback=feedback,
    )


def _behind(kb: KnowledgeBase, translation: Article, original: Article | None) -> bool | None:
    """Whether a translation that names the commit it was made from (``translated_from``) is behind its original;
    None when it names none, or one that is no commit here: the page then judges by dates."""
    if translation.front.translated_from is None or original is None or original.key == translation.key:
        return None
    with kb.open_repo() as repo:
        try:
            return is_behind(repo, translation, original)
        except UnknownOrigin:
            return None


def _feedback(kb: KnowledgeBase, article: Article, locale: str) -> ArticleFeedback:
    """What readers, agents and bots said of ``article`` (its locale's), for its staff view."""
    return feedback_view(feedback_summary(kb.engine, article.id, locale=article.locale), article, locale)


def _support_url(kb: KnowledgeBase, locale: str, article: Article | None, reason: str | None, query: str = "") -> str | None:
    """The contact page with what the reader did, when the company names a way to reach a person."""
    if kb.site().support is None:
        return None
    trail = contact.Trail(locale=locale, query=query, articles=(article,) if article else (), reason=reason or "")
    return contact.contact_url(locale, trail)


@router.get("/hc/{locale}/contact")
def contact_page(
    kb: KnowledgeBaseDep, view: SiteViewDep, origin: SiteOriginDep, locale: Line, q: Prose = "", read: Line = "", reason: Line = ""
) -> Response:
    """How to reach a person, with the search, the articles read and the vote's reason carried along."""
    support = kb.site().support
    if locale not in LOCALES or support is None:
        return _not_found(kb, locale)
    try:
        trail = contact.read_trail(kb, view, locale=locale, query=q, read=read, reason=reason)
    except InvalidRequest:
        trail = contact.Trail(locale=locale, query=q.strip()[:500])  # a mangled trail is dropped, never a dead end
    return _contact(kb, view, origin, support, trail)


def _contact(
    kb: KnowledgeBase, view: View, origin: str, support: Support, trail: contact.Trail, *, status: int = 200, **values: object
) -> Response:
    locale = trail.locale
    if support.url:
        action: str | None = contact.helpdesk_url(support.url, trail, origin)
    else:
        action = contact.mailto(support.email, trail, origin) if support.email else None
    pages = {code: f"/hc/{code}/contact" for code in LOCALES}
    return _page(
        "contact.html", kb=kb, locale=locale, view=view, status=status,
        meta=PageMeta(origin, pages[locale], pages, kb.site().default_locale, indexable=False),
        kind=support.kind, action_url=action, address=support.email,
        trail_lines=trail.summary(origin).split("\n"), trail_params=trail.params(), **values,
    )  # fmt: skip


@router.post("/hc/{locale}/contact")
def send_contact(
    request: Request,
    kb: KnowledgeBaseDep,
    view: SiteViewDep,
    origin: SiteOriginDep,
    locale: Line,
    email: Annotated[Line, Form()] = "",
    message: Annotated[Prose, Form()] = "",
    trail: Annotated[Line, Form()] = "",
) -> Response:
    """A request the reader writes on the site, posted to the company's webhook with their trail."""
    support = kb.site().support
    if locale not in LOCALES or support is None or support.webhook is None:
        return _not_found(kb, locale)
    if not _same_site(request):
        return _unavailable(kb, locale, 403, "forbidden")
    params = dict(parse_qsl(trail))
    try:
        carried = contact.read_trail(
            kb, view, locale=locale, query=params.get("q", ""), read=params.get("read", ""), reason=params.get("reason", "")
        )
    except InvalidRequest:
        carried = contact.Trail(locale=locale)
    typed = {"email": email, "message": message}
    try:
        checked_email, checked_message = contact.checked_message(email, message)
    except InvalidRequest as refused:
        return _contact(kb, view, origin, support, carried, status=400, error=refused.message, field=refused.field, **typed)
    try:
        contact.post_to_webhook(support, carried, origin, email=checked_email, message=checked_message)
    except contact.WebhookFailed as failed:
        log.warning("the support webhook did not take a contact request: %s", failed)
        failure = messages.MESSAGES[locale]["contact_failed"]
        return _contact(kb, view, origin, support, carried, status=502, error=failure, field="", **typed)
    return _page("contact.html", kb=kb, locale=locale, view=view, kind="sent", trail_lines=[], trail_params="", action_url=None)


@router.post("/hc/{locale}/articles/{article_id}/vote")
def vote_on_article(
    request: Request,
    kb: KnowledgeBaseDep,
    principal: SitePrincipalDep,
    origin: SiteOriginDep,
    locale: Line,
    article_id: Line,
    vote: Annotated[Line, Form()] = "",
    reason: Annotated[Line, Form()] = "",
    comment: Annotated[Prose, Form()] = "",
) -> Response:
    """A reader's "was this article helpful?" (`api/site/votes.py`): the article again with thanks, or JSON for vote.js."""
    article = _readable(kb, principal.view, article_id, locale)
    if article is None:
        return _not_found(kb, locale)
    if not _same_site(request):
        return _unavailable(kb, locale, 403, "forbidden")
    as_json = "application/json" in request.headers.get("accept", "")
    try:
        ballot = votes.Vote(vote, reason or None, comment)
        recorded, cookie = votes.cast(kb, article, ballot, principal=principal, cookie=request.cookies.get(votes.VOTES_COOKIE))
    except InvalidRequest as refused:
        if as_json:
            return _secured(JSONResponse({"field": refused.field, "detail": refused.message}, status_code=400))
        return _article(kb, principal.view, origin, article, locale, vote_error=refused.message)
    state = "already" if not recorded else "sorry" if ballot.outcome == "not_helpful" else "thanks"  # one of VOTE_STATES
    if recorded and (search_id := _search_led_here(request, article)) is not None:
        kb.events.vote(
            surface="site", search_id=search_id, article_id=article.id, locale=article.locale, outcome=ballot.outcome, principal=principal
        )
    if as_json:
        reached = _support_url(kb, locale, article, ballot.reason) if state == "sorry" else None
        body = {"recorded": recorded, "message": messages.MESSAGES[locale][f"vote_{state}"], "contact_url": reached}
        response: Response = JSONResponse(body)
    else:
        response = RedirectResponse(f"{article_url(article.id, locale)}?voted={state}#vote", status_code=303)
    response.set_cookie(
        votes.VOTES_COOKIE, cookie, max_age=votes.COOKIE_DAYS * 86400, path="/hc", httponly=True, samesite="lax",
        secure=request.url.scheme == "https",
    )  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return _secured(response)


def _search_led_here(request: Request, article: Article) -> str | None:
    """The search a vote's article was reached from: the page that posted it (its Referer, same site, this article)
    carries the results link's ``s=``. A browser that sends no Referer ties no vote to a search, and nothing else is lost."""
    try:
        page = urlsplit(request.headers.get("referer", ""))
    except ValueError:
        return None
    if page.netloc != request.headers.get("host", "") or page.path != article_url(article.id, article.locale):
        return None
    search_id = parse_qs(page.query).get("s", [""])[0]
    return search_id if re.fullmatch(SEARCH_ID, search_id) else None


def _same_site(request: Request) -> bool:
    """A form post from this help center's own pages: a browser names the page's origin, and another site's is refused."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    try:
        return urlsplit(origin).netloc == request.headers.get("host", "")
    except ValueError:  # e.g. an unbalanced IPv6 bracket: no origin this site could have
        return False


@router.get("/hc/{locale}/articles/{article_id}/history")
def article_history(
    kb: KnowledgeBaseDep, principal: SitePrincipalDep, locale: Line, article_id: Line, cursor: Line = "", proposed: Line = ""
) -> Response:
    """An article's commits for staff, newest first; a writer may restore any earlier one as a proposal. A 404 for readers."""
    article = _readable(kb, principal.view, article_id, locale)
    if article is None or not principal.view.staff:
        return _not_found(kb, locale)
    return _history(kb, principal, article, locale, cursor=cursor, notice=_proposed_notice(locale, "history_proposed", proposed))


@router.post("/hc/{locale}/articles/{article_id}/restore")
def restore_from_history(
    request: Request, kb: KnowledgeBaseDep, principal: SitePrincipalDep, locale: Line, article_id: Line,
    revision: Annotated[Line, Form()] = "",
) -> Response:  # fmt: skip
    """A writer's "restore this version" from the history page: a proposal, then the history again saying so."""
    article = _readable(kb, principal.view, article_id, locale)
    if article is None or not principal.view.staff:
        return _not_found(kb, locale)
    if not _same_site(request) or principal.kind not in WRITER_ROLES:
        return _unavailable(kb, locale, 403, "forbidden")
    author = principal.name or principal.kind
    try:
        record = restore_article(kb, article, revision, at=kb.snapshot.commit, author=author)
    except (InvalidRequest, ProposalRefused) as refused:
        return _history(kb, principal, article, locale, error=str(refused), status=400)
    response = RedirectResponse(f"{article_url(article.id, article.locale)}/history?proposed={record.id}", status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return _secured(response)


def _proposed_notice(locale: str, key: str, proposed: str) -> str:
    """The page's message ``key`` naming proposal ``proposed`` (from the URL it was sent back to), if that is an id."""
    return messages.MESSAGES[locale][key].format(id=proposed) if re.fullmatch(r"[0-9]{1,10}", proposed) else ""


def _history(
    kb: KnowledgeBase, principal: Principal, article: Article, locale: str, *, cursor: str = "", notice: str = "", error: str = "",
    status: int = 200,
) -> Response:  # fmt: skip
    read = partial(history_page, article=article, at=kb.snapshot.commit, view=principal.view, limit=HISTORY_ROWS)
    with kb.open_repo() as repo:
        try:
            page = read(repo, cursor=cursor or None)
        except InvalidRequest as refused:  # a cursor of another article, or made up: the first page, and why
            page, error, status = read(repo, cursor=None), refused.message, 400
    url = article_url(article.id, article.locale)
    response = _page(
        "history.html", kb=kb, locale=locale, view=principal.view, status=status, article=article, article_url=url,
        revisions=page.revisions, next_url=f"{url}/history?cursor={page.next_cursor}" if page.next_cursor else None,
        can_restore=principal.kind in WRITER_ROLES, restore_url=f"{url}/restore", notice=notice, error=error,
    )  # fmt: skip
    response.headers["Cache-Control"] = "private, no-store"
    return response


@router.get("/hc/{locale}/staff/dashboard")
def staff_dashboard(
    kb: KnowledgeBaseDep, principal: SitePrincipalDep, locale: Line, since: Line = "", until: Line = "", language: Line = "",
    surface: Line = "", proposed: Line = "",
) -> Response:  # fmt: skip
    """The reports at a glance for staff signed in to the site (`dashboard.py`); the site's 404 for anyone else.

    A bad filter (a date that is none, a range too long) says so above the default period's figures (400).
    """
    if locale not in LOCALES or not principal.view.staff:
        return _not_found(kb, locale)
    try:
        period = Period.checked(since=_day(since, "since"), until=_day(until, "until"), locale=language or None, surface=surface or None)
        error = ""
    except InvalidRequest as refused:
        period, error = Period.checked(), f"{refused.field}: {refused.message}"
    return _dashboard(kb, principal, locale, period, error=error, notice=_proposed_notice(locale, "dash_proposed", proposed))


@router.post("/hc/{locale}/staff/gaps/{topic_id}/proposal")
def propose_for_gap(
    request: Request, kb: KnowledgeBaseDep, principal: SitePrincipalDep, locale: Line, topic_id: Line,
    template: Annotated[Line, Form()] = "", since: Annotated[Line, Form()] = "", until: Annotated[Line, Form()] = "",
    language: Annotated[Line, Form()] = "", surface: Annotated[Line, Form()] = "",
) -> Response:  # fmt: skip
    """A writer's "propose a draft" on a content gap of the dashboard: a proposal, then the dashboard again saying so."""
    if locale not in LOCALES or not principal.view.staff:
        return _not_found(kb, locale)
    if not _same_site(request) or principal.kind not in WRITER_ROLES:
        return _unavailable(kb, locale, 403, "forbidden")
    period = Period.checked()
    try:
        period = Period.checked(since=_day(since, "since"), until=_day(until, "until"), locale=language or None, surface=surface or None)
        topic = find_topic(kb, topic_id, period, most_failed=GAP_QUERIES)  # grouped as the dashboard listing it was
        record = gap_proposal(kb, topic, at=kb.snapshot.commit, author=principal.name or principal.kind, template=template or None)
    except (InvalidRequest, ProposalRefused, UnknownTopic) as refused:
        return _dashboard(kb, principal, locale, period, error=str(refused), status=400)
    query = urlencode({"since": period.since, "until": period.until, "language": language, "surface": surface, "proposed": record.id})
    response = RedirectResponse(f"/hc/{locale}/staff/dashboard?{query}", status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return _secured(response)


def _dashboard(
    kb: KnowledgeBase, principal: Principal, locale: str, period: Period, *, error: str = "", notice: str = "", status: int | None = None
) -> Response:
    dash, gaps = dashboard(kb.engine, period), dashboard_gaps(kb, period)
    can_propose = principal.kind in WRITER_ROLES
    response = _page(
        "dashboard.html", kb=kb, locale=locale, view=principal.view, status=status or (400 if error else 200), error=error,
        notice=notice, dash=dash, rows={name: shown_rows(kb, report) for name, report in dash.reports.items()},
        tables=DASHBOARD_TABLES, locales=LOCALES, surfaces=SURFACES, action=f"/hc/{locale}/staff/dashboard",
        due=due_for_review(kb, dash, gaps), gaps=gaps[:RANKED_ROWS], behind=behind_originals(kb),
        contradictions=possible_contradictions(kb), can_propose=can_propose, templates=gap_templates(kb) if can_propose else {},
    )  # fmt: skip
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _day(value: str, field: str) -> dt.date | None:
    """A filter's date as a date input sends it (YYYY-MM-DD); empty: the default."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(field, f"{value!r} is not a date (YYYY-MM-DD)") from None


@router.get("/hc/{locale}/search")
def search_page(
    kb: KnowledgeBaseDep,
    principal: SitePrincipalDep,
    origin: SiteOriginDep,
    locale: Line,
    q: Prose = "",
    page: Line = "1",
    category: Line = "",
) -> Response:
    if locale not in LOCALES:
        return _not_found(kb, locale)
    query, number, site, view = q.strip(), page_number(page), kb.site(), principal.view
    values: dict[str, object] = {
        "query": query, "results": [], "total": None, "error": None, "facets": [],
        "pages": [], "page": number, "last_page": 0, "previous_url": None, "next_url": None,
        "support_url": _support_url(kb, locale, None, None, query) if query else None,
    }  # fmt: skip
    status = 200
    if query:
        try:
            started = time.perf_counter()
            found = _search(kb, view, query=query, locale=locale, page=number, category=category)
            hits = [hit.article.id for hit in found.hits]
            search_id = kb.events.search(SearchEvent("site", query, locale, "hybrid", hits, found.total, elapsed_ms(started)), principal)
            # Each topic's count is over the whole query, so the other topics stay reachable from a filtered page.
            every = _search(kb, view, query=query, locale=locale, page=1) if category else found
        except InvalidRequest as error:
            values["error"], status = error.message, 400
        else:
            if not found.hits and number > 1:  # past the end, e.g. an old link after a reindex
                return _redirect(search_url(locale, query, last_page(found.total), category))
            values |= result_page(found, locale=locale, query=query, page=number, site=site, category=category, search_id=search_id)
            counts = every.facets.get("category", {})
            if len(counts) > 1 or category:
                values["facets"] = category_facets(counts, locale=locale, query=query, category=category, site=site)
    if not values["results"]:
        values["groups"] = category_groups(kb.articles(view=view, filters=Filters(locale=locale)), locale, kb.site(), per_group=0)
    urls = {code: search_url(code, query) if query else f"/hc/{code}/search" for code in LOCALES}
    # Results pages are for readers, not for an index: endless and thin, they say noindex (robots.txt skips them too).
    meta = PageMeta(origin, search_url(locale, query, number) if query else urls[locale], urls, kb.site().default_locale, indexable=False)
    return _page("search.html", kb=kb, locale=locale, view=view, status=status, meta=meta, **values)


def _search(kb: KnowledgeBase, view: View, *, query: str, locale: str, page: int, category: str = "") -> Results:
    request = SearchRequest(
        query=query, locale=locale, category=category or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
        max_query_chars=kb.settings.max_query_chars,
    )
    return kb.search(request, view=view).results


@router.get("/sitemap.xml")
def sitemap(kb: KnowledgeBaseDep, origin: SiteOriginDep) -> Response:
    """Every public, published page in each locale, with its last change from Git: what a crawler may index."""
    pages = seo.sitemap_pages(kb.articles(view=PUBLIC))
    return _secured(Response(seo.sitemap_xml(pages, origin), media_type="application/xml"))


@router.get("/robots.txt")
def robots(kb: KnowledgeBaseDep, origin: SiteOriginDep) -> Response:
    return _secured(Response(seo.robots_txt(origin), media_type="text/plain"))


@router.get("/hc/{rest:path}")
def unknown_page(kb: KnowledgeBaseDep, rest: Line) -> Response:
    """Anything else under /hc gets the site's own 404 page (a trailing slash is forgiven) rather than JSON."""
    if rest.endswith("/"):
        return _redirect("/hc/" + rest.rstrip("/") if rest.strip("/") else f"/hc/{kb.site().default_locale}")
    return _not_found(kb, rest.split("/", 1)[0])
