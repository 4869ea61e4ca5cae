"""Opening a knowledge base from settings: the sample content on first run, the database, the model."""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable
from pathlib import Path

from kb.core import failpoints
from kb.core.db import make_engine
from kb.core.indexer import Progress
from kb.core.knowledge_base import IndexingStopped, KnowledgeBase
from kb.core.settings import SAMPLE_CONTENT, SAMPLE_HISTORY, Settings
from kb.writing.proposals import reconcile_proposals
from search.encoder import Encoder, SentenceTransformerEncoder
from search.onnx_encoder import OnnxEncoder
from search.staging import remove_abandoned, staging_folder
from versioning.bootstrap import create_repo_from_history
from versioning.sync import redacted, sync_repository

log = logging.getLogger(__name__)


def ensure_content(settings: Settings) -> None:
    """Clone KB_REPO_URL on first start; with neither it nor KB_REPO_PATH, copy the bundled sample into Git.

    The sample is served from a copy, so the server never writes into the source tree; its commits
    replay the history beside it, so dates, history and diffs have something to show from the start.
    Either is built beside its place and renamed into it: a start killed half-way leaves only a
    staging folder, which the next start removes, never a content folder it cannot use.
    """
    if settings.repo_url:
        if not _left_to_build(settings):
            return
        log.info("cloning %s into %s", redacted(settings.repo_url), settings.content_path)
        _build_beside(settings, lambda folder: sync_repository(folder, settings.repo_url or "", settings.repo_branch))
    elif settings.repo_path is None and _left_to_build(settings):
        log.info("copying the sample help center into %s", settings.content_path)
        _build_beside(settings, lambda folder: create_repo_from_history(SAMPLE_CONTENT, folder, history=SAMPLE_HISTORY).close())


def _left_to_build(settings: Settings) -> bool:
    """Whether the content folder is still to be made (what a killed first start left beside it is removed)."""
    remove_abandoned(settings.content_path.parent, ".content-")
    return not settings.content_path.exists()


def _build_beside(settings: Settings, build: Callable[[Path], object]) -> None:
    staging = staging_folder(settings.content_path.parent, ".content-")
    build(staging / "content")
    failpoints.reached("first-start")
    (staging / "content").rename(settings.content_path)
    staging.rmdir()


def load_encoder(settings: Settings) -> Encoder:
    """The model on the configured backend; an ONNX backend exports the model on first use (seconds, once)."""
    if settings.embedding_backend == "torch":
        return SentenceTransformerEncoder(settings.embedding_model, batch_size=settings.embedding_batch_size)
    return OnnxEncoder(
        settings.embedding_model,
        export_dir=onnx_export_dir(settings),
        quantized=settings.embedding_backend == "onnx-int8",
        quantized_queries=settings.embedding_backend == "onnx-int8-queries",
    )


def onnx_export_dir(settings: Settings) -> Path:
    """<model cache>/<readable name>-<hash>: a model path and a hub name never share a folder."""
    name = settings.embedding_model
    readable = re.sub(r"[^A-Za-z0-9._-]+", "--", name).strip("-.")[-60:]
    return settings.models_path / f"{readable}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def open_knowledge_base(
    settings: Settings, *, encoder: Encoder | None = None, progress: Progress | None = None, index: bool = True
) -> KnowledgeBase:
    """A loaded knowledge base: saved snapshot reused when current, else updated or rebuilt.

    With ``index=False`` only the saved snapshot is taken, whatever its commit, and bringing it up
    to date is left to the caller: `kb serve` answers from it at once and catches up behind it (:class:`CatchUp`).
    """
    ensure_content(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    kb = KnowledgeBase(settings=settings, encoder=encoder or load_encoder(settings), engine=make_engine(settings.database))
    reconcile_proposals(kb)
    if index:
        kb.load(progress=progress)
    else:
        kb.serve_saved()
    return kb


class CatchUp:
    """`kb serve`'s start-up indexing, in a thread behind the snapshot already served.

    The port opens at once (searches answer from the last complete snapshot, or 503 on a first start)
    and a SIGTERM stops the build within a batch instead of waiting for it; ``then`` runs once caught
    up (the sync loop starts there, so the two never build at once).
    """

    def __init__(self, kb: KnowledgeBase, *, then: Callable[[], None] | None = None) -> None:
        self.kb = kb
        self.done = threading.Event()
        self.error: str | None = None
        self._then = then
        self._thread = threading.Thread(target=self._run, name="kb-catch-up", daemon=True)

    @property
    def catching_up(self) -> bool:
        return not self.done.is_set()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self.kb.stop_indexing()
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            self.kb.load()
            if self._then is not None:
                self._then()
        except IndexingStopped as stopped:
            log.info("%s", stopped)
        except Exception as error:
            served = f"still serving {self.kb.snapshot.commit[:12]}" if self.kb.ready else "nothing to serve"
            log.exception("start-up indexing failed, %s", served)
            self.error = f"{type(error).__name__}: {error}"
        finally:
            self.done.set()
