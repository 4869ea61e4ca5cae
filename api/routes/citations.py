"""GET /v1/citations/resolve: where a stored citation's quote is in the article now, or that it changed or went."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from api.deps import KnowledgeBaseDep, ViewDep
from api.schemas import article_url
from kb.assist import MAX_QUOTE_CHARS, CitationRef, CitationStatus, Resolution, resolve_citation
from kb.core import Line, Prose

router = APIRouter(prefix="/v1", tags=["agents"])


class DeletionOut(BaseModel):
    commit: str = Field(description="The commit that deleted the article (or moved it away under another id).")
    date: dt.datetime = Field(description="When, with the committer's UTC offset.")


class CitationOut(BaseModel):
    status: CitationStatus = Field(
        description="same: in the cited section; moved: verbatim in another section; changed: edited (text is the new "
        "version); gone: no longer in the article, or the article was deleted; unverified: not in the cited section at "
        "the cited revision, nor in the article now."
    )
    article_id: str = Field(description="Where the citation leads now: a renamed article's new id.")
    locale: str
    title: str | None = Field(description="The article's title now; null when it was deleted.")
    url: str | None = Field(description="Help-center URL of the passage now (of the article when the passage is gone); null when deleted.")
    anchor: str | None = Field(description="The section the passage is in now (empty for the lead); null when gone.")
    heading_path: list[str] | None
    text: str | None = Field(description="The passage as the article writes it now; null when gone.")
    similarity: float | None = Field(description="1 for the quote itself, below for an edited passage; null when gone.")
    revision: str | None = Field(description="The commit that last changed the article; null when it was deleted.")
    commit: str = Field(description="Commit of the index snapshot that answered.")
    revision_current: bool = Field(description="Whether the cited revision is still the article's current one.")
    verified: bool | None = Field(
        description="Whether the quote was in the cited section at the cited revision; null when that version cannot be read."
    )
    deleted: DeletionOut | None


@router.get("/citations/resolve", response_model=CitationOut)
def resolve(
    kb: KnowledgeBaseDep,
    view: ViewDep,
    article_id: Line,
    locale: Line,
    revision: Annotated[Line, Query(description="The commit that last changed the article when it was cited (40 hex digits).")],
    quote: Annotated[Prose, Query(description=f"The sentences cited, as kb gave them (at most {MAX_QUOTE_CHARS} characters).")],
    anchor: Annotated[Line, Query(description="The cited section's anchor; empty for the lead.")] = "",
) -> CitationOut:
    """Where a citation's quote is now: same, moved, changed (with the new text) or gone, read from the article's history.

    An article the caller may not see answers 404 exactly as one that does not exist.
    """
    ref = CitationRef(article_id=article_id, locale=locale, anchor=anchor, revision=revision, quote=quote)
    resolution = resolve_citation(kb, ref, view=view)
    if resolution is None:  # worded as GET /v1/articles/{id}?locale= words it: hidden reads as missing
        raise HTTPException(404, f"no article {article_id!r} in locale {locale!r}")
    return _out(resolution)


def _out(resolution: Resolution) -> CitationOut:
    article, place, deleted = resolution.article, resolution.place, resolution.deleted
    return CitationOut(
        status=resolution.status,
        article_id=resolution.article_id,
        locale=resolution.locale,
        title=article.title if article else None,
        url=article_url(article.id, article.locale, place.anchor if place else "") if article else None,
        anchor=place.anchor if place else None,
        heading_path=list(place.heading_path) if place else None,
        text=place.text if place else None,
        similarity=place.similarity if place else None,
        revision=article.revision if article else None,
        commit=resolution.commit,
        revision_current=resolution.revision_current,
        verified=resolution.verified,
        deleted=DeletionOut(commit=deleted.commit, date=deleted.committed_at) if deleted else None,
    )
