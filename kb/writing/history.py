"""An article through its Git history: the commits that changed it, the article at any ref, diffs between refs.

The article is named by what readers know, its id and locale; Git knows files. The file's path at
the served commit leads to its history (``git log --follow``, so renames and moves are followed),
and the names it had there are where it is looked for at an older ref.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass

from articles.model import Article
from articles.parse import InvalidArticle, is_article_path, parse_article
from kb.access.published import with_audience
from kb.access.rules import View, access_rules_at
from kb.core.cursors import decode_cursor, encode_cursor
from kb.core.requests import InvalidRequest
from versioning import ContentRepo, InvalidRef, Revision, UnknownRef
from versioning.diff import TextDiff, diff_texts

MAX_HISTORY_PAGE = 100


class NotAtRef(LookupError):
    """The article does not exist at a ref, or is hidden from the caller there (the two answer alike)."""


@dataclass(frozen=True)
class HistoryPage:
    revisions: list[Revision]
    next_cursor: str | None
    """Opaque; pass it back as ``cursor`` for the following (older) page."""


@dataclass(frozen=True)
class ArticleDiff:
    old_commit: str
    new_commit: str
    diff: TextDiff


@dataclass(frozen=True)
class Version:
    """The article's file at one commit."""

    commit: str
    path: str
    text: str
    article: Article


def find_article(repo: ContentRepo, article_id: str, locale: str | None, *, at: str) -> Article:
    """The article with ``article_id`` at commit ``at`` (English, else any, when ``locale`` is None).

    Reads every article file at that commit: for the command line, which has no index loaded.
    """
    found = []
    for file in repo.files_at(at):
        if not is_article_path(file.path):
            continue
        try:
            article = parse_article(file.path, file.data, revision=file.revision, updated_at=file.updated_at)
        except InvalidArticle:
            continue
        if article.id == article_id and locale in (None, article.locale):
            found.append(article)
    if not found:
        raise NotAtRef(f"no article {article_id!r}" + (f" in locale {locale!r}" if locale else "") + f" at {at[:12]}")
    return min(found, key=lambda article: (article.locale != "en", article.locale))


def history_page(
    repo: ContentRepo, article: Article, *, at: str, view: View, limit: int, cursor: str | None
) -> HistoryPage:
    """Commits that changed ``article`` up to commit ``at``, newest first, ``limit`` at a time.

    Outside the staff view, only commits where the caller could see the article are listed, without
    the author's email or the message: a draft's or an internal version's commits, and a message that
    also describes other, hidden files (a merged proposal's title), say things readers may not know.
    """
    if not 1 <= limit <= MAX_HISTORY_PAGE:
        raise InvalidRequest("limit", f"must be between 1 and {MAX_HISTORY_PAGE}")
    after = decode_cursor(cursor, field="cursor") if cursor else None
    page: list[Revision] = []
    with closing(repo.history(article.path, at)) as revisions:
        for revision in revisions:
            if after is not None:
                after = None if revision.sha == after else after
                continue
            if not view.staff:
                if not _visible_in(repo, article, revision, view):
                    continue
                revision = dataclasses.replace(revision, author_email="", message="")
            page.append(revision)
            if len(page) > limit:
                break
    if after is not None:
        raise InvalidRequest("cursor", "no longer part of this article's history; start again without it")
    more = len(page) > limit
    return HistoryPage(page[:limit], encode_cursor(page[limit - 1].sha) if more else None)


def _visible_in(repo: ContentRepo, article: Article, revision: Revision, view: View) -> bool:
    """Whether ``view`` could see this article as it was right after ``revision``."""
    if revision.kind == "deleted":
        return False
    return _parsed_version(repo, article, revision.sha, revision.path, view) is not None


def version_at(repo: ContentRepo, article: Article, ref: str, *, at: str, view: View, field: str = "ref") -> Version:
    """The article as it was at ``ref``, if ``view`` could see it there; ``at`` is the commit ``article`` is from.

    Visibility is decided by that version's own front matter and that commit's ``.kb/access.yml``:
    an article that was internal before it was published keeps its past to agents. Outside the
    staff view, ``ref`` must also be in the history of ``at``: other branches (proposals, drafts)
    are unpublished, and an unknown ref answers like an absent article, so names are not probed.
    """
    commit = _resolve_for(repo, ref, field, at=at, view=view)
    with closing(_names(repo, article, at)) as names:
        for path in names:
            version = _parsed_version(repo, article, commit, path, view)
            if version is not None:
                return version
    raise NotAtRef(f"article {article.id!r} ({article.locale}) does not exist at {ref!r}")


def _parsed_version(repo: ContentRepo, article: Article, commit: str, path: str, view: View) -> Version | None:
    """The article at ``path`` in ``commit`` if it is there, valid, the same article, and visible to ``view``."""
    files = repo.files_at(commit, paths=[path])
    if not files:
        return None
    file = files[0]
    try:
        parsed = parse_article(path, file.data, revision=file.revision, updated_at=file.updated_at)
    except InvalidArticle:
        return None  # that file was not a valid article then: not a version readers can be shown
    if (parsed.id, parsed.locale) != (article.id, article.locale):
        return None
    parsed = with_audience(parsed, access_rules_at(repo, commit)[0])
    if not view.can_see(parsed):
        return None
    return Version(commit, path, file.data.decode("utf-8-sig").replace("\r\n", "\n"), parsed)


def article_diff(repo: ContentRepo, article: Article, old: str, new: str, *, at: str, view: View) -> ArticleDiff:
    """The article's file from ref ``old`` to ref ``new``; a side where it did not exist diffs as empty."""
    old_commit = _resolve_for(repo, old, "from", at=at, view=view)
    new_commit = _resolve_for(repo, new, "to", at=at, view=view)
    before = _version_or_none(repo, article, old_commit, at=at, view=view)
    after = _version_or_none(repo, article, new_commit, at=at, view=view)
    if before is None and after is None:
        raise NotAtRef(f"article {article.id!r} ({article.locale}) exists at neither {old!r} nor {new!r}")
    diff = diff_texts(
        before.text if before else None,
        after.text if after else None,
        old_path=before.path if before else None,
        new_path=after.path if after else None,
    )
    return ArticleDiff(old_commit, new_commit, diff)


def _version_or_none(repo: ContentRepo, article: Article, commit: str, *, at: str, view: View) -> Version | None:
    try:
        return version_at(repo, article, commit, at=at, view=view)
    except NotAtRef:
        return None


def _resolve_for(repo: ContentRepo, ref: str, field: str, *, at: str, view: View) -> str:
    """The commit ``ref`` names, as far as ``view`` may know: staff any ref, others the served history only."""
    try:
        commit = repo.resolve(ref)
    except InvalidRef as invalid:
        raise InvalidRequest(field, str(invalid)) from None
    except UnknownRef:
        if view.staff:
            raise
        raise NotAtRef(f"nothing to show at {ref!r}") from None
    if not view.staff and not repo.contains(commit, at):
        raise NotAtRef(f"nothing to show at {ref!r}")
    return commit


def _names(repo: ContentRepo, article: Article, at: str) -> Generator[str, None, None]:
    """The article's path at ``at`` first, then every older name it had, newest first.

    Lazy: most lookups find the article under its current name, and never read its history.
    """
    yield article.path
    seen = {article.path}
    with closing(repo.history(article.path, at)) as revisions:
        for revision in revisions:
            if revision.path not in seen:
                seen.add(revision.path)
                yield revision.path
