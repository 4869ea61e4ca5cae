"""The change feed: every article upserted or deleted by a reindex, with its commit, for external caches and indexes.

Each reindex compares the new snapshot with the one it replaces and appends what changed to the
database. A reader pages through the feed with a cursor and sees only changes to articles it may
see: an article it could see that becomes hidden reads as a delete, and one it never could see
does not appear at all.

The feed has an epoch, a random name given when its database first holds it: a cursor names its
epoch, so a cursor from before the database was replaced is refused (:class:`FeedReset`, a 410)
instead of being read against new sequence numbers and silently missing changes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from articles.model import Article
from kb.access.rules import View
from kb.core.cursors import decode_cursor, encode_cursor
from kb.core.db import ChangeRecord, state_value
from kb.core.requests import InvalidRequest
from search.snapshot import Entry, IndexSnapshot

MAX_CHANGES_PAGE = 1000

_POSITION = re.compile(r"seq:([0-9a-f]{16}):([0-9]{1,18})")
"""A cursor's epoch and sequence number (ASCII digits that fit the database's 64-bit integer)."""
_EPOCH = "change_feed_epoch"


class FeedReset(LookupError):
    """A cursor from another epoch of the feed: its database was replaced, so the reader must start again."""


@dataclass(frozen=True)
class Change:
    seq: int
    article_id: str
    locale: str
    kind: str
    """upsert (fetch the article again) or delete (drop it)."""
    commit: str
    revision: str | None


@dataclass(frozen=True)
class ChangePage:
    changes: list[Change]
    cursor: str
    """Where to continue from; handed back even when the page is empty, so a poller keeps its place."""


def record_changes(engine: Engine, old: IndexSnapshot | None, new: IndexSnapshot) -> int:
    """Append what ``new`` changes relative to ``old`` (everything, for a first index); returns how many."""
    before = {entry.article.key: entry for entry in old.entries} if old is not None else {}
    after = {entry.article.key: entry for entry in new.entries}
    now = dt.datetime.now(dt.UTC)
    records = [
        _record(new.commit, key, before.get(key), after.get(key), now)
        for key in sorted(before.keys() | after.keys())
        if _differs(before.get(key), after.get(key))
    ]
    if records:
        with Session(engine) as session:
            session.add_all(records)
            session.commit()
    return len(records)


def change_page(engine: Engine, view: View, *, cursor: str | None, limit: int) -> ChangePage:
    """Changes after ``cursor`` (from the start without one) that ``view`` may know about, oldest first."""
    if not 1 <= limit <= MAX_CHANGES_PAGE:
        raise InvalidRequest("limit", f"must be between 1 and {MAX_CHANGES_PAGE}")
    epoch = feed_epoch(engine)
    after = _decode_cursor(cursor, epoch) if cursor else 0
    changes: list[Change] = []
    with Session(engine) as session:
        while len(changes) < limit:
            rows = session.exec(
                select(ChangeRecord).where(col(ChangeRecord.seq) > after).order_by(col(ChangeRecord.seq)).limit(limit)
            ).all()
            if not rows:
                break
            for row in rows:
                after = row.seq or after
                change = _as_seen_by(view, row)
                if change is not None:
                    changes.append(change)
                    if len(changes) == limit:
                        break
    return ChangePage(changes, _encode_cursor(epoch, after))


def feed_epoch(engine: Engine) -> str:
    """This database's epoch of the feed, named when first asked for."""
    return state_value(engine, _EPOCH, secrets.token_hex(8))


def feed_is_empty(engine: Engine) -> bool:
    with Session(engine) as session:
        return session.exec(select(ChangeRecord.seq).limit(1)).first() is None


def _differs(old: Entry | None, new: Entry | None) -> bool:
    if old is None or new is None:
        return True
    a, b = old.article, new.article
    return (old.blob_sha, a.path, a.audience, a.front.status) != (new.blob_sha, b.path, b.audience, b.front.status)


def _record(commit: str, key: tuple[str, str], old: Entry | None, new: Entry | None, now: dt.datetime) -> ChangeRecord:
    return ChangeRecord(
        commit=commit,
        article_id=key[0],
        locale=key[1],
        kind="upsert" if new is not None else "delete",
        revision=new.article.revision if new is not None else None,
        audience_before=_audience(old.article) if old else None,
        status_before=old.article.front.status if old else None,
        audience_after=_audience(new.article) if new else None,
        status_after=new.article.front.status if new else None,
        recorded_at=now,
    )


def _audience(article: Article) -> str:
    audience = article.audience
    return json.dumps(list(audience) if isinstance(audience, tuple) else audience)


def _as_seen_by(view: View, row: ChangeRecord) -> Change | None:
    """The change as ``view`` sees it: an upsert while visible, a delete when it stops being visible."""
    visible_before = row.audience_before is not None and view.allows(_load(row.audience_before), row.status_before)
    visible_after = row.audience_after is not None and view.allows(_load(row.audience_after), row.status_after)
    if visible_after:
        kind = "upsert"
    elif visible_before:
        kind = "delete"
    else:
        return None
    return Change(row.seq or 0, row.article_id, row.locale, kind, row.commit, row.revision if visible_after else None)


def _load(audience: str) -> str | tuple[str, ...]:
    value = json.loads(audience)
    return tuple(value) if isinstance(value, list) else value


def _encode_cursor(epoch: str, seq: int) -> str:
    return encode_cursor(f"seq:{epoch}:{seq}")


def _decode_cursor(cursor: str, epoch: str) -> int:
    position = decode_cursor(cursor, field="since")
    found = _POSITION.fullmatch(position)
    if found is None and re.fullmatch(r"seq:[0-9]{1,18}", position):  # handed out before feeds had epochs
        raise FeedReset(_RESET)
    if found is None:
        raise InvalidRequest("since", "not a cursor this API handed out; start again without it")
    if found.group(1) != epoch:
        raise FeedReset(_RESET)
    return int(found.group(2))


_RESET = ("the change feed was started again since this cursor was handed out (its database was replaced); "
          "read the feed again from the beginning, without `since`")
