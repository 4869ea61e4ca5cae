"""What the site's templates show: small view models built from articles and hits, and pagination."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from markupsafe import Markup

from api.schemas import article_url
from api.site import messages
from articles.model import LOCALES, Article
from kb.assist import FeedbackSummary
from kb.core import MAX_OFFSET, SiteConfig
from search.snapshot import Hit, Results

PAGE_SIZE = 10
MAX_PAGE = MAX_OFFSET // PAGE_SIZE + 1
"""The last page whose offset kb accepts; later pages are clamped to it rather than refused."""
PAGE_LINKS = 7


@dataclass(frozen=True)
class Link:
    title: str
    url: str
    lang: str | None = None
    """The article's language where it differs from the page's: offered untranslated."""


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
class Banner:
    """An active announcement across the top of every page."""

    title: str
    url: str
    severity: str
    locale: str
    """The announcement's language: the reader's where it is translated, else the one it was written in."""
    until: str
    """"until …" in the reader's language, or empty for an announcement without an end."""


@dataclass(frozen=True)
class TranslationNote:
    """Why an article is not in the reader's language as they might expect: untranslated, or behind its original."""

    text: str
    original: Link | None = None


def translation_note(
    article: Article, locale: str, original: Article | None, default_locale: str, *, behind: bool | None = None
) -> TranslationNote | None:
    """What an article page says of its language: shown untranslated in ``article.locale``, or a translation behind
    its original in the default language (the original's date, and a link to it). ``behind`` says so for a translation
    that names the commit it was made from; without it, one last changed before its original is taken to be behind."""
    t, names = messages.MESSAGES[locale], messages.LANGUAGE_NAMES[locale]
    if article.locale != locale:
        return TranslationNote(t["untranslated_note"].format(reader=names[locale], language=names[article.locale]))
    if original is None or article.locale == default_locale or original.updated_at is None or article.updated_at is None:
        return None
    if behind is False or (behind is None and original.updated_at <= article.updated_at):
        return None
    text = t["outdated_note"].format(language=names[original.locale], date=messages.format_date(locale, original.updated_at))
    return TranslationNote(text, Link(t["read_original"], article_url(original.id, original.locale), original.locale))


@dataclass(frozen=True)
class AnnouncementNotice:
    """What an announcement's own page says of its window: open, to come, or over."""

    severity: str
    text: str
    state: str
    """``active``, ``scheduled`` or ``ended``."""


@dataclass(frozen=True)
class ResultView:
    title: str
    url: str
    path: str
    snippet: Markup


def category_url(locale: str, slug: str) -> str:
    return f"/hc/{locale}/categories/{slug}"


def search_url(locale: str, query: str, page: int = 1, category: str = "") -> str:
    params = {"q": query} | ({"category": category} if category else {}) | ({"page": str(page)} if page > 1 else {})
    return f"/hc/{locale}/search?{urlencode(params)}"


@dataclass(frozen=True)
class Facet:
    name: str
    count: int
    url: str
    current: bool


def category_facets(counts: dict[str, int], *, locale: str, query: str, category: str, site: SiteConfig) -> list[Facet]:
    """"All topics" and each category with its matches (counted over every match, not the page), in the site's order."""
    total = sum(counts.values())
    facets = [Facet(messages.MESSAGES[locale]["filter_all"], total, search_url(locale, query), not category)]
    for slug in sorted(counts, key=site.category_order):
        facets.append(Facet(site.category_name(slug, locale), counts[slug], search_url(locale, query, category=slug), slug == category))
    return facets


def language_links(locale: str, urls: dict[str, str]) -> list[LanguageLink]:
    """One link per locale: to ``urls[locale]`` where the page exists in it, else to that locale's home, which says so."""
    return [
        LanguageLink(code, messages.LOCALE_NAMES[code], urls.get(code, f"/hc/{code}?untranslated=1"), current=code == locale)
        for code in LOCALES
    ]


def _by_title(articles: Iterable[Article]) -> list[Article]:
    return sorted(articles, key=lambda article: article.title.casefold())


