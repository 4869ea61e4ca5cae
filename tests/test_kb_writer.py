"""The background writer: what kb records about a request is written off its path, in batches, and never fails it."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from kb.core.db import InteractionRecord, make_engine
from kb.core.writer import BackgroundWriter


def record(interaction_id: str) -> dict:
    return {"id": interaction_id, "kind": "answer", "principal_kind": "bot", "commit": "c" * 40, "items": "[]",
            "created_at": dt.datetime.now(dt.UTC)}  # fmt: skip


def stored(writer: BackgroundWriter) -> set[str]:
    with Session(writer.engine) as session:
        return set(session.exec(select(InteractionRecord.id)))


def test_rows_queued_are_written_by_the_time_a_flush_returns(database_url: str) -> None:
    writer = BackgroundWriter(make_engine(database_url))
    writer.add(InteractionRecord, [record("a1"), record("a2")])
    assert writer.flush() and stored(writer) == {"a1", "a2"}
    writer.close()


def test_a_batch_the_database_refuses_is_dropped_and_counted_and_later_rows_still_land(database_url: str) -> None:
    writer = BackgroundWriter(make_engine(database_url))
    writer.add(InteractionRecord, [record("b1")])
    writer.flush()
    writer.add(InteractionRecord, [record("b1"), record("b2")])  # b1 again: the primary key refuses the whole batch
    writer.flush()
    writer.add(InteractionRecord, [record("b3")])
    writer.flush()
    assert stored(writer) == {"b1", "b3"} and writer.dropped == 2
    writer.close()


def test_closing_writes_what_is_queued(database_url: str) -> None:
    writer = BackgroundWriter(make_engine(database_url))
    writer.add(InteractionRecord, [record(f"c{n}") for n in range(50)])
    writer.close()
    assert len(stored(writer)) == 50


def test_rows_recorded_after_closing_are_written_at_once(database_url: str) -> None:
    writer = BackgroundWriter(make_engine(database_url))
    writer.close()
    writer.add(InteractionRecord, [record("d1")])
    assert stored(writer) == {"d1"} and writer.flush()
