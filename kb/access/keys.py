"""API keys: created once and shown once, stored as a digest, listed, revoked and expiring.

A key reads ``kb_<prefix>_<secret>``: the prefix finds the row, the digest of the whole key is then
compared in constant time. Keys are 32 random bytes, so a plain SHA-256 is as strong as a slow hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from kb.access.rules import ROLES, Principal
from kb.core.db import ApiKeyRecord

KEY_PREFIX = "kb_"
"""Every API key starts so; anything else in a bearer header is taken for a customer token."""
_KEY = re.compile(rf"^{KEY_PREFIX}([A-Za-z0-9]{{8}})_([A-Za-z0-9_-]{{43}})$")
_DURATION = re.compile(r"^(\d+)([dh])$")
_SESSION = re.compile(r"^(\d{1,18})\.(\d{1,12})\.([0-9a-f]{64})$")
SESSION_HOURS = 12
"""How long a staff member stays signed in to the help center with a key (the key's own expiry comes first)."""


class KeyRefused(ValueError):
    """A key request kb refuses: an unknown role, a bad duration, an unknown key id."""


@dataclass(frozen=True)
class NewKey:
    record: ApiKeyRecord
    secret: str
    """The key itself: shown once, never stored."""

    @property
    def id(self) -> int:
        """The stored key's id, what `kb keys revoke` takes (the record's, set by the database on insert)."""
        assert self.record.id is not None
        return self.record.id


def create_key(engine: Engine, *, name: str, role: str, expires_in: str | None = None) -> NewKey:
    if role not in ROLES:
        raise KeyRefused(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if not name.strip():
        raise KeyRefused("a key needs a name that says who or what uses it")
    now = dt.datetime.now(dt.UTC)
    prefix = secrets.token_hex(4)
    secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    record = ApiKeyRecord(name=name.strip(), role=role, prefix=prefix, digest=_digest(secret), created_at=now,
                          expires_at=now + parse_duration(expires_in) if expires_in else None)
    with Session(engine) as session:
        session.add(record)
        session.commit()
        session.refresh(record)
    return NewKey(record, secret)


def list_keys(engine: Engine) -> list[ApiKeyRecord]:
    with Session(engine) as session:
        return list(session.exec(select(ApiKeyRecord).order_by(col(ApiKeyRecord.id))).all())


def revoke_key(engine: Engine, key_id: int) -> ApiKeyRecord:
    with Session(engine) as session:
        record = session.get(ApiKeyRecord, key_id)
        if record is None:
            raise KeyRefused(f"no key with id {key_id}; `kb keys list` shows them")
        if record.revoked_at is None:
            record.revoked_at = dt.datetime.now(dt.UTC)
            session.add(record)
            session.commit()
            session.refresh(record)
        return record


def authenticate(engine: Engine, secret: str) -> ApiKeyRecord | None:
    """The live key ``secret`` is, or None (malformed, unknown, revoked or expired: all alike to the caller)."""
    match = _KEY.match(secret)
    if match is None:
        return None
    digest = _digest(secret)
    now = dt.datetime.now(dt.UTC)
    with Session(engine) as session:
        for record in session.exec(select(ApiKeyRecord).where(ApiKeyRecord.prefix == match.group(1))):
            if hmac.compare_digest(record.digest, digest) and record.revoked_at is None and not _expired(record, now):
                return record
    return None


def key_principal(record: ApiKeyRecord) -> Principal:
    """Who a key speaks for: its role and name, its row the bucket its rate limit counts in."""
    return Principal(record.role, record.name, key_id=record.id)


def session_token(record: ApiKeyRecord, *, secret: bytes, now: dt.datetime | None = None) -> str:
    """A help-center session for a staff key: its id, when the session ends, and a MAC keyed by the server's
    ``secret`` and the key's digest.

    The key itself never sits in a cookie; forging a session takes both the secret (outside the
    database) and the digest (inside it), and revoking the key ends every session made with it.
    """
    assert record.id is not None  # a stored key
    ends = int(((now or dt.datetime.now(dt.UTC)) + dt.timedelta(hours=SESSION_HOURS)).timestamp())
    return f"{record.id}.{ends}.{_session_mac(record, ends, secret)}"


def session_key(engine: Engine, token: str, *, secret: bytes, now: dt.datetime | None = None) -> ApiKeyRecord | None:
    """The live key a session token was made with, or None (malformed, ended, forged, revoked or expired alike)."""
    match = _SESSION.match(token)
    if match is None:
        return None
    moment = now or dt.datetime.now(dt.UTC)
    key_id, ends = int(match.group(1)), int(match.group(2))
    if ends <= moment.timestamp():
        return None
    with Session(engine) as session:
        record = session.get(ApiKeyRecord, key_id)
    if record is None or record.revoked_at is not None or _expired(record, moment):
        return None
    return record if hmac.compare_digest(_session_mac(record, ends, secret), match.group(3)) else None


def _session_mac(record: ApiKeyRecord, ends: int, secret: bytes) -> str:
    key = hmac.new(secret, record.digest.encode(), hashlib.sha256).digest()
    return hmac.new(key, f"{record.id}.{ends}".encode(), hashlib.sha256).hexdigest()


def parse_duration(text: str) -> dt.timedelta:
    match = _DURATION.match(text)
    if match is None or int(match.group(1)) == 0:
        raise KeyRefused(f"expiry {text!r}: write a number of days or hours, e.g. 90d or 12h")
    amount = int(match.group(1))
    return dt.timedelta(days=amount) if match.group(2) == "d" else dt.timedelta(hours=amount)


def _expired(record: ApiKeyRecord, now: dt.datetime) -> bool:
    if record.expires_at is None:
        return False
    expires = record.expires_at if record.expires_at.tzinfo else record.expires_at.replace(tzinfo=dt.UTC)
    return expires <= now


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