def category_groups(articles: list[Article], locale: str, site: SiteConfig, *, per_group: int | None = None) -> list[CategoryGroup]:
    """Articles by category in .kb/site.yml's order; articles without a category come last."""
    slugs = sorted({a.front.category for a in articles if a.front.category}, key=site.category_order)
    groups = []
    for slug in [*slugs, None]:
        members = _by_title(a for a in articles if a.front.category == slug)
        if not members:
            continue
        groups.append(
            CategoryGroup(
                slug=slug or "",
                name=site.category_name(slug, locale) if slug else messages.MESSAGES[locale]["other_articles"],
                description=site.category_description(slug, locale) if slug else "",
                url=category_url(locale, slug) if slug else None,
                articles=[Link(a.title, article_url(a.id, locale), a.locale if a.locale != locale else None) for a in members[:per_group]],
                total=len(members),
            )
        )
    return groups


def table_of_contents(article: Article) -> list[TocEntry]:
    """The article's H2 / H3 sections; their anchors are the ids render_html gives the headings."""
    return [
        TocEntry(anchor=s.anchor, title=s.heading_path[-1], level=len(s.heading_path))
        for s in article.sections
        if s.anchor and s.heading_path
    ]


def lead(article: Article, *, chars: int = 160) -> str:
    """The start of the text before the first heading, for the page's meta description."""
    text = next((s.text for s in article.sections if not s.anchor), "")
    return " ".join(text.split())[:chars]




POPULAR_ARTICLES = 6


def popular(articles: list[Article]) -> list[Link]:
    """The home page's popular articles: those the front matter promotes, in its order (article views refine it later)."""
    promoted = sorted((a for a in articles if a.front.promoted is not None), key=lambda a: (a.front.promoted, a.title.casefold()))
    return [Link(a.title, article_url(a.id, a.locale)) for a in promoted[:POPULAR_ARTICLES]]


def banners(announcements: list[Article], locale: str) -> list[Banner]:
    """Banners for the active announcements ``kb.announcements`` chose, in its order."""
    t = messages.MESSAGES[locale]
    return [
        Banner(
            title=a.title,
            url=article_url(a.id, a.locale),
            severity=a.front.announced_severity,
            locale=a.locale,
            until=t["announcement_until"].format(when=messages.format_moment(locale, a.front.ends)) if a.front.ends else "",
        )
        for a in announcements
    ]


def announcement_notice(article: Article, moment: dt.datetime) -> AnnouncementNotice | None:
    """An announcement's window in words for its own page (a past one stays readable, saying it ended)."""
    front, locale = article.front, article.locale
    if not front.is_announcement:
        return None
    t = messages.MESSAGES[locale]
    severity = front.announced_severity
    if front.ends is not None and front.ends <= moment:
        return AnnouncementNotice(severity, t["announcement_ended"].format(when=messages.format_moment(locale, front.ends)), "ended")
    window = " ".join(
        part
        for part in (
            t["announcement_from"].format(when=messages.format_moment(locale, front.starts)) if front.starts else "",
            t["announcement_until"].format(when=messages.format_moment(locale, front.ends)) if front.ends else "",
        )
        if part
    )
    if front.starts is not None and moment < front.starts:
        return AnnouncementNotice(severity, t["announcement_scheduled"].format(window=window), "scheduled")
    return AnnouncementNotice(severity, t["announcement_active"].format(window=window) if window else "", "active")


def result_view(hit: Hit, locale: str, site: SiteConfig, *, clicked: tuple[str, int] | None = None) -> ResultView:
    """A hit as the results page lists it; ``clicked``: the search's id and the hit's place, for the link to carry."""
    article, chunk = hit.article, hit.chunk
    category = site.category_name(article.front.category, locale) if article.front.category else ""
    url = article_url(article.id, article.locale, chunk.anchor)
    if clicked is not None:
        path, hash_, anchor = url.partition("#")
        url = f"{path}?{urlencode({'s': clicked[0], 'p': clicked[1]})}{hash_}{anchor}"
    return ResultView(
        title=article.title,
        url=url,
        path=" › ".join(part for part in (category, *chunk.heading_path) if part),
        # search.snippets HTML-escapes the text and adds only <mark>: the one search field trusted as markup.
        snippet=Markup(hit.snippet),
    )


