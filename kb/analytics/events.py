"""Events: every search, click on a result, article view and vote after a search, recorded off the request path.

A search hands its event to the knowledge base's background writer and returns; the writer's thread
scrubs the query of personal data (`kb/analytics/scrub.py`) and writes events in batches. When the
database is down or slow, the queue holds at most :data:`MAX_QUEUED` rows: events beyond that are
dropped and counted (``KnowledgeBase.writer.dropped_by_table["events"]``), never a search failed or slowed.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kb.analytics.scrub import Scrubber
from kb.core.db import EventRecord
from kb.core.writer import BackgroundWriter

if TYPE_CHECKING:  # kb.access imports kb.core, which holds an EventLog
    from kb.access.rules import Principal

MAX_QUEUED = 20_000
"""Rows the writer may hold before events are dropped: a few seconds of heavy traffic while the database is away."""
SEARCH_ID = "[0-9a-f]{32}"
"""How a search's id is written (``uuid4().hex``): what a click naming one must match."""
RESULTS_KEPT = 10
"""Article ids kept per search: the first page, what a reader could click."""


def elapsed_ms(started: float) -> float:
    """Milliseconds since ``started`` (a ``time.perf_counter()`` reading): a search's latency as its event keeps it."""
    return (time.perf_counter() - started) * 1000


@dataclass(frozen=True)
class SearchEvent:
    """One search as a surface ran it: what was asked, by which kind of reader, what came back and how fast."""

    surface: str
    query: str
    locale: str | None
    mode: str
    results: Sequence[str]
    """The page's article ids, in order."""
    total: int
    latency_ms: float


class EventLog:
    """Where surfaces record what readers do; one per knowledge base, over its background writer."""

    def __init__(self, writer: BackgroundWriter, scrubber: Scrubber, *, enabled: bool = True) -> None:
        self.writer = writer
        self.enabled = enabled
        self._scrubber = scrubber
        writer.prepare(EventRecord, self._scrubbed)

    @property
    def dropped(self) -> int:
        """Events not stored since start: the queue was full or the database refused them."""
        return self.writer.dropped_by_table[EventRecord.__tablename__]

    def search(self, event: SearchEvent, principal: Principal, *, search_id: str | None = None) -> str | None:
        """Record a search; its id, which a click on one of its results names (None with analytics off).

        An agent's or a bot's search takes the id of the interaction the ledger keeps (``search_id``), so the
        outcome reported on it (used, resolved, escalated…) is that search's.
        """
        if not self.enabled:
            return None
        search_id = search_id or uuid.uuid4().hex
        self._add({
            "kind": "search", "surface": event.surface, "search_id": search_id, "query": event.query, "locale": event.locale,
            "mode": event.mode, "results": ",".join(event.results[:RESULTS_KEPT]), "total": event.total,
            "latency_ms": round(event.latency_ms, 3),
        }, principal)  # fmt: skip
        return search_id

    def click(
        self, *, surface: str, search_id: str | None, article_id: str, locale: str, position: int | None, principal: Principal
    ) -> None:
        """Record a click on a search result (``position`` from 1 on its page)."""
        row = {
            "kind": "click",
            "surface": surface,
            "search_id": search_id,
            "article_id": article_id,
            "locale": locale,
            "position": position,
        }
        self._add(row, principal)

    def view(self, *, surface: str, article_id: str, locale: str, principal: Principal) -> None:
        """Record that an article was read."""
        self._add({"kind": "view", "surface": surface, "article_id": article_id, "locale": locale}, principal)

    def vote(self, *, surface: str, search_id: str, article_id: str, locale: str, outcome: str, principal: Principal) -> None:
        """Record a reader's vote on an article they reached from a search: what ties a "not helpful" to the query.

        The vote itself is the ledger's (`kb/assist/feedback.py`); this event only says which search led to it.
        """
        self._add(
            {"kind": "vote", "surface": surface, "search_id": search_id, "article_id": article_id, "locale": locale, "outcome": outcome},
            principal,
        )

    def _add(self, row: dict, principal: Principal) -> None:
        if not self.enabled:
            return
        segments = ",".join(sorted(principal.segments)) if principal.customer is not None and principal.segments else None
        row |= {"at": dt.datetime.now(dt.UTC), "principal_kind": principal.kind, "segments": segments}
        self.writer.add(EventRecord, [row], limit=MAX_QUEUED)

    def _scrubbed(self, row: dict) -> dict:
        """On the writer's thread: the query without personal data (it never reaches the database as typed)."""
        if row.get("query"):
            row = row | {"query": self._scrubber.scrub(row["query"])}
        return row
