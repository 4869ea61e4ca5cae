"""Citations resolved against the article now: where a stored quote is today, how it changed, or when it went.

A citation (from `POST /v1/answers`, or kept by a bot or a ticket for months) names an article, its
locale, the section the quote was in (its anchor), the revision the article had, and the quote: whole
sentences of the section's text as kb indexes it. The article now is the served snapshot's; the article
then is read from Git at the cited revision, which tells a quote that was really there from one that
never was, and tells an edited passage from a sibling sentence that sat beside the quote all along.
An article no longer served is looked for in its file's history, for the commit that deleted it.

What a reader may not see answers as what does not exist: None, whether the id is unknown, hidden
from them now, or was hidden from them when it was deleted.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from difflib import SequenceMatcher
from typing import Literal

from articles.model import LOCALES, Article, Section
from articles.parse import InvalidArticle, parse_article
from kb.access.rules import View
from kb.core.knowledge_base import KnowledgeBase
from kb.core.requests import InvalidRequest
from kb.core.text import refusal
from kb.writing.history import NotAtRef, find_article, version_at
from search.passages import sentence_spans
from versioning import ContentRepo, Revision, UnknownRef

MAX_QUOTE_CHARS = 1000
"""Nearly three answer passages (`search/passages.py`: 360). Sent in a GET's query string, percent-encoded
Japanese takes 9 bytes a character: 1,000 of them stay well under KB_MAX_QUERY_BYTES' default of 16 KB."""
MAX_ANCHOR_CHARS = 200
MAX_ID_CHARS = 128
"""An article id's longest (`articles/model.py`)."""
_REVISION = re.compile(r"[0-9a-f]{40}")

CHANGED_MIN_SIMILARITY = 0.6
"""How alike (difflib's ratio over characters, whitespace collapsed) the best new run of sentences must be
to be the quoted passage edited, rather than the passage gone. Measured on the sample help center's own
history (examples/helpcenter-history.yml): of the 78 sentences its edits broke, the 6 that were removed
outright come closest to new text at 0.28-0.47 ("See API rate limits" -> "See E4290: Too many API
requests" 0.47); of the 72 that were edited, 60 score 0.60-0.99 in English and Japanese alike ("Reset
links are valid for 24 hours" -> "... 60 minutes" 0.90; "...リダイレクトされますが..." -> "...転送されますが..."
0.94; "E2001: SAML assertion invalid（英語）..." -> "E2001: SAML アサーションが無効 ..." 0.63). The 12 below
0.6 are mostly Japanese sentences whose English link title became a Japanese one (0.14-0.56), no longer
alike letter by letter: they answer `gone`, the safe side of the gap. Only text written since the
cited revision is a candidate: a sibling that sat beside the quote then (a table's other row, the
other curl line) is not its edit, however alike."""
MAX_MOVES = 20
"""Renames of an article's file followed forward when looking for the commit that deleted it."""

CitationStatus = Literal["same", "moved", "changed", "gone", "unverified"]
"""Where the quote is now: in the cited section, verbatim in another, edited, nowhere; `unverified` when it
was not in the cited section at the cited revision and is not in the article now either (a forged or
garbled quote: nothing to resolve it to, and no edit to offer in its place)."""


@dataclass(frozen=True)
class CitationRef:
    """A citation as it was stored; checked here so every caller (API, MCP, CLI) refuses bad input alike."""

    article_id: str
    locale: str
    anchor: str
    """The section's id; "" for the lead."""
    revision: str
    """The commit that last changed the article when it was cited (full sha)."""
    quote: str

    def __post_init__(self) -> None:
        for name in ("article_id", "locale", "anchor", "revision"):
            if (reason := refusal(getattr(self, name))) is not None:
                raise InvalidRequest(name, reason)
        if (reason := refusal(self.quote, prose=True)) is not None:
            raise InvalidRequest("quote", reason)
        if not self.quote.strip():
            raise InvalidRequest("quote", "is empty; send the sentences the citation quotes")
        if len(self.quote) > MAX_QUOTE_CHARS:
            raise InvalidRequest("quote", f"is {len(self.quote)} characters; a citation quotes at most {MAX_QUOTE_CHARS}")
        if not 1 <= len(self.article_id) <= MAX_ID_CHARS:
            raise InvalidRequest("article_id", f"must be 1 to {MAX_ID_CHARS} characters")
        if self.locale not in LOCALES:
            raise InvalidRequest("locale", f"unknown locale {self.locale!r}; kb has {', '.join(LOCALES)}")
        if len(self.anchor) > MAX_ANCHOR_CHARS:
            raise InvalidRequest("anchor", f"is longer than {MAX_ANCHOR_CHARS} characters")
        if not _REVISION.fullmatch(self.revision):
            raise InvalidRequest("revision", "must be a full commit sha, 40 lowercase hex digits, as kb gave it")


