"""Rules that span files: effective audiences, declared segments, one article per id and locale."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from articles.model import Article, ArticleError
from articles.parse import InvalidArticle, is_article_path, parse_article
from kb.access import ACCESS_FILE, AccessRules, access_rules_at, parse_access_rules
from kb.checks import TRANSLATIONS_FILE, broken_links, missing_translations, parse_translation_rules

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


@dataclass
class CheckReport:
    articles: list[Article] = field(default_factory=list)
    errors: list[ArticleError] = field(default_factory=list)


def check_folder(root: Path) -> CheckReport:
    """Validate a content folder as the indexer would, then across articles, for `kb check` in a content repo's CI.

    Across articles: links to other articles that do not resolve, and translations that
    ``.kb/translations.yml`` requires but that are missing.
    """
    rules, errors = parse_access_rules(_read(root / ACCESS_FILE))
    translation_rules, translation_errors = parse_translation_rules(_read(root / TRANSLATIONS_FILE))
    parsed: list[Article] = []
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        path = file.relative_to(root).as_posix()
        if not is_article_path(path):
            continue
        try:
            parsed.append(with_audience(parse_article(path, file.read_bytes()), rules))
        except InvalidArticle as invalid:
            errors.append(invalid.error)
    active, rejected = select_articles(parsed, rules)
    across = broken_links(active) + missing_translations(active, translation_rules) + translation_errors
    return CheckReport(articles=active, errors=sorted(errors + rejected + across, key=lambda e: e.path))


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


def _read(file: Path) -> bytes | None:
    return file.read_bytes() if file.is_file() else None
