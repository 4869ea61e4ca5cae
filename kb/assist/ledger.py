"""The ledger of what kb gave agents and bots: each suggestion list (answers and retrievals to come), by interaction id.

Feedback (used, linked, not relevant…) points back at an interaction, so every outcome is
attributed to the articles, sections and revisions that were actually shown.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import Engine
from sqlmodel import Session

from kb.core.db import InteractionRecord


@dataclass(frozen=True)
class Shown:
    """One article as an interaction showed it."""

    article_id: str
    locale: str
    anchor: str
    revision: str


def record_interactions(engine: Engine, kind: str, *, principal_kind: str, commit: str, shown: Sequence[Sequence[Shown]]) -> list[str]:
    """One interaction per list in ``shown``, written in one transaction; their ids, in order."""
    now = dt.datetime.now(dt.UTC)
    records = [
        InteractionRecord(
            id=uuid.uuid4().hex,
            kind=kind,
            principal_kind=principal_kind,
            commit=commit,
            items=json.dumps([asdict(item) for item in items]),
            created_at=now,
        )
        for items in shown
    ]
    with Session(engine) as session:
        session.add_all(records)
        session.commit()
        return [record.id for record in records]
