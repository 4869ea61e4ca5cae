"""What search engines and link previews read: the sitemap, robots.txt, Open Graph locales and JSON-LD.

Everything here is built from what the PUBLIC view sees (the sitemap) or from the page's own article (its
JSON-LD), so nothing a crawler reads can name an article a reader could not open.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from xml.etree import ElementTree

from fastapi import Request
from markupsafe import Markup

from api.schemas import article_url
from api.site.views import category_url
from articles.model import LOCALES, Article
from kb.core import Settings

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"
OG_LOCALES = {"en": "en_US", "ja": "ja_JP"}
"""Open Graph names locales language_TERRITORY; kb's locales are languages."""
HEADLINE_CHARS = 110
"""schema.org's Article headline as search engines show it: longer ones are cut."""
FAQ_MIN_QUESTIONS = 2


def site_origin(request: Request, settings: Settings) -> str:
    """``KB_SITE_URL`` when set, else the origin the request was made to (what a reader's browser used)."""
    return settings.site_url or str(request.base_url).rstrip("/")


@dataclass(frozen=True)
class SitemapPage:
    """One page of the help center in the sitemap: its path, when its content last changed, its other locales."""

    path: str
    lastmod: dt.datetime | None
    alternates: Mapping[str, str]


def sitemap_pages(articles: list[Article]) -> list[SitemapPage]:
    """Every locale's home, its categories and its articles, among ``articles`` (the PUBLIC view's).

    A page's lastmod is its article's last commit; a home's or category's, the newest of its articles'.
    """
    by_locale = {code: [a for a in articles if a.locale == code] for code in LOCALES}
    homes = {code: f"/hc/{code}" for code, members in by_locale.items() if members}
    pages = [SitemapPage(path, _newest(by_locale[code]), homes) for code, path in homes.items()]
    for slug in sorted({a.front.category for a in articles if a.front.category}):
        members = {code: [a for a in by_locale[code] if a.front.category == slug] for code in LOCALES}
        urls = {code: category_url(code, slug) for code in LOCALES if members[code]}
        pages += [SitemapPage(url, _newest(members[code]), urls) for code, url in urls.items()]
    locales_of: dict[str, dict[str, str]] = {}
    for article in articles:
        locales_of.setdefault(article.id, {})[article.locale] = article_url(article.id, article.locale)
    pages += [SitemapPage(article_url(a.id, a.locale), a.updated_at, locales_of[a.id]) for a in articles]
    return pages


def _newest(articles: list[Article]) -> dt.datetime | None:
    return max((a.updated_at for a in articles if a.updated_at is not None), default=None)


def sitemap_xml(pages: Iterable[SitemapPage], origin: str) -> bytes:
    """The sitemaps.org XML for ``pages``, each with ``xhtml:link`` alternates, as Google reads hreflang there."""
    ElementTree.register_namespace("", SITEMAP_NS)
    ElementTree.register_namespace("xhtml", XHTML_NS)
    urlset = ElementTree.Element(f"{{{SITEMAP_NS}}}urlset")
    for page in pages:
        url = ElementTree.SubElement(urlset, f"{{{SITEMAP_NS}}}url")
        ElementTree.SubElement(url, f"{{{SITEMAP_NS}}}loc").text = origin + page.path
        if page.lastmod is not None:
            ElementTree.SubElement(url, f"{{{SITEMAP_NS}}}lastmod").text = w3c_datetime(page.lastmod)
        if len(page.alternates) > 1:
            for locale, path in page.alternates.items():
                link = {"rel": "alternate", "hreflang": locale, "href": origin + path}
                ElementTree.SubElement(url, f"{{{XHTML_NS}}}link", link)
    return ElementTree.tostring(urlset, encoding="utf-8", xml_declaration=True)


def w3c_datetime(moment: dt.datetime) -> str:
    """A sitemap's lastmod: the commit's time with its offset, to the second."""
    return moment.replace(microsecond=0).isoformat() if moment.tzinfo else moment.date().isoformat()


def robots_txt(origin: str) -> str:
    """Crawl the help center's pages, not its search results (endless, thin pages), sign-in links or the API."""
    return "\n".join(
        (
            "User-agent: *",
            "Allow: /hc/",
            "Disallow: /hc/*/search",
            "Disallow: /hc/session",
            "Disallow: /hc/signout",
            "Disallow: /hc/staff/",
            "Disallow: /v1/",
            "Disallow: /mcp",
            f"Sitemap: {origin}/sitemap.xml",
            "",
        )
    )


def json_ld(data: object) -> Markup:
    """JSON for a ``<script type="application/ld+json">`` block: ``<``, ``>`` and ``&`` escaped, so no text
    in it can close the script element, whatever an article's title holds."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def article_structured_data(
    article: Article, *, url: str, description: str, site_name: str, breadcrumb: list[tuple[str, str]]
) -> list[dict[str, object]]:
    """schema.org for an article page: an ``FAQPage`` when its sections are questions, else an ``Article``;
    and its ``BreadcrumbList`` (name, absolute URL pairs, the article last)."""
    questions = [s for s in article.sections if s.anchor and len(s.heading_path) == 1 and _is_question(s.heading_path[0])]
    main: dict[str, object]
    if len(questions) >= FAQ_MIN_QUESTIONS and len(questions) == sum(1 for s in article.sections if len(s.heading_path) == 1):
        main = {
            "@type": "FAQPage",
            "name": article.title,
            "mainEntity": [
                {"@type": "Question", "name": s.heading_path[0], "acceptedAnswer": {"@type": "Answer", "text": _answer(article, s.anchor)}}
                for s in questions
            ],
        }
    else:
        main = {"@type": "Article", "headline": article.title[:HEADLINE_CHARS]}
        if article.front.tags:
            main["keywords"] = ", ".join(article.front.tags)
    main = {"@context": "https://schema.org", **main, "url": url, "inLanguage": article.locale, "description": description}
    main["publisher"] = {"@type": "Organization", "name": site_name}
    if article.updated_at is not None:
        main["dateModified"] = w3c_datetime(article.updated_at)
    trail: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": n, "name": name, "item": link} for n, (name, link) in enumerate(breadcrumb, 1)
        ],
    }
    return [main, trail]


def _is_question(heading: str) -> bool:
    return heading.rstrip().endswith(("?", "？"))


def _answer(article: Article, anchor: str) -> str:
    """A question's answer: its H2 section's text with the H3 sections under it."""
    start = next(i for i, s in enumerate(article.sections) if s.anchor == anchor)
    parts = [article.sections[start].text]
    for section in article.sections[start + 1 :]:
        if len(section.heading_path) < 2:
            break
        parts.append(section.text)
    return "\n\n".join(part for part in parts if part.strip())


@dataclass(frozen=True)
class PageMeta:
    """What a page says about itself to crawlers and link previews (base.html's head writes it out)."""

    origin: str
    path: str
    """The canonical address, without the origin: no tracking or state parameters, a search's query kept."""
    alternates: Mapping[str, str]
    """This page in each locale where it exists (hreflang, and the language switcher's targets)."""
    default_locale: str
    kind: str = "website"
    """og:type: ``article`` for an article page."""
    structured_data: tuple[dict[str, object], ...] = ()
    indexable: bool = True

    @property
    def url(self) -> str:
        return self.origin + self.path

    @property
    def x_default(self) -> str | None:
        """hreflang's x-default: the page in the help center's default language, where it exists."""
        path = self.alternates.get(self.default_locale)
        return self.origin + path if path else None
