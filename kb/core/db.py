"""The database (sqlmodel; SQLite by default, PostgreSQL by URL) and the embedding cache kept in it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import sqlalchemy
from sqlalchemy import Engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import ExceptionContext
from sqlmodel import Field, Session, SQLModel, col, create_engine, select

_LOOKUP_BATCH = 500
"""Keys per SELECT … IN (…): far below SQLite's and PostgreSQL's parameter limits."""


class EmbeddingRecord(SQLModel, table=True):
    """One cached embedding, keyed by sha256(model id + embedded text)."""

    __tablename__ = "embedding_cache"

    key: str = Field(primary_key=True, max_length=64)
    dimension: int
    vector: bytes


class ChangeRecord(SQLModel, table=True):
    """One entry of the change feed: an article (id, locale) upserted or deleted by the snapshot of ``commit``.

    The audience and status before and after are kept so that each reader's feed can be filtered
    to what that reader could see, without reading Git again.
    """

    __tablename__ = "article_changes"

    seq: int | None = Field(default=None, primary_key=True)
    commit: str = Field(max_length=40)
    article_id: str = Field(max_length=128, index=True)
    locale: str = Field(max_length=8)
    kind: str = Field(max_length=8, description="upsert or delete")
    revision: str | None = Field(default=None, max_length=40, description="The commit that last changed the article.")
    audience_before: str | None = Field(default=None, description="JSON; null when the article did not exist before.")
    status_before: str | None = Field(default=None, max_length=16)
    audience_after: str | None = Field(default=None, description="JSON; null when the article no longer exists.")
    status_after: str | None = Field(default=None, max_length=16)
    recorded_at: dt.datetime


class ApiKeyRecord(SQLModel, table=True):
    """An API key: only its SHA-256 digest is stored; ``prefix`` names it in listings and logs."""

    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    role: str = Field(max_length=16)
    prefix: str = Field(max_length=16, index=True)
    digest: str = Field(max_length=64)
    created_at: dt.datetime
    expires_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None


class ProposalRecord(SQLModel, table=True):
    """A proposed change: a branch ``proposals/<id>`` with one commit, and where it stands."""

    __tablename__ = "proposals"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    author: str = Field(max_length=200)
    base: str = Field(max_length=200)
    base_commit: str = Field(max_length=40)
    branch: str = Field(max_length=200)
    head_commit: str = Field(default="", max_length=40)
    status: str = Field(default="open", max_length=16, description="open, merged or closed")
    merged_commit: str | None = Field(default=None, max_length=40)
    created_at: dt.datetime
    updated_at: dt.datetime


class StateRecord(SQLModel, table=True):
    """A value kb keeps about this database itself, e.g. the change feed's epoch."""

    __tablename__ = "kb_state"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=200)


class LockRecord(SQLModel, table=True):
    """A named lock (``kb.core.locks``): updated inside the transaction that holds it; who took it last, and when."""

    __tablename__ = "kb_locks"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=200)
    taken_at: dt.datetime


class InteractionRecord(SQLModel, table=True):
    """One suggestion list, answer or retrieval kb gave: what feedback on it is attributed to.

    The articles shown are kept with the revision and section they were shown at, never the text of
    the ticket or question, nor who asked beyond the kind of principal.
    """

    __tablename__ = "interactions"

    id: str = Field(primary_key=True, max_length=32)
    kind: str = Field(max_length=16, description="suggestion, answer or retrieval")
    principal_kind: str = Field(max_length=16)
    commit: str = Field(max_length=40)
    items: str = Field(description="JSON: [{article_id, locale, anchor, revision}] in the order shown")
    created_at: dt.datetime


class FeedbackRecord(SQLModel, table=True):
    """What happened to an article kb gave: used by an agent, resolved a bot's question, helped a customer…

    Attributed to the article, section, revision and commit it concerns and to the kind of principal
    who said so; never to a key or a customer's identity. One outcome per article of an interaction
    (feedback on an article alone, with no interaction, is not deduplicated: NULLs are distinct).
    """

    __tablename__ = "feedback"
    __table_args__ = (sqlalchemy.UniqueConstraint("interaction_id", "article_id", "locale", "outcome", name="one_outcome_per_article"),)

    id: int | None = Field(default=None, primary_key=True)
    interaction_id: str | None = Field(default=None, max_length=32, index=True)
    article_id: str = Field(max_length=128, index=True)
    locale: str = Field(max_length=8)
    anchor: str = Field(default="", sa_type=sqlalchemy.Text, description="A heading's slug: as long as the heading")
    revision: str = Field(max_length=40)
    commit: str = Field(max_length=40)
    principal_kind: str = Field(max_length=16)
    outcome: str = Field(max_length=24)
    reason: str | None = Field(default=None, max_length=40)
    comment: str | None = Field(default=None, max_length=2000)
    created_at: dt.datetime = Field(index=True, description="Reports read a date range of it")


