"""What is published and to whom: effective audiences, declared segments, one article per id and locale."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from articles.model import Article, ArticleError
from articles.parse import InvalidArticle, is_article_path, parse_article
from kb.access.rules import ACCESS_FILE, AccessRules, access_rules_at

if TYPE_CHECKING:
    from versioning import ContentRepo


def with_audience(article: Article, rules: AccessRules) -> Article:
    """The article with its effective audience: its own `audience:`, else the first matching default."""
    audience = rules.audience_for(article)
    return article if audience == article.audience else dataclasses.replace(article, audience=audience)


def select_articles(candidates: Sequence[Article], rules: AccessRules) -> tuple[list[Article], list[ArticleError]]:
    """The articles to index, in path order: the first of each (id, locale) wins, the others are reported."""
    active: list[Article] = []
    rejected: list[ArticleError] = []
    first_path: dict[tuple[str, str], str] = {}
    for article in sorted(candidates, key=lambda a: a.path):
        undeclared = rules.undeclared_segments(article.audience)
        if undeclared:
            reason = f"segment(s) {', '.join(undeclared)} not declared under `segments:` in {ACCESS_FILE}"
            rejected.append(ArticleError(article.path, "audience", reason))
        elif article.key in first_path:
            reason = f"duplicate id {article.id!r} for locale {article.locale}; already used by {first_path[article.key]}"
            rejected.append(ArticleError(article.path, "id", reason))
        else:
            first_path[article.key] = article.path
            active.append(article)
    return active, rejected


def articles_at(repo: ContentRepo, commit: str) -> tuple[list[Article], AccessRules]:
    """The articles the indexer would serve at ``commit``, with their audiences, and the rules that gave them.

    For tools that need what is published but not the search index (`kb access explain`, `kb access audit`).
    """
    rules, _ = access_rules_at(repo, commit)
    parsed: list[Article] = []
    for file in repo.files_at(commit):
        if is_article_path(file.path):
            try:
                article = parse_article(file.path, file.data, revision=file.revision, updated_at=file.updated_at)
            except InvalidArticle:
                continue  # reported by `kb index` and `kb check`; an invalid file is not served
            parsed.append(with_audience(article, rules))
    return select_articles(parsed, rules)[0], rules

