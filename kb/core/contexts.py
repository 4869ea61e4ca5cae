"""The articles for a page of the company's product, where the in-product widget runs (``contexts:``)."""

from __future__ import annotations

from collections.abc import Iterable

from articles.contexts import match_strength
from articles.model import Article
from kb.access.rules import View

PAGE_ARTICLES = 8
"""Articles the widget lists for a page before the reader types: a short list worth reading down."""


def one_per_id(articles: Iterable[Article], locale: str) -> list[Article]:
    """Each article once, in ``locale`` where it is translated, else in the language it was written in."""
    chosen: dict[str, Article] = {}
    for article in articles:
        held = chosen.get(article.id)
        if held is None or (article.locale == locale and held.locale != locale):
            chosen[article.id] = article
    return list(chosen.values())


def for_page(
    articles: Iterable[Article], *, view: View, locale: str, path: str | None, areas: frozenset[str], limit: int = PAGE_ARTICLES
) -> list[Article]:
    """The articles ``view`` may see whose contexts match the page, the most specific match first, then by title."""
    strength = {
        article.key: score
        for article in articles
        if article.front.contexts and view.can_see(article)
        and (score := match_strength(article.front.contexts, path=path, areas=areas))
    }  # fmt: skip
    matched = one_per_id((a for a in articles if a.key in strength), locale)
    return sorted(matched, key=lambda a: (-strength[a.key], a.title.casefold()))[:limit]