class EventRecord(SQLModel, table=True):
    """What a reader did: a search, a click on one of its results, an article view, a vote (`kb/analytics/events.py`).

    Never who: the kind of principal and, for a signed-in customer, their segments; a query is stored
    scrubbed of personal data (`kb/analytics/scrub.py`). Kept for ``KB_ANALYTICS_RETENTION_DAYS``.
    """

    __tablename__ = "events"
    __table_args__ = (sqlalchemy.Index("events_kind_at", "kind", "at"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=sqlalchemy.BigInteger().with_variant(sqlalchemy.Integer(), "sqlite"))
    at: dt.datetime = Field(index=True)
    kind: str = Field(max_length=16, description="search, click, view or vote")
    surface: str = Field(max_length=16, description="site, widget, api, agent, bot or mcp")
    search_id: str | None = Field(
        default=None,
        max_length=32,
        index=True,
        description="A search's id (an agent's or bot's: its interaction's), or the search a click or vote came from",
    )
    query: str | None = Field(default=None, sa_type=sqlalchemy.Text)
    locale: str | None = Field(default=None, max_length=8)
    mode: str | None = Field(default=None, max_length=16)
    principal_kind: str = Field(max_length=16)
    segments: str | None = Field(default=None, max_length=400)
    results: str | None = Field(default=None, sa_type=sqlalchemy.Text, description="The page's article ids, in order, comma-separated")
    total: int | None = None
    latency_ms: float | None = None
    article_id: str | None = Field(default=None, max_length=128)
    position: int | None = Field(default=None, description="A clicked result's place on its page, from 1")
    outcome: str | None = Field(default=None, max_length=16, description="A vote's: helpful or not_helpful")


class QueryDayRecord(SQLModel, table=True):
    """A day's searches of one query on one surface and locale, rolled up from events (`kb/analytics/rollups.py`).

    What reports read instead of millions of events; kept, and purged, as long as the events.
    """

    __tablename__ = "query_days"

    id: int | None = Field(default=None, primary_key=True, sa_type=sqlalchemy.BigInteger().with_variant(sqlalchemy.Integer(), "sqlite"))
    day: dt.date = Field(index=True)
    surface: str = Field(max_length=16)
    locale: str = Field(max_length=8, description="'' when the search named none")
    query: str = Field(sa_type=sqlalchemy.Text, description="Scrubbed and lowercased: the searches grouped under it")
    searches: int
    zero_results: int = Field(description="Searches that found nothing (a bot: did not answer)")
    clicked: int = Field(description="Searches with a click on a result")
    not_helpful: int = Field(description="Searches one of whose clicked articles was then voted not helpful")
    resolved: int = Field(description="A bot's questions its answer resolved")
    escalated: int = Field(description="A bot's questions handed to a person")
    accepted: int = Field(description="An agent's suggestion lists one of which was used or linked")


class ArticleDayRecord(SQLModel, table=True):
    """A day's views and clicks of one article on one surface, rolled up from events."""

    __tablename__ = "article_days"

    id: int | None = Field(default=None, primary_key=True, sa_type=sqlalchemy.BigInteger().with_variant(sqlalchemy.Integer(), "sqlite"))
    day: dt.date = Field(index=True)
    surface: str = Field(max_length=16)
    locale: str = Field(max_length=8)
    article_id: str = Field(max_length=128)
    views: int
    clicks: int


def state_value(engine: Engine, key: str, default: str) -> str:
    """The value of ``key``, stored as ``default`` by whoever asks first (processes agree on one)."""
    with Session(engine) as session:
        found = session.get(StateRecord, key)
    if found is None:
        insert_missing(engine, StateRecord, [{"key": key, "value": default}])
        with Session(engine) as session:
            found = session.get(StateRecord, key)
    assert found is not None  # inserted above, by this process or another
    return found.value


def insert_missing(engine: Engine, table: type[SQLModel], rows: list[dict]) -> None:
    """Insert ``rows``, leaving alone any whose primary key is there already (by another process, too)."""
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    keys = [column.name for column in sqlalchemy.inspect(table).primary_key]
    with engine.begin() as connection:
        connection.execute(insert(table).on_conflict_do_nothing(index_elements=keys), rows)


def normalise_url(url: str) -> str:
    """Let people write postgresql://… as libpq does; SQLAlchemy would otherwise look for psycopg2."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    """An engine with kb's tables created; SQLite is shared across the server's threads."""
    url = normalise_url(url)
    if not url.startswith(("sqlite", "postgresql")):
        raise ValueError(f"KB_DATABASE_URL {url.split(':', 1)[0]!r}: kb supports sqlite:/// and postgresql:// URLs")
    # SQLite: shared across the server's threads; a writer waits up to 30 s for another's transaction
    # (a merge holds the write lock while git moves the branch) instead of failing at once.
    connect_args = {"check_same_thread": False, "timeout": 30} if url.startswith("sqlite") else {}
    engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True)
    if url.startswith("sqlite"):
        event.listen(engine, "handle_error", _drop_sqlite_connection_after_io_error)
        _check_sqlite(engine)
    SQLModel.metadata.create_all(engine)
    _add_new_columns(engine)
    return engine


ADDED_COLUMNS = ((EventRecord, "outcome"),)
"""Columns added to a table after it first shipped, so a database made before has them added at start.
Each is nullable: rows written before read as NULL."""


def _add_new_columns(engine: Engine) -> None:
    """Bring a database made by an earlier kb up to these tables: the added columns, and indexes added since
    (``create_all`` makes a missing table whole, but leaves a table that exists as it is)."""
    inspector = sqlalchemy.inspect(engine)
    for table, name in ADDED_COLUMNS:
        present = {column["name"] for column in inspector.get_columns(table.__tablename__)}
        if name not in present:
            column = table.__table__.c[name]  # type: ignore[attr-defined]  # sqlmodel's tables lack the attribute's type
            kind = column.type.compile(dialect=engine.dialect)
            with engine.begin() as connection:
                connection.exec_driver_sql(f"ALTER TABLE {table.__tablename__} ADD COLUMN {name} {kind}")
    for created in SQLModel.metadata.sorted_tables:
        for index in created.indexes:  # CREATE INDEX IF NOT EXISTS, in effect
            index.create(engine, checkfirst=True)


class DamagedDatabase(Exception):
    """The SQLite file is not a sound database: found at start, before kb serves from it or writes to it."""


def _check_sqlite(engine: Engine) -> None:
    """``PRAGMA quick_check`` (every page read once, no index cross-check: a fraction of a second for kb's size)."""
    try:
        with engine.connect() as connection:
            found = [str(row) for row in connection.exec_driver_sql("PRAGMA quick_check").scalars()]
    except sqlalchemy.exc.OperationalError:
        raise  # cannot be opened (a missing folder, no permission): not damage, said as such by the caller
    except sqlalchemy.exc.DatabaseError as error:  # "file is not a database", "database disk image is malformed"
        found = [unavailable_reason(error)]
    if found != ["ok"]:
        raise DamagedDatabase(
            f"the SQLite database {engine.url.database} is damaged ({'; '.join(found[:3])}). Stop kb, move the file "
            "aside or restore it from a backup, and start again: the embedding cache and the change feed are "
            "rebuilt from Git, but API keys and proposal records live only in this file"
        )


UNAVAILABLE = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError)
"""What the database raises when it cannot take a request now (down, restarting, unwritable, locked): worth a retry."""


def unavailable_reason(error: Exception) -> str:
    """The driver's own first line (no SQL, no parameters): e.g. "disk I/O error", "connection refused"."""
    original = getattr(error, "orig", None) or error
    return (str(original).strip().splitlines() or [type(original).__name__])[0]


_SQLITE_BROKEN_CONNECTION = ("disk i/o error", "readonly database", "unable to open database file")


def _drop_sqlite_connection_after_io_error(context: ExceptionContext) -> None:
    """A SQLite connection that met an I/O error, or opened read-only while the file was unwritable,
    stays that way: marked as disconnected, the pool discards it, so writes work again once the file does."""
    if any(sign in str(context.original_exception).lower() for sign in _SQLITE_BROKEN_CONNECTION):
        context.is_disconnect = True


class DatabaseVectorStore:
    """The embedding cache in the database, so API replicas sharing PostgreSQL share it too."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with Session(self.engine) as session:
            for start in range(0, len(keys), _LOOKUP_BATCH):
                batch = list(keys[start : start + _LOOKUP_BATCH])
                rows = session.exec(
                    select(EmbeddingRecord.key, EmbeddingRecord.vector).where(col(EmbeddingRecord.key).in_(batch))
                )
                for key, blob in rows:
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, vectors: dict[str, np.ndarray]) -> None:
        if not vectors:
            return
        insert_missing(self.engine, EmbeddingRecord, [
            {"key": key, "dimension": int(vector.shape[0]), "vector": vector.astype(np.float32).tobytes()}
            for key, vector in vectors.items()
        ])

    def count(self) -> int:
        with Session(self.engine) as session:
            return session.exec(select(sqlalchemy.func.count()).select_from(EmbeddingRecord)).one()
