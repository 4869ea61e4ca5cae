"""Sync: the content repository brought up to date with its remote, then the index, from the Git diff only.

`kb sync` runs it once; the server runs a :class:`SyncLoop` that polls every ``KB_SYNC_INTERVAL``
seconds and can be woken at once (webhooks will). Whatever fails, the snapshot being served stays:
a fetch error, a diverged history or a failed build only get reported.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from kb.core.indexer import BuildReport
from kb.core.knowledge_base import KnowledgeBase
from kb.core.settings import Settings
from versioning.sync import SyncError, SyncResult, sync_repository

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncReport:
    result: SyncResult
    build: BuildReport | None
    """The reindex the sync triggered; None when the served commit did not change."""
    message: str


def sync_remote(settings: Settings) -> SyncResult:
    """Clone or fast-forward the content repository from ``KB_REPO_URL``; refuses when none is set."""
    if not settings.repo_url:
        raise SyncError("KB_REPO_URL is not set: there is no remote to sync with")
    return sync_repository(settings.content_path, settings.repo_url, settings.repo_branch)


def sync_knowledge_base(kb: KnowledgeBase) -> SyncReport:
    """Fetch and fast-forward, then reindex incrementally if the branch moved past the served snapshot."""
    result = sync_remote(kb.settings)
    build = kb.refresh() if not kb.ready or kb.snapshot.commit != result.after else None
    return SyncReport(result, build, result.describe(kb.settings.repo_branch))


@dataclass(frozen=True)
class SyncStatus:
    """What the last sync did (kept for inspection; the logs say the same)."""

    finished_at: float | None = None
    report: SyncReport | None = None
    error: str | None = None


class SyncLoop:
    """A background thread that syncs every ``interval`` seconds, or at once after :meth:`request`.

    Requests made while a sync runs are merged into one more sync afterwards, so a burst of
    webhooks costs at most two fetches.
    """

    def __init__(self, kb: KnowledgeBase, *, interval: float) -> None:
        self.kb = kb
        self.interval = interval
        self.status = SyncStatus()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kb-sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def start_now(self) -> None:
        """Start, with a sync at once: the remote may have moved while the server was down."""
        self.start()
        self.request()

    def request(self) -> None:
        """Sync as soon as the current sync (if any) is done."""
        self._wake.set()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():  # never started when the server stopped before catching up
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval if self.interval > 0 else None)
            self._wake.clear()
            if self._stop.is_set():
                break
            self._sync_once()

    def _sync_once(self) -> None:
        try:
            report = sync_knowledge_base(self.kb)
        except Exception as error:  # noqa: BLE001 - the loop must outlive any one failure; the old snapshot serves
            log.warning("sync failed, still serving %s: %s", self.kb.snapshot.commit[:12], error)
            self.status = SyncStatus(time.time(), None, str(error))
            return
        level = logging.WARNING if report.result.status == "diverged" else logging.INFO
        log.log(level, "sync: %s", report.message)
        self.status = SyncStatus(time.time(), report, None)