@dataclass(frozen=True)
class Place:
    """Where the passage is now: its section and its text as the article writes it."""

    anchor: str
    heading_path: tuple[str, ...]
    text: str
    similarity: float
    """1.0 for the quote itself; below for an edited passage."""


@dataclass(frozen=True)
class Deletion:
    commit: str
    committed_at: datetime


@dataclass(frozen=True)
class Resolution:
    status: CitationStatus
    article_id: str
    """Where the citation leads now: a renamed id's new one; the cited one when the article was deleted."""
    locale: str
    commit: str
    """The served snapshot's commit: "now"."""
    revision_current: bool
    """Whether the article has not changed since the cited revision."""
    verified: bool | None
    """Whether the quote was in the cited section at the cited revision; None when that version cannot be read."""
    article: Article | None = None
    place: Place | None = None
    deleted: Deletion | None = None


def resolve_citation(kb: KnowledgeBase, ref: CitationRef, *, view: View) -> Resolution | None:
    """Where ``ref``'s quote is in the article now, as ``view`` sees it; None as for an article that never existed."""
    snapshot = kb.snapshot
    article = kb.article(ref.article_id, locale=ref.locale, view=view) or kb.redirect(ref.article_id, locale=ref.locale, view=view)
    if article is None and snapshot.article(ref.article_id, ref.locale) is not None:
        return None  # there, but hidden from this reader
    with kb.open_repo() as repo:  # a handle of this request's own: GitPython's are not thread-safe
        if article is None:
            return _deleted(repo, ref, at=snapshot.commit, view=view)
        then = _cited_version(repo, article, ref, at=snapshot.commit, view=view)
    return _locate(article, ref, then, commit=snapshot.commit)


def _cited_version(repo: ContentRepo, article: Article, ref: CitationRef, *, at: str, view: View) -> Article | None:
    """The article at the cited revision, if ``view`` could read it there; a renamed one under the id it had then."""
    then = article
    if article.id != ref.article_id:  # version_at knows a version by (id, locale): before the rename, the old id
        then = dataclasses.replace(article, front=article.front.model_copy(update={"id": ref.article_id}))
    try:
        return version_at(repo, then, ref.revision, at=at, view=view).article
    except (NotAtRef, UnknownRef):
        return None


def _locate(article: Article, ref: CitationRef, then: Article | None, *, commit: str) -> Resolution:
    """Same or moved when verbatim; else the edit of it, if it was really there and something written since is alike."""
    pattern = _verbatim_pattern(ref.quote)
    sections = _cited_first(article.sections, ref.anchor)
    verified = _verified(then, ref)
    place = next((p for section in sections if (p := _verbatim(section, pattern)) is not None), None)
    if place is not None:
        status: CitationStatus = "same" if place.anchor == ref.anchor else "moved"
    elif verified is False:
        status = "unverified"
    else:
        known = None if then is None else "\n".join(_normal(section.text) for section in then.sections)
        place = _closest(ref.quote, sections, known=known)
        status = "gone" if place is None else "changed"
    return Resolution(status, article.id, article.locale, commit, article.revision == ref.revision, verified, article, place)


def _verbatim_pattern(quote: str) -> re.Pattern[str]:
    """The quote's words in order, any whitespace between them: a soft line break and a space quote alike."""
    return re.compile(r"\s+".join(re.escape(word) for word in quote.split()))


def _verbatim(section: Section, pattern: re.Pattern[str]) -> Place | None:
    found = pattern.search(section.text)
    return None if found is None else Place(section.anchor, section.heading_path, found.group(), 1.0)


def _verified(then: Article | None, ref: CitationRef) -> bool | None:
    """Whether the quote was in the cited section of ``then``, the cited version; None when it could not be read."""
    if then is None:
        return None
    section = _section(then.sections, ref.anchor)
    return section is not None and _verbatim(section, _verbatim_pattern(ref.quote)) is not None


def _section(sections: Iterable[Section], anchor: str) -> Section | None:
    return next((section for section in sections if section.anchor == anchor), None)


def _cited_first(sections: Sequence[Section], anchor: str) -> list[Section]:
    """The cited section, then the others in order: among equals, the passage stays where it was."""
    return sorted(sections, key=lambda section: section.anchor != anchor)


def _normal(text: str) -> str:
    return " ".join(text.split())


