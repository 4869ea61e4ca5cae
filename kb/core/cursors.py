"""Opaque page cursors: what a paged endpoint hands out and takes back, and the one error for a foreign one."""

from __future__ import annotations

import base64
import binascii

from kb.core.requests import InvalidRequest


def encode_cursor(position: str) -> str:
    """``position`` as URL-safe base64 without padding: opaque to callers, so its format may change."""
    return base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, field: str) -> str:
    """The position a cursor from :func:`encode_cursor` holds; anything else is a 422 naming ``field``."""
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidRequest(field, "not a cursor this API handed out; start again without it") from None
