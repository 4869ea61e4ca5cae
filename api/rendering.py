"""Article HTML for the API and the site: links between articles point at their pages, never at hidden ones."""

from __future__ import annotations

import posixpath
from urllib.parse import urlsplit

from api.schemas import article_url
from articles.model import Article
from articles.render import render_html
from kb.access import View
from kb.core import KnowledgeBase

HIDDEN_LINK = "#"
"""Where a link to a missing or hidden article goes: its path would tell a reader the article exists."""


def article_html(kb: KnowledgeBase, article: Article, *, view: View) -> str:
    """Rendered on each request: a few milliseconds at most, and nothing to invalidate on reindex."""
    snapshot = kb.snapshot

    def resolve(href: str) -> str:
        parts = urlsplit(href)
        path = posixpath.normpath(posixpath.join(posixpath.dirname(article.path), parts.path))
        target = snapshot.article_at(path)
        if target is None or not view.can_see(target):
            return HIDDEN_LINK
        return article_url(target.id, target.locale, parts.fragment)

    return render_html(article.body, resolve_link=resolve)
