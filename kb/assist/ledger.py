"""The ledger of what kb gave agents and bots: each suggestion list, answer and retrieval, by interaction id.

Feedback (used, linked, not relevant…) points back at an interaction, so every outcome is
attributed to the articles, sections and revisions that were actually shown. Interactions are written
off the request path (`kb/core/writer.py`); :func:`interaction` reads one back once it is written.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session

from kb.core.db import InteractionRecord
from kb.core.writer import BackgroundWriter
from search.snapshot import Hit


@dataclass(frozen=True)
class Shown:
    """One article as an interaction showed it."""

    article_id: str
    locale: str
    anchor: str
    revision: str

    @classmethod
    def of(cls, hit: Hit) -> Shown:
        """The article of a search hit, at the section it was found in."""
        return cls(hit.article.id, hit.article.locale, hit.chunk.anchor, hit.article.revision)


def record_interactions(
    writer: BackgroundWriter, kind: str, *, principal_kind: str, commit: str, shown: Sequence[Sequence[Shown]]
) -> list[str]:
    """One interaction per list in ``shown``, queued to be written in one transaction; their ids, in order."""
    now = dt.datetime.now(dt.UTC)
    ids = [uuid.uuid4().hex for _ in shown]
    rows = [
        {"id": interaction_id, "kind": kind, "principal_kind": principal_kind, "commit": commit,
         "items": json.dumps([vars(item) for item in items]), "created_at": now}
        for interaction_id, items in zip(ids, shown, strict=True)
    ]  # fmt: skip
    writer.add(InteractionRecord, rows)
    return ids


def interaction(writer: BackgroundWriter, interaction_id: str) -> InteractionRecord | None:
    """The interaction with this id, waiting for the ones just recorded to be written; None if there is none."""
    writer.flush()
    with Session(writer.engine) as session:
        return session.get(InteractionRecord, interaction_id)
