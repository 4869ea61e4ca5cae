"""Events, and the days rolled up from them, kept for ``KB_ANALYTICS_RETENTION_DAYS`` and no longer: the server purges
daily, `kb analytics purge` on demand."""

from __future__ import annotations

import datetime as dt
import logging
import threading

from sqlalchemy import CursorResult, Engine, delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col

from kb.analytics.rollups import roll_up
from kb.core.db import ArticleDayRecord, EventRecord, QueryDayRecord

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
            break
    with Session(engine) as session:  # the days rolled up from them go too: they hold the same queries
        for rollup in (QueryDayRecord, ArticleDayRecord):
            session.execute(delete(rollup).where(col(rollup.day) < cutoff.date()))
        session.commit()
    return deleted


PURGE_EVERY = dt.timedelta(days=1)
ROLL_UP_EVERY = dt.timedelta(hours=1)


class UpkeepLoop:
    """The server's analytics upkeep on a thread of its own: the day's rollup every :data:`ROLL_UP_EVERY`
    (`rollups.py`) and the purge every :data:`PURGE_EVERY`, both once at start.

    A turn that fails (the database is away) is logged and tried again at the next: neither is ever
    urgent, nor in a request's way.
    """

    def __init__(self, engine: Engine, *, days: int) -> None:
        self.engine = engine
        self.days = days
        self.purged = 0
        """Events deleted since start."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kb-analytics-upkeep", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        purged_at: dt.datetime | None = None
        while not self._stop.is_set():
            now = dt.datetime.now(dt.UTC)
            try:
                if purged_at is None or now - purged_at >= PURGE_EVERY:
                    self.purged += purge_events(self.engine, days=self.days, now=now)
                    purged_at = now
                roll_up(self.engine, now=now)
            except (SQLAlchemyError, OSError) as error:
                log.warning("analytics upkeep failed (trying again in %s): %s", ROLL_UP_EVERY, error)
            self._stop.wait(ROLL_UP_EVERY.total_seconds())
