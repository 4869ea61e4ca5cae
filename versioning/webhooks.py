"""Webhook deliveries from GitHub and GitLab: authenticated, de-duplicated, and turned into a sync request.

Nothing in a payload is trusted beyond "the repository may have changed": the sync computes what
changed from Git itself, so a payload's file lists are never read.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import OrderedDict


def github_signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """``X-Hub-Signature-256`` is ``sha256=`` + HMAC-SHA256 of the raw body; compared in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.encode())


def gitlab_token_valid(token: str, header: str | None) -> bool:
    """``X-Gitlab-Token`` carries the configured token itself; compared in constant time."""
    return header is not None and hmac.compare_digest(token.encode(), header.encode())


def github_wants_sync(event: str, body: bytes, branch: str) -> bool:
    """A push to the served branch, or a pull request merged into it."""
    payload = _json(body)
    if event == "push":
        return payload.get("ref") == f"refs/heads/{branch}"
    if event == "pull_request":
        pull = payload.get("pull_request") or {}
        return payload.get("action") == "closed" and bool(pull.get("merged")) and (pull.get("base") or {}).get("ref") == branch
    return False


def gitlab_wants_sync(event: str, body: bytes, branch: str) -> bool:
    """A push to the served branch, or a merge request merged into it."""
    payload = _json(body)
    if event == "Push Hook":
        return payload.get("ref") == f"refs/heads/{branch}"
    if event == "Merge Request Hook":
        attributes = payload.get("object_attributes") or {}
        return attributes.get("state") == "merged" and attributes.get("target_branch") == branch
    return False


def _json(body: bytes) -> dict:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return payload if isinstance(payload, dict) else {}


class Deliveries:
    """Delivery ids seen lately: a redelivered webhook (GitHub retries, a person clicks "Redeliver") is a no-op."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, delivery: str | None) -> bool:
        """Record ``delivery``; False when it was seen before. A delivery without an id is always new."""
        if not delivery:
            return True
        with self._lock:
            if delivery in self._seen:
                return False
            self._seen[delivery] = None
            if len(self._seen) > self.capacity:
                self._seen.popitem(last=False)
            return True