def _closest(quote: str, sections: Sequence[Section], *, known: str | None) -> Place | None:
    """The run of sentences most like the quote (one fewer to one more than it has), if alike enough to be its edit.

    ``known`` is the cited version's text (whitespace collapsed): a run made only of sentences found
    there is not an edit of the quote. None when that version cannot be read: then every run counts.
    """
    target = _normal(quote)
    count = len(sentence_spans(quote)) or 1
    best: Place | None = None
    for section in sections:
        for text in _runs(section.text, range(max(1, count - 1), count + 2), known=known):
            floor = CHANGED_MIN_SIMILARITY if best is None else best.similarity
            score = _similarity(target, _normal(text), floor=floor)
            if score >= floor and (best is None or score > best.similarity):
                best = Place(section.anchor, section.heading_path, text, score)
    return None if best is None else dataclasses.replace(best, similarity=round(best.similarity, 3))


def _runs(text: str, sizes: range, *, known: str | None) -> Iterator[str]:
    """Runs of consecutive sentences of ``text``, as it writes them, holding at least one sentence not in ``known``."""
    spans = sentence_spans(text)
    new = [known is None or _normal(text[start:end]) not in known for start, end in spans]
    for size in sizes:
        for first in range(len(spans) - size + 1):
            if any(new[first : first + size]):
                yield text[spans[first][0] : spans[first + size - 1][1]]


def _similarity(a: str, b: str, *, floor: float) -> float:
    """difflib's ratio (2 x matching characters / both lengths); 0 when its cheap upper bounds are already below ``floor``.

    Characters, not words: Japanese is written without spaces.
    """
    matcher = SequenceMatcher(None, a, b, autojunk=False)  # autojunk would ignore common characters in long texts
    if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
        return 0.0
    return matcher.ratio()


def _deleted(repo: ContentRepo, ref: CitationRef, *, at: str, view: View) -> Resolution | None:
    """`gone`, with the commit that deleted the article, when ``view`` could see it at its last revision; else None.

    The article's file is found at the cited revision (a scan of that commit's articles, as the command
    line does without an index: only for ids the snapshot does not serve), then followed forward.
    """
    try:
        cited = find_article(repo, ref.article_id, ref.locale, at=ref.revision)
    except (NotAtRef, UnknownRef):
        return None  # nothing by that id at that revision: as unknown as an id that never existed
    removal = _removal(repo, cited, at=at)
    if removal is None:
        return None
    last, removed_by = removal
    if not _visible_at(repo, dataclasses.replace(cited, path=last.path), last.sha, at=at, view=view):
        return None
    verified = _verified(_cited_version(repo, cited, ref, at=at, view=view), ref)
    deletion = Deletion(removed_by.sha, removed_by.committed_at)
    return Resolution("gone", ref.article_id, ref.locale, at, False, verified, deleted=deletion)


def _visible_at(repo: ContentRepo, article: Article, commit: str, *, at: str, view: View) -> bool:
    try:
        version_at(repo, article, commit, at=at, view=view)
    except (NotAtRef, UnknownRef):
        return False
    return True


def _removal(repo: ContentRepo, article: Article, *, at: str) -> tuple[Revision, Revision] | None:
    """The last commit whose tree held the article and the commit that took it away, following moves of its file.

    ``git log --follow`` runs backwards from ``at``: a file moved away reads there as deleted, so a
    move found between the two commits sends the search on to the new name. None when the file still
    holds the article at ``at`` (it is served under that id, or was made invalid rather than deleted).
    """
    path = article.path
    for _ in range(MAX_MOVES):
        found = _last_holding(repo, path, article.key, at=at)
        if found is None:
            return None
        last, removed_by = found
        moved_to = next((c.path for c in repo.changes(last.sha, removed_by.sha) if c.kind == "renamed" and c.old_path == last.path), None)
        if moved_to is None:
            return last, removed_by
        path = moved_to
    return None


def _last_holding(repo: ContentRepo, path: str, key: tuple[str, str], *, at: str) -> tuple[Revision, Revision] | None:
    """In ``path``'s history up to ``at``, the newest commit whose file is the article, and the commit after it."""
    newer: Revision | None = None
    with closing(repo.history(path, at)) as revisions:
        for revision in revisions:
            if revision.kind != "deleted" and _holds_article(repo, revision, key):
                return None if newer is None else (revision, newer)
            newer = revision
    return None


def _holds_article(repo: ContentRepo, revision: Revision, key: tuple[str, str]) -> bool:
    try:
        return parse_article(revision.path, repo.read_blob(revision.sha, revision.path)).key == key
    except (FileNotFoundError, InvalidArticle):
        return False
