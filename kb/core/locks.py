"""Locks that serialise writers of the content repository, across threads and across kb processes.

Two reviewers merging at once must not both move ``main`` or both write its working copy: git itself
offers no lock that spans "read the branch, compute the merge, move the branch". A lock is a row of
``kb_locks`` updated inside a transaction held for the whole operation: PostgreSQL holds the row lock
and SQLite its write lock until that transaction ends, so a second process waits its turn. The caller
writes its own rows in the same session, so what it records commits together with the release, and a
process killed while holding the lock releases it with its connection.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, update
from sqlmodel import Session, col

from kb.core.db import LockRecord, insert_missing

MERGE = "merge"
"""Writing branches of the content repository: creating and merging proposals, reconciling at start-up."""


class WriterLock:
    """One writer of the content repository at a time: threads queue on a lock, processes on the database.

    The in-process lock comes first so threads wait in order without holding a connection (or, on
    SQLite, polling its busy handler); the database lock then orders this process against the others.
    """

    def __init__(self, engine: Engine, name: str = MERGE) -> None:
        self.engine = engine
        self.name = name
        self._threads = threading.Lock()

    @contextmanager
    def held(self) -> Iterator[Session]:
        """The session holding the lock: write the operation's rows in it, they commit as it is released."""
        with self._threads, database_lock(self.engine, self.name) as session:
            yield session


@contextmanager
def database_lock(engine: Engine, name: str) -> Iterator[Session]:
    """Hold the lock ``name`` until the block ends; yields the session holding it, committed on success."""
    _ensure_row(engine, name)
    with Session(engine, expire_on_commit=False) as session:  # rows read under the lock stay readable after it
        session.exec(  # the row lock (PostgreSQL) or the write lock (SQLite) is taken here and kept until commit
            update(LockRecord)
            .where(col(LockRecord.name) == name)
            .values(holder=f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}", taken_at=_now())
        )
        yield session
        session.commit()


def _ensure_row(engine: Engine, name: str) -> None:
    """The lock's row, made once: an UPDATE of no row would lock nothing."""
    with Session(engine) as session:
        if session.get(LockRecord, name) is not None:
            return
    insert_missing(engine, LockRecord, [{"name": name, "holder": "", "taken_at": _now()}])


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