def page_number(raw: str) -> int:
    """A page number from the query string: anything odd reads as the first page, far pages as the last kb serves."""
    try:
        number = int(raw)
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)


def last_page(total: int) -> int:
    return min(math.ceil(total / PAGE_SIZE), MAX_PAGE)


def result_page(
    results: Results, *, locale: str, query: str, page: int, site: SiteConfig, category: str = "", search_id: str | None = None
) -> dict[str, object]:
    """The results of one page, their count, and the links to the pages around it."""
    last = last_page(results.total)
    first = max(1, min(page - PAGE_LINKS // 2, last - PAGE_LINKS + 1))
    numbered = range(first, min(last, first + PAGE_LINKS - 1) + 1)
    return {
        "results": [
            result_view(hit, locale, site, clicked=(search_id, (page - 1) * PAGE_SIZE + place) if search_id else None)
            for place, hit in enumerate(results.hits, start=1)
        ],
        "total": results.total,
        "read_as": results.read_as,
        "pages": [Link(str(n), search_url(locale, query, n, category)) for n in numbered] if last > 1 else [],
        "previous_url": search_url(locale, query, page - 1, category) if page > 1 else None,
        "next_url": search_url(locale, query, page + 1, category) if page < last else None,
        "last_page": last,
    }


@dataclass(frozen=True)
class RevisionFeedback:
    """What was said of one revision of an article (an edit that helped shows here)."""

    revision: str
    """The commit, shortened."""
    counts: list[tuple[str, int]]
    current: bool


@dataclass(frozen=True)
class FeedbackComment:
    outcome: str
    reason: str
    text: str
    date: str
    revision: str
    reader: str


@dataclass(frozen=True)
class ArticleFeedback:
    """What readers, agents and bots said of an article, as its staff view shows it."""

    outcomes: list[tuple[str, int]]
    reasons: list[tuple[str, int]]
    revisions: list[RevisionFeedback]
    comments: list[FeedbackComment]


_VOTE_REASON_KEYS = {"related_but_did_not_answer": "vote_reason_did_not_answer", "outdated": "vote_reason_outdated",
                     "unclear": "vote_reason_unclear", "other": "vote_reason_other"}  # fmt: skip


def feedback_view(summary: FeedbackSummary, article: Article, locale: str) -> ArticleFeedback:
    """``summary`` in the page's language: outcomes most frequent first, each revision newest first, the newest comments."""
    t = messages.MESSAGES[locale]

    def reason(code: str | None) -> str:
        return t.get(_VOTE_REASON_KEYS.get(code or "", f"reason_{code}"), code or "") if code else ""

    def counted(counts: dict[str, int]) -> list[tuple[str, int]]:
        return [(t.get(f"outcome_{outcome}", outcome), count) for outcome, count in sorted(counts.items(), key=lambda item: -item[1])]

    revisions = [
        RevisionFeedback(revision[:12], counted(counts), revision == article.revision) for revision, counts in summary.by_revision.items()
    ]
    comments = [
        FeedbackComment(
            outcome=t.get(f"outcome_{row.outcome}", row.outcome),
            reason=reason(row.reason),
            text=row.comment or "",
            date=messages.format_date(locale, row.created_at),
            revision=row.revision[:12],
            reader=t.get(f"reader_{row.principal_kind}", row.principal_kind),
        )
        for row in summary.comments
    ]
    return ArticleFeedback(
        outcomes=counted(summary.outcomes),
        reasons=[(reason(code), count) for code, count in sorted(summary.reasons.items(), key=lambda item: -item[1])],
        revisions=revisions,
        comments=comments,
    )
