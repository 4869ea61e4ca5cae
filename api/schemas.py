"""Response bodies of the JSON API, declared so /docs shows them and responses are checked against them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, Field, TypeAdapter
from typing_extensions import TypedDict  # pydantic needs it, not typing's, before Python 3.12

from articles.model import Article
from search.snapshot import Hit
from versioning import Revision
from versioning.diff import Line, TextDiff


def article_url(article_id: str, locale: str, anchor: str = "") -> str:
    """Where the help-center site shows an article; a hit's URL points at its best section."""
    return f"/hc/{locale}/articles/{article_id}" + (f"#{anchor}" if anchor else "")


AUDIENCE_DESCRIPTION = (
    "Staff only (null otherwise): who may read the article — public, signed_in, agents (internal) or a list "
    "of customer segments. Only a public, published article's URL opens for anyone."
)
STATUS_DESCRIPTION = "Staff only (null otherwise): published, draft or archived; customers see published articles only."


def access_of(article: Article, *, staff: bool) -> tuple[str | list[str] | None, str | None]:
    """(audience, status) as staff read them, so an agent knows whether a link will open for a customer.

    Other readers get neither: an audience can name segments a customer is not in.
    """
    if not staff:
        return None, None
    audience = article.audience
    return (audience if isinstance(audience, str) or audience is None else list(audience)), article.front.status


# A search response is typed dicts serialised by a TypeAdapter, not models: search builds ten hits per
# request, and models validated as they are built took twice as long to build and serialise (0.05 ms
# per search). mypy checks the keys and types where the dicts are built; the API tests check the JSON
# against this schema.
class HitOut(TypedDict):
    id: str
    title: str
    locale: str
    category: str | None
    url: Annotated[str, Field(description="Help-center URL of the article, with the best section's anchor.")]
    anchor: Annotated[str, Field(description="Id of the best-matching section's heading; empty for the lead.")]
    heading_path: list[str]
    snippet: Annotated[str, Field(description="HTML-escaped excerpt of the best section, matches wrapped in <mark>.")]
    score: float
    revision: Annotated[str, Field(description="Commit that last changed the article.")]
    commit: Annotated[str, Field(description="Commit of the index snapshot that answered.")]
    audience: Annotated[str | list[str] | None, Field(description=AUDIENCE_DESCRIPTION)]
    status: Annotated[str | None, Field(description=STATUS_DESCRIPTION)]


def hit_out(hit: Hit, *, commit: str, staff: bool) -> HitOut:
    article, chunk = hit.article, hit.chunk
    audience, status = access_of(article, staff=staff)
    return HitOut(
        id=article.id,
        title=article.title,
        locale=article.locale,
        category=article.front.category,
        url=article_url(article.id, article.locale, chunk.anchor),
        anchor=chunk.anchor,
        heading_path=list(chunk.heading_path),
        snippet=hit.snippet,
        score=round(hit.score, 6),
        revision=article.revision,
        commit=commit,
        audience=audience,
        status=status,
    )


class ReadAsOut(TypedDict):
    typed: Annotated[str, Field(description="A word of the query the help center does not hold, as typed (lowercased).")]
    word: Annotated[str, Field(description="The help center's word it was read as (one typo from five letters, two from nine).")]


class SearchOut(TypedDict):
    search_id: Annotated[
        str | None, Field(description="Names this search in `POST /v1/events/click`; null when not recorded (a preview, analytics off).")
    ]
    query: str
    mode: str
    locale: str | None
    total: Annotated[int, Field(description="Matching articles (semantic matches are counted among the top candidates).")]
    limit: int
    offset: int
    commit: str
    hits: list[HitOut]
    facets: Annotated[
        dict[str, dict[str, int]], Field(description="Matching articles per `category`, `tags` and `locale`, counted like `total`.")
    ]
    read_as: Annotated[list[ReadAsOut], Field(description="Mistyped words and what they were read as; empty when none.")]


SEARCH_OUT = TypeAdapter(SearchOut)
"""Writes a search response as JSON."""


class AnnouncementOut(TypedDict):
    severity: Annotated[str, Field(description="info, maintenance or incident.")]
    starts: Annotated[dt.datetime | None, Field(description="When its window opens; null: since it was published.")]
    ends: Annotated[dt.datetime | None, Field(description="When its window closes; null: while it is published.")]
    active: Annotated[bool, Field(description="Whether the window is open now: banners show it, answers and suggestions put it first.")]


def announcement_out(article: Article, *, active: bool) -> AnnouncementOut | None:
    """An article's announcement window, or None for an ordinary article."""
    front = article.front
    if not front.is_announcement:
        return None
    return AnnouncementOut(severity=front.announced_severity, starts=front.starts, ends=front.ends, active=active)


