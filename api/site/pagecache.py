"""Rendered article pages kept in memory, and their ETags: an article page depends on the served commit, the
locale, the reader's view, the origin, the announcements open now and the vote state in its address, and
on nothing else, so those name it.

A reader's browser revalidates (``Cache-Control: no-cache``) and gets a 304 while nothing changed; a page
rendered for one view is never served to another, as the view is part of the name.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict

PAGES_KEPT = 1024
"""About 40 KB each: some 40 MB at most, for the most read articles in each language and view."""
_PROCESS = secrets.token_hex(8)
"""Part of every ETag: a restart (a new release's templates) never answers 304 for a page it did not render."""


def etag_of(*parts: object) -> str:
    digest = hashlib.sha256("\x1f".join(map(str, (_PROCESS, *parts))).encode()).hexdigest()[:32]
    return f'"{digest}"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether a request's If-None-Match names ``etag`` (a list of them, or ``*``; weak ones compare equal)."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags or "*" in tags


class PageCache:
    """The last :data:`PAGES_KEPT` pages rendered, by ETag; thread-safe (routes run in a thread pool)."""

    def __init__(self, size: int = PAGES_KEPT) -> None:
        self._pages: OrderedDict[str, bytes] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, etag: str) -> bytes | None:
        with self._lock:
            page = self._pages.get(etag)
            if page is not None:
                self._pages.move_to_end(etag)
            return page

    def put(self, etag: str, page: bytes) -> None:
        with self._lock:
            self._pages[etag] = page
            self._pages.move_to_end(etag)
            while len(self._pages) > self._size:
                self._pages.popitem(last=False)
