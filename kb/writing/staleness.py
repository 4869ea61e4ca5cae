"""What is stale: articles due for review, and translations whose original changed after they were made.

An article with ``review_every`` is due that long after it was last looked at: the later of its
``last_reviewed`` and its file's last change in Git (an edit is a look). A translation names the commit
of its original it was made from (``translated_from``); it is behind when the original's file changed in
a commit that is not in that commit's history, and the diff of the original since then is what its
translator has to carry over. The original is the article of the same id in the help center's default
language (or, for a translation into that language, the other one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from articles.model import Article
from kb.access.rules import STAFF
from kb.writing.history import article_diff
from versioning import ContentRepo, InvalidRef, UnknownRef


@dataclass(frozen=True)
class ReviewDue:
    article: Article
    last_looked: dt.date
    """The later of ``last_reviewed`` and the last change in Git."""
    due: dt.date


def reviews_due(articles: Sequence[Article], *, today: dt.date) -> list[ReviewDue]:
    """Articles whose ``review_every`` has run out by ``today``, the longest overdue first."""
    due = []
    for article in articles:
        interval = article.front.review_interval
        if interval is None:
            continue
        looked = [day for day in (article.front.last_reviewed, article.updated_at.date() if article.updated_at else None) if day]
        if not looked:
            continue
        last = max(looked)
        if last + interval <= today:
            due.append(ReviewDue(article, last, last + interval))
    return sorted(due, key=lambda item: (item.due, item.article.id, item.article.locale))


def original_of(article: Article, articles: Sequence[Article], *, default_locale: str) -> Article | None:
    """The article a translation was made from: the same id in the default language, or in the other one."""
    others = [other for other in articles if other.id == article.id and other.locale != article.locale]
    if article.locale != default_locale:
        return next((other for other in others if other.locale == default_locale), None)
    return others[0] if len(others) == 1 else None


@dataclass(frozen=True)
class BehindOriginal:
    translation: Article
    original: Article
    translated_from: str
    """The original's commit the translation was made from, in full."""
    diff: str
    """The original's file from that commit to now, as a unified diff."""


class UnknownOrigin(LookupError):
    """``translated_from`` names no commit of the repository (a typo, or a history rewritten since)."""


def is_behind(repo: ContentRepo, translation: Article, original: Article) -> bool:
    """Whether the original's last change is missing from the commit the translation was made from."""
    commit = _origin(repo, translation)
    return not repo.contains(original.revision, commit)


def translations_behind(
    repo: ContentRepo, articles: Sequence[Article], *, at: str, default_locale: str, unknown: list[UnknownOrigin] | None = None
) -> list[BehindOriginal]:
    """Every translation with ``translated_from`` whose original changed since, with the original's diff since.

    A ``translated_from`` that is no commit here is added to ``unknown`` (or, without that list, raised as an
    :class:`UnknownOrigin` naming the article), and the others are still checked.
    """
    behind = []
    for translation in articles:
        if translation.front.translated_from is None:
            continue
        original = original_of(translation, articles, default_locale=default_locale)
        try:
            if original is None or not is_behind(repo, translation, original):
                continue
        except UnknownOrigin as origin:
            if unknown is None:
                raise
            unknown.append(origin)
            continue
        commit = _origin(repo, translation)
        diff = article_diff(repo, original, commit, at, at=at, view=STAFF).diff.unified
        behind.append(BehindOriginal(translation, original, commit, diff))
    return behind


def _origin(repo: ContentRepo, translation: Article) -> str:
    named = translation.front.translated_from or ""
    try:
        return repo.resolve(named)
    except (InvalidRef, UnknownRef):
        raise UnknownOrigin(f"{translation.path}: translated_from: {named!r} is no commit of this repository") from None