class ArticleSummary(BaseModel):
    id: str
    title: str
    locale: str
    category: str | None
    tags: list[str]
    url: str
    updated_at: dt.datetime | None
    revision: str
    audience: str | list[str] | None = Field(default=None, description=AUDIENCE_DESCRIPTION)
    status: str | None = Field(default=None, description=STATUS_DESCRIPTION)
    announcement: AnnouncementOut | None = Field(default=None, description="For kind: announcement, its window; null otherwise.")

    @classmethod
    def of(cls, article: Article, *, staff: bool) -> ArticleSummary:
        audience, status = access_of(article, staff=staff)
        return cls(
            id=article.id,
            title=article.title,
            locale=article.locale,
            category=article.front.category,
            tags=list(article.front.tags),
            url=article_url(article.id, article.locale),
            updated_at=article.updated_at,
            revision=article.revision,
            audience=audience,
            status=status,
            announcement=announcement_out(article, active=article.front.active_at(dt.datetime.now(dt.UTC))),
        )


class ArticlePage(BaseModel):
    items: list[ArticleSummary]
    next: str | None = Field(description="URL of the next page, also sent as a Link: rel=\"next\" header.")


class SectionOut(BaseModel):
    anchor: str
    heading_path: list[str]
    text: str


class TranslationOut(BaseModel):
    locale: str
    url: str


class RelatedOut(BaseModel):
    id: str
    title: str
    url: str


class ArticleOut(ArticleSummary):
    html: str = Field(description="Sanitised HTML of the body.")
    sections: list[SectionOut]
    translations: list[TranslationOut]
    related: list[RelatedOut] = Field(description="Articles in the same locale closest in meaning, that the caller may see.")
    commit: str


class ReadyOut(BaseModel):
    status: str = Field(description="ready, or catching-up: serving the last complete snapshot while indexing newer commits.")
    catching_up: bool
    commit: str = Field(description="The commit whose snapshot answers searches now.")
    model: str
    articles: int = Field(description="Articles a public reader can see.")
    chunks: int = Field(description="Indexed sections of those articles.")


class RevisionOut(BaseModel):
    sha: str
    author_name: str
    author_email: str = Field(description="Empty unless the caller is staff.")
    date: dt.datetime = Field(description="Committer date, with the committer's UTC offset.")
    message: str = Field(description="Empty unless the caller is staff: a message may describe other, hidden files.")
    path: str = Field(description="The article's file in that commit (it changes when the file is renamed or moved).")
    change: str = Field(description="added, modified, renamed or deleted.")

    @classmethod
    def of(cls, revision: Revision) -> RevisionOut:
        return cls(
            sha=revision.sha,
            author_name=revision.author_name,
            author_email=revision.author_email,
            date=revision.committed_at,
            message=revision.message,
            path=revision.path,
            change=revision.kind,
        )


class HistoryOut(BaseModel):
    id: str
    locale: str
    items: list[RevisionOut] = Field(description="Newest first.")
    next: str | None = Field(description="URL of the next (older) page, also sent as a Link: rel=\"next\" header.")


class DiffLineOut(BaseModel):
    number: int = Field(description="1-based line number in its own version.")
    text: str


class DiffRowOut(BaseModel):
    kind: str = Field(description="context, deleted, added or changed (a removed line beside the line that replaced it).")
    old: DiffLineOut | None = Field(description="Left side; null on an added row.")
    new: DiffLineOut | None = Field(description="Right side; null on a deleted row.")


class DiffHunkOut(BaseModel):
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    rows: list[DiffRowOut]


class FileDiffOut(BaseModel):
    old_path: str | None = Field(description="null when the file did not exist in the old version.")
    new_path: str | None = Field(description="null when the file does not exist in the new version.")
    unified: str = Field(description="Unified diff of the Markdown file, as `git diff` prints it.")
    hunks: list[DiffHunkOut] = Field(description="The same changes as rows for a side-by-side view.")

    @classmethod
    def of(cls, diff: TextDiff) -> FileDiffOut:
        def line(value: Line | None) -> DiffLineOut | None:
            return None if value is None else DiffLineOut(number=value.number, text=value.text)

        return cls(
            old_path=diff.old_path,
            new_path=diff.new_path,
            unified=diff.unified,
            hunks=[
                DiffHunkOut(
                    old_start=h.old_start, old_count=h.old_count, new_start=h.new_start, new_count=h.new_count,
                    rows=[DiffRowOut(kind=r.kind, old=line(r.old), new=line(r.new)) for r in h.rows],
                )
                for h in diff.hunks
            ],
        )


class DiffOut(FileDiffOut):
    id: str
    locale: str
    from_commit: str
    to_commit: str

    @classmethod
    def of_article(cls, diff: TextDiff, *, article: Article, from_commit: str, to_commit: str) -> DiffOut:
        return cls(
            **FileDiffOut.of(diff).model_dump(),
            id=article.id,
            locale=article.locale,
            from_commit=from_commit,
            to_commit=to_commit,
        )
