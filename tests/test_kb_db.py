"""The database layer: the embedding cache round-trips on SQLite and PostgreSQL alike."""

from __future__ import annotations

import os

import numpy as np
import pytest

from kb.core.db import DatabaseVectorStore, make_engine, normalise_url
from tests.conftest import TEST_DATABASE_ENV


def test_tests_run_on_the_database_ci_asks_for(database_url: str) -> None:
    engine = make_engine(database_url)
    expected = "postgresql" if os.environ.get(TEST_DATABASE_ENV) else "sqlite"
    assert engine.dialect.name == expected


def test_embedding_cache_returns_what_was_stored(database_url: str) -> None:
    store = DatabaseVectorStore(make_engine(database_url))
    vector = np.linspace(-1, 1, 384, dtype=np.float32)
    store.put_many({"a" * 64: vector})
    assert np.array_equal(store.get_many(["a" * 64, "b" * 64])["a" * 64], vector)
    assert store.count() == 1


def test_storing_the_same_key_twice_keeps_one_row(database_url: str) -> None:
    store = DatabaseVectorStore(make_engine(database_url))
    store.put_many({"c" * 64: np.ones(4, dtype=np.float32)})
    store.put_many({"c" * 64: np.ones(4, dtype=np.float32)})
    assert store.count() == 1


def test_lookups_larger_than_one_statement_are_batched(database_url: str) -> None:
    store = DatabaseVectorStore(make_engine(database_url))
    keys = [f"{n:064d}" for n in range(1200)]
    store.put_many({key: np.full(2, n, dtype=np.float32) for n, key in enumerate(keys)})
    found = store.get_many(keys)
    assert len(found) == 1200 and found[keys[1199]][0] == 1199


def test_postgres_urls_are_taken_as_libpq_writes_them() -> None:
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"


def test_unsupported_database_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="sqlite:/// and postgresql://"):
        make_engine("mysql://root@localhost/kb")
