"""Response bodies of the JSON API, declared so /docs shows them and responses are checked against them."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from articles.model import Article
from search.snapshot import Hit


def article_url(article_id: str, locale: str, anchor: str = "") -> str:
    """Where the help-center site shows an article; a hit's URL points at its best section."""
    return f"/hc/{locale}/articles/{article_id}" + (f"#{anchor}" if anchor else "")


class HitOut(BaseModel):
    id: str
    title: str
    locale: str
    category: str | None
    url: str = Field(description="Help-center URL of the article, with the best section's anchor.")
    anchor: str = Field(description="Id of the best-matching section's heading; empty for the lead.")
    heading_path: list[str]
    snippet: str = Field(description="HTML-escaped excerpt of the best section, matches wrapped in <mark>.")
    score: float
    revision: str = Field(description="Commit that last changed the article.")
    commit: str = Field(description="Commit of the index snapshot that answered.")

    @classmethod
    def of(cls, hit: Hit, *, commit: str) -> HitOut:
        article, chunk = hit.article, hit.chunk
        return cls(
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
        )


class SearchOut(BaseModel):
    query: str
    mode: str
    locale: str | None
    total: int = Field(description="Matching articles (semantic matches are counted among the top candidates).")
    limit: int
    offset: int
    commit: str
    hits: list[HitOut]


class ArticleSummary(BaseModel):
    id: str
    title: str
    locale: str
    category: str | None
    tags: list[str]
    url: str
    updated_at: dt.datetime | None
    revision: str

    @classmethod
    def of(cls, article: Article) -> ArticleSummary:
        return cls(
            id=article.id,
            title=article.title,
            locale=article.locale,
            category=article.front.category,
            tags=list(article.front.tags),
            url=article_url(article.id, article.locale),
            updated_at=article.updated_at,
            revision=article.revision,
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


class ArticleOut(ArticleSummary):
    html: str = Field(description="Sanitised HTML of the body.")
    sections: list[SectionOut]
    translations: list[TranslationOut]
    commit: str


class ReadyOut(BaseModel):
    status: str
    commit: str
    model: str
    articles: int = Field(description="Articles a public reader can see.")
    chunks: int = Field(description="Indexed sections of those articles.")
