"""Rows written off the request path: what kb records about a request never makes the request wait.

A bot's answer, an agent's suggestions and an LLM's retrieval each leave a row in the ledger (and the
analytics to come leave many more). Written in the request, each costs a database commit — about
1.7 ms on SQLite, a third of a search — and a database outage would fail the answer itself. Here they
are queued and written by one thread, in one transaction per batch; a batch the database refuses is
dropped and counted (the request it records was already answered), never retried into a growing
queue. Readers that need a row just recorded (feedback on an interaction) :meth:`flush` first.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence

from sqlalchemy import Engine, insert
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, SQLModel

log = logging.getLogger(__name__)

FLUSH_SECONDS = 10.0
"""Longest a reader waits for the rows queued before it; a database that slow is an outage."""
LINGER_ROWS = 1000
"""Rows that end a lingering writer's wait at once: a batch big enough to write."""


class BackgroundWriter:
    """A queue of rows and the thread that writes them, one per knowledge base."""

    def __init__(self, engine: Engine, *, linger: float = 0.0, name: str = "kb-writer") -> None:
        """``linger``: seconds the thread waits for more rows before writing (until :data:`LINGER_ROWS` are queued,
        a reader flushes, or it closes): events arrive one per search, and a transaction for each cost searches
        a tenth of their time (`bench/events_overhead.py`). 0: each wake writes what is there (the ledger)."""
        self.engine = engine
        self.linger = linger
        self.dropped_by_table: Counter[str] = Counter()
        """Rows the database refused, or a full queue turned away, since start, per table."""
        self._pending: list[tuple[type[SQLModel], dict]] = []
        self._prepare: dict[type[SQLModel], Callable[[dict], dict]] = {}
        self._queued = 0
        self._settled = 0
        self._closed = False
        self._flushing = 0
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def dropped(self) -> int:
        """Rows dropped since start, all tables together."""
        return self.dropped_by_table.total()

    def prepare(self, table: type[SQLModel], step: Callable[[dict], dict]) -> None:
        """Have the writer's thread pass each row of ``table`` through ``step`` before writing it: work (scrubbing
        personal data) that must happen before a row is stored but need not make a request wait."""
        self._prepare[table] = step

    def add(self, table: type[SQLModel], rows: Sequence[dict], *, limit: int | None = None) -> bool:
        """Queue ``rows`` (column → value) for ``table``, to be written together; returns at once (after :meth:`close`, once written).

        Plain dicts, inserted as they are: building a table model per row cost more than the insert. With
        ``limit``, rows that would make the queue longer than that are dropped and counted instead (events
        while the database is slow or down: they must not grow without end); False when they were.
        """
        queued = [(table, row) for row in rows]
        with self._changed:
            closed = self._closed
            if limit is not None and len(self._pending) + len(rows) > limit:
                self._count(Counter({_name(table): len(rows)}))
                return False
            if not closed:
                idle = not self._pending
                self._pending.extend(queued)
                self._queued += len(rows)
                # A lingering writer is woken for its first row and for a full batch only: waking it for
                # every event made it contend with the searches it records.
                if idle or not self.linger or len(self._pending) >= LINGER_ROWS:
                    self._changed.notify_all()
        if closed:  # a request that outlived its knowledge base's shutdown: nothing left to hand the rows to
            dropped = self._write(queued)
            with self._changed:
                self._count(dropped)
        return True

    def flush(self, timeout: float = FLUSH_SECONDS) -> bool:
        """Wait until every row queued before this call is written (or dropped); False when ``timeout`` passed first."""
        with self._changed:
            target = self._queued
            self._flushing += 1
            self._changed.notify_all()
            try:
                return self._changed.wait_for(lambda: self._settled >= target, timeout=timeout)
            finally:
                self._flushing -= 1

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._thread.join(timeout=FLUSH_SECONDS)

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._pending or self._closed)
                if self.linger:
                    self._changed.wait_for(lambda: len(self._pending) >= LINGER_ROWS or self._flushing or self._closed, self.linger)
                batch, self._pending = self._pending, []
                if not batch and self._closed:
                    return
            dropped = self._write(batch)
            with self._changed:
                self._settled += len(batch)
                self._count(dropped)
                self._changed.notify_all()

    def _count(self, dropped: Counter[str]) -> None:
        """Count rows dropped, per table (called with ``_changed`` held)."""
        self.dropped_by_table.update(dropped)

    def _write(self, batch: list[tuple[type[SQLModel], dict]]) -> Counter[str]:
        """The batch in one transaction, an insert per table, all of it or none (the reason logged); what was not written, per table."""
        by_table: dict[type[SQLModel], list[dict]] = {}
        unprepared: Counter[str] = Counter()
        for table, row in batch:
            step = self._prepare.get(table)
            try:
                by_table.setdefault(table, []).append(step(row) if step else row)
            except Exception:  # a row the step cannot take is not stored as it was: dropped, and the writer lives on
                log.exception("dropped a %s row kb could not prepare", _name(table))
                unprepared[_name(table)] += 1
        try:
            with Session(self.engine) as session:
                for table, rows in by_table.items():
                    if rows:
                        session.execute(insert(table), rows)
                session.commit()
            return unprepared
        except (SQLAlchemyError, OSError) as error:
            log.warning("dropped %d row(s) kb could not record: %s", len(batch), error)
            return Counter(_name(table) for table, _ in batch)


def _name(table: type[SQLModel]) -> str:
    return str(table.__tablename__)
