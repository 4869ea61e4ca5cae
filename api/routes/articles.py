"""GET /v1/articles (cursor-paged list) and GET /v1/articles/{id} (metadata, HTML, sections)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import RedirectResponse

from api.deps import AS_DESCRIPTION, KnowledgeBaseDep, PrincipalDep, ViewDep, client_surface, reading_as
from api.rendering import article_html
from api.schemas import ArticleOut, ArticlePage, ArticleSummary, RelatedOut, SectionOut, TranslationOut, article_url
from articles.model import LOCALES, Article
from kb.access import View
from kb.core import InvalidRequest, KnowledgeBase, Line, decode_cursor, encode_cursor
from kb.writing import version_at
from search.snapshot import Filters

router = APIRouter(prefix="/v1", tags=["articles"])
MAX_PAGE = 100


def _encode_cursor(key: tuple[str, str]) -> str:
    return encode_cursor("\x00".join(key))


def _decode_cursor(cursor: str) -> tuple[str, str]:
    article_id, _, locale = decode_cursor(cursor, field="cursor").partition("\x00")
    if not locale:
        raise InvalidRequest("cursor", "not a cursor this API handed out; start again without it")
    return article_id, locale


def _check_locale(locale: str | None) -> None:
    if locale is not None and locale not in LOCALES:
        raise InvalidRequest("locale", f"unknown locale {locale!r}; kb has {', '.join(LOCALES)}")


@router.get("/articles", response_model=ArticlePage)
def list_articles(
    request: Request,
    response: Response,
    kb: KnowledgeBaseDep,
    view: ViewDep,
    locale: Line | None = None,
    category: Line | None = None,
    tags: Annotated[list[Line], Query()] = [],  # noqa: B006 - FastAPI's form for a repeated parameter; pydantic copies the default
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    cursor: Line | None = None,
    as_: Annotated[Line | None, Query(alias="as", description=AS_DESCRIPTION)] = None,
) -> ArticlePage:
    """Articles ordered by id then locale; follow `next` (or the Link header) for the following page."""
    _check_locale(locale)
    after = _decode_cursor(cursor) if cursor else None
    filters = Filters(locale=locale, category=category, tags=tuple(sorted(set(tags))))
    articles = kb.articles(view=reading_as(view, as_), filters=filters)
    remaining = [a for a in articles if after is None or a.key > after]
    page = remaining[:limit]
    next_url = None
    if len(remaining) > limit:
        next_url = str(request.url.include_query_params(cursor=_encode_cursor(page[-1].key)))
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return ArticlePage(items=[ArticleSummary.of(a, staff=view.staff) for a in page], next=next_url)


@router.get("/articles/{article_id}", response_model=ArticleOut)
def get_article(
    request: Request,
    kb: KnowledgeBaseDep,
    principal: PrincipalDep,
    article_id: Line,
    locale: Line | None = None,
    ref: Annotated[Line | None, Query(description="A commit sha, branch or tag: the article as it was there.")] = None,
    as_: Annotated[Line | None, Query(alias="as", description=AS_DESCRIPTION)] = None,
) -> ArticleOut | Response:
    """One article; without `locale`, English if it exists, else the first translation.

    An id listed in an article's `redirect_from` answers 308 with the article's current URL.
    """
    staff, view = principal.view.staff, reading_as(principal.view, as_)
    snapshot = kb.snapshot  # read once: a reindex swapping in a new one must not split this answer in two
    translations = kb.translations(article_id, view=view, snapshot=snapshot)
    if not translations and (moved := _moved(kb, view, article_id, locale)):
        kept = {name: value for name, value in (("ref", ref), ("as", as_)) if value}
        target = f"/v1/articles/{moved.id}?" + urlencode({"locale": moved.locale} | kept)
        return RedirectResponse(target, 308)
    article = pick_translation(translations, article_id, locale)
    commit = snapshot.commit
    if ref is not None:
        with kb.open_repo() as repo:
            version = version_at(repo, article, ref, at=commit, view=view)
        article, commit = version.article, version.commit
    surface = client_surface(request) if ref is None and as_ is None else None
    if surface is not None:  # a reader's read, not a writer looking at a version or staff reading as someone else
        kb.events.view(surface=surface, article_id=article.id, locale=article.locale, principal=principal)
    summary = ArticleSummary.of(article, staff=staff)
    return ArticleOut(
        **summary.model_dump(),
        html=article_html(kb, article, view=view),
        sections=[SectionOut(anchor=s.anchor, heading_path=list(s.heading_path), text=s.text) for s in article.sections],
        translations=[TranslationOut(locale=t.locale, url=article_url(t.id, t.locale)) for t in translations if t.locale != article.locale],
        related=[
            RelatedOut(id=r.id, title=r.title, url=article_url(r.id, r.locale)) for r in kb.related(article, view=view, snapshot=snapshot)
        ],
        commit=commit,
    )


def _moved(kb: KnowledgeBase, view: View, old_id: str, locale: str | None) -> Article | None:
    """The article that now answers for ``old_id`` (in ``locale``, else English first, then any)."""
    for candidate in [locale] if locale else sorted(LOCALES, key=lambda name: name != "en"):
        if candidate in LOCALES and (article := kb.redirect(old_id, locale=candidate, view=view)):
            return article
    return None


def pick_translation(translations: list[Article], article_id: str, locale: str | None) -> Article:
    """The translation in ``locale``; without one, English if it exists, else the first. 404 when none."""
    _check_locale(locale)
    chosen = [a for a in translations if a.locale == locale] if locale else sorted(translations, key=lambda a: a.locale != "en")
    if not chosen:
        # The same answer for a missing article and one the caller may not see: nothing to learn from it.
        raise HTTPException(404, f"no article {article_id!r}" + (f" in locale {locale!r}" if locale else ""))
    return chosen[0]
