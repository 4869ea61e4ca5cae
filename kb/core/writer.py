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
from collections.abc import Sequence

from sqlalchemy import Engine, insert
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, SQLModel

log = logging.getLogger(__name__)

FLUSH_SECONDS = 10.0
"""Longest a reader waits for the rows queued before it; a database that slow is an outage."""


class BackgroundWriter:
    """A queue of rows and the thread that writes them, one per knowledge base."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dropped = 0
        """Rows the database refused, since start."""
        self._pending: list[tuple[type[SQLModel], dict]] = []
        self._queued = 0
        self._settled = 0
        self._closed = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="kb-writer", daemon=True)
        self._thread.start()

    def add(self, table: type[SQLModel], rows: Sequence[dict]) -> None:
        """Queue ``rows`` (column → value) for ``table``, to be written together; returns at once (after :meth:`close`, once written).

        Plain dicts, inserted as they are: building a table model per row cost more than the insert.
        """
        queued = [(table, row) for row in rows]
        with self._changed:
            closed = self._closed
            if not closed:
                self._pending.extend(queued)
                self._queued += len(rows)
                self._changed.notify_all()
        if closed:  # a request that outlived its knowledge base's shutdown: nothing left to hand the rows to
            written = self._write(queued)
            with self._changed:
                self.dropped += len(rows) - written

    def flush(self, timeout: float = FLUSH_SECONDS) -> bool:
        """Wait until every row queued before this call is written (or dropped); False when ``timeout`` passed first."""
        with self._changed:
            target = self._queued
            return self._changed.wait_for(lambda: self._settled >= target, timeout=timeout)

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
                batch, self._pending = self._pending, []
                if not batch and self._closed:
                    return
            written = self._write(batch)
            with self._changed:
                self._settled += len(batch)
                self.dropped += len(batch) - written
                self._changed.notify_all()

    def _write(self, batch: list[tuple[type[SQLModel], dict]]) -> int:
        """The batch in one transaction, an insert per table: all of it, or none (and the reason logged)."""
        by_table: dict[type[SQLModel], list[dict]] = {}
        for table, row in batch:
            by_table.setdefault(table, []).append(row)
        try:
            with Session(self.engine) as session:
                for table, rows in by_table.items():
                    session.execute(insert(table), rows)
                session.commit()
            return len(batch)
        except (SQLAlchemyError, OSError) as error:
            log.warning("dropped %d row(s) kb could not record: %s", len(batch), error)
            return 0
