"""Events kept for ``KB_ANALYTICS_RETENTION_DAYS`` and no longer: the server purges daily, `kb analytics purge` on demand."""

from __future__ import annotations

import datetime as dt
import logging
import threading

from sqlalchemy import CursorResult, Engine, delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col

from kb.core.db import EventRecord

log = logging.getLogger(__name__)

PURGE_BATCH = 50_000
"""Rows deleted per transaction: a purge of months of events never holds the table in one long transaction."""


def purge_events(engine: Engine, *, days: int, now: dt.datetime | None = None) -> int:
    """Delete every event older than ``days`` days, in batches; how many were deleted."""
    cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=days)
    deleted = 0
    while True:
        with Session(engine) as session:
            batch = select(col(EventRecord.id)).where(col(EventRecord.at) < cutoff).limit(PURGE_BATCH)
            result = session.execute(delete(EventRecord).where(col(EventRecord.id).in_(batch.scalar_subquery())))
            session.commit()
        removed = result.rowcount if isinstance(result, CursorResult) else 0
        deleted += removed
        if removed < PURGE_BATCH:
            return deleted


PURGE_EVERY = dt.timedelta(days=1)


class PurgeLoop:
    """The server's purge: once at start, then every :data:`PURGE_EVERY`, on a thread of its own.

    A purge that fails (the database is away) is logged and tried again at the next turn: it is never
    urgent, and never in a request's way.
    """

    def __init__(self, engine: Engine, *, days: int) -> None:
        self.engine = engine
        self.days = days
        self.purged = 0
        """Events deleted since start."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kb-analytics-purge", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.purged += purge_events(self.engine, days=self.days)
            except (SQLAlchemyError, OSError) as error:
                log.warning("could not purge old events (trying again in %s): %s", PURGE_EVERY, error)
            self._stop.wait(PURGE_EVERY.total_seconds())
