"""KnowledgeBase: a content repository tied to its current snapshot, swapped atomically after each reindex."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Engine

from articles.model import Article
from kb.access.rules import View
from kb.core import announcements, contexts, failpoints
from kb.core.changes import feed_is_empty, record_changes
from kb.core.db import DatabaseVectorStore
from kb.core.indexer import BuildReport, ChunkSettings, Indexer, Progress
from kb.core.locks import WriterLock
from kb.core.requests import SearchRequest
from kb.core.security import session_secret
from kb.core.settings import Settings
from kb.core.siteconfig import MAX_LOGO_BYTES, SITE_FILE, SiteConfig, site_config_or_defaults
from kb.core.writer import BackgroundWriter
from search.analyze import Analyzer
from search.encoder import CachedEncoder, Encoder
from search.query import QueryPipeline, QueryVectors, SearchSpec
from search.snapshot import Filters, IndexSnapshot, Results
from search.store import SnapshotStore
from search.traffic import TrafficMix
from versioning.repo import ContentRepo

log = logging.getLogger(__name__)

PREVIEWS_KEPT = 2
"""Preview snapshots kept for reuse (a writer searches the same branch several times); each costs about
as much memory as the served one, so only a couple."""


EVENTS_LINGER_SECONDS = 1.0
"""How long events wait to be written with the ones after them (`kb/core/writer.py`): one transaction a second at most
under a steady trickle of searches, not one per search."""
GAP_VECTORS = 25_000
"""Failed queries whose vectors are kept for the next reading of the content gaps (`kb/analytics/gaps.py`):
a month of a busy help center's distinct failed queries, about 37 MB per process at the default model's 384
dimensions. Filled only when staff read the gaps, and in memory only: the (scrubbed) queries are never written
anywhere beside the events, and a restart forgets them."""
RELATED_ARTICLES = 5
RELATED_FLOOR = 0.3
"""Cosine below which an article is not offered as related. On the sample, every article's five nearest
score 0.33-0.78 (one product's vocabulary); the floor keeps an article on a subject of its own from
being padded with unrelated ones."""


class IndexingStopped(Exception):
    """A build given up because kb is shutting down; nothing was saved or swapped."""


@dataclass(frozen=True)
class SearchResponse:
    results: Results
    commit: str


class KnowledgeBase:
    """Everything a request needs, behind one object.

    Searches read ``self.snapshot`` once and use that object to the end, so a reindex that swaps in a
    new snapshot never changes the ground under a search in progress, and never makes one wait.
    """

    def __init__(self, *, settings: Settings, encoder: Encoder, engine: Engine) -> None:
        self.settings = settings
        self.encoder = encoder
        self.engine = engine
        self.repo = ContentRepo(settings.content_path)
        self.store = SnapshotStore(settings.data_dir / "snapshots", failpoint=failpoints.reached)
        self.analyzer = Analyzer()
        self.indexer = Indexer(
            repo=self.repo,
            encoder=CachedEncoder(encoder, DatabaseVectorStore(engine)),
            analyzer=self.analyzer,
            chunking=ChunkSettings(settings.chunk_max_tokens, settings.chunk_overlap_tokens),
        )
        self.writer = BackgroundWriter(engine)
        """Rows recorded off the request path (the agents' and bots' ledger); events have a writer of their own."""
        from kb.analytics import EventLog, scrubber  # here, not at the top: kb.analytics builds on kb.core

        events = BackgroundWriter(engine, linger=EVENTS_LINGER_SECONDS, name="kb-events")
        scrub = scrubber(settings.analytics_phone_regions, settings.analytics_scrub_patterns)
        self.events = EventLog(events, scrub, enabled=settings.analytics)
        """Searches, clicks and views, for analytics (`kb/analytics/events.py`)."""
        self.writer_lock = WriterLock(engine)
        """Held while a branch of the content repository moves (a merge), by one thread of one process."""
        self._snapshot: IndexSnapshot | None = None
        self._reindexing = threading.Lock()
        self._previews: OrderedDict[str, IndexSnapshot] = OrderedDict()
        self._stopping = threading.Event()
        self._site: tuple[str, SiteConfig, bytes | None] | None = None
        """The served commit's .kb/site.yml and logo, read once per commit."""
        self._announcements: tuple[IndexSnapshot, list[Article]] | None = None
        """The served snapshot's announcements, found once: every page's banner asks which are open."""
        traffic = TrafficMix(window=settings.fusion_window) if settings.fusion_window else None
        self.queries = QueryPipeline(
            encoder=encoder,
            analyzer=self.analyzer,
            depth=settings.search_depth,
            cache_size=settings.query_cache_size,
            traffic=traffic,
            typos=settings.typo_tolerance,
        )
        """The one query path every search surface takes (`search/query.py`)."""
        self.gap_vectors = QueryVectors(encoder, size=GAP_VECTORS)
        """Vectors of failed queries, apart from the searches' own cache so reading the gaps never evicts those."""

    @property
    def snapshot(self) -> IndexSnapshot:
        snapshot = self._snapshot
        if snapshot is None:
            raise RuntimeError("the knowledge base has no snapshot yet: call load() first")
        return snapshot

    @functools.cached_property
    def session_secret(self) -> bytes:
        """What staff members' help-center sessions are signed with, beside their key's digest (`kb.core.security`)."""
        return session_secret(self.settings)

    @property
    def traffic(self) -> TrafficMix | None:
        """The semantic weight of hybrid queries, read off recent ones (`search/traffic.py`); None: each query's own."""
        return self.queries.traffic

    @property
    def served_ref(self) -> str | None:
        """KB_REPO_BRANCH when syncing with a remote; otherwise None, the repository's HEAD."""
        return self.settings.repo_branch if self.settings.repo_url else None

    @property
    def ready(self) -> bool:
        return self._snapshot is not None

    def serve_saved(self) -> bool:
        """Serve the last saved snapshot at once if this model and these settings built it, whatever its commit.

        `kb serve` answers from it while :meth:`load` catches up behind it; False when there is none
        that fits (first start, another model), and nothing can be served until the build is done.
        """
        self.store.remove_abandoned()
        tag = self.store.latest_tag()
        if tag is None or tag != self.indexer.tag(tag.commit):
            return False
        saved = self.store.load_latest()
        if saved is None:
            return False
        if feed_is_empty(self.engine):  # a new database beside a saved snapshot: the feed starts whole
            record_changes(self.engine, None, saved)
        self._snapshot = saved
        log.info("serving the saved snapshot of %s", saved.commit[:12])
        return True

    def load(self, *, progress: Progress | None = None) -> BuildReport | None:
        """Start-up: the saved snapshot, brought up to the branch's commit from the Git diff (rebuilt if unusable).

        Returns None when the saved snapshot was of the current commit (nothing parsed, nothing embedded).
        """
        if self._snapshot is None:
            self.serve_saved()
        head = self.repo.resolve(self.served_ref)
        if self._snapshot is not None and self._snapshot.commit == head:
            return None
        return self.refresh(progress=progress)  # from the saved snapshot when it was served, else in full

    def stop_indexing(self) -> None:
        """Make a build in progress stop at its next batch (:class:`IndexingStopped`): the server is shutting down."""
        self._stopping.set()

    def refresh(
        self, ref: str | None = None, *, previous: IndexSnapshot | None = None, progress: Progress | None = None
    ) -> BuildReport:
        """Index ``ref`` (the served branch when None) and swap the new snapshot in; one reindex at a time."""
        with self._reindexing:
            commit = self.repo.resolve(ref or self.served_ref)
            base = previous if previous is not None else self._snapshot
            snapshot, report = self.indexer.build(commit, previous=base, progress=self._stoppable(progress))
            # Recorded before the snapshot is saved and swapped in: a commit is never served (nor
            # reloaded after a restart) without its entries in the change feed.
            record_changes(self.engine, base, snapshot)
            self.store.save(snapshot)
            failpoints.reached("snapshot-swap")
            self._snapshot = snapshot
        log.info(
            "indexed %s: %d articles, %d chunks (%d embedded, %d cached), %d skipped in %.2fs",
            commit[:12], report.articles, report.chunks, report.embedded, report.cached, len(report.skipped), report.seconds,
        )
        return report

    def _stoppable(self, progress: Progress | None) -> Progress:
        def report(stage: str, done: int, total: int) -> None:
            if self._stopping.is_set():
                raise IndexingStopped(f"stopped while {stage} ({done} of {total}): kb is shutting down")
            if progress is not None:
                progress(stage, done, total)

        return report

    def preview(self, ref: str) -> IndexSnapshot:
        """A snapshot of any commit, branch or tag, neither served nor saved: to search a change before it merges.

        Built from the served snapshot and the Git diff between the two, so only the files that differ
        are parsed and only chunks whose text is new reach the model; the last few are kept.
        """
        with self._reindexing:  # the indexer's repository handle serves one build at a time
            commit = self.repo.resolve(ref)
            served = self.snapshot
            if commit == served.commit:
                return served
            snapshot = self._previews.get(commit)
            if snapshot is None:
                snapshot, _ = self.indexer.build(commit, previous=served)
                self._previews[commit] = snapshot
                while len(self._previews) > PREVIEWS_KEPT:
                    self._previews.popitem(last=False)
            self._previews.move_to_end(commit)
            return snapshot

    def search(self, request: SearchRequest, *, view: View) -> SearchResponse:
        return self.search_many([request], view=view)[0]

    def search_many(
        self, requests: Sequence[SearchRequest], *, view: View, snapshot: IndexSnapshot | None = None, observe_traffic: bool = True
    ) -> list[SearchResponse]:
        """Several searches against one snapshot (the served one by default) as ``view`` sees it, in one pass of the query pipeline.

        ``observe_traffic`` off: these searches are not customers' (a proposal's impact report), so they do not
        move the traffic mix they are weighed by.
        """
        snapshot = snapshot or self.snapshot
        visible = snapshot.visible_articles(view)
        specs = [
            SearchSpec(
                text=r.text,
                mode=r.mode,  # type: ignore[arg-type]  # validated by SearchRequest
                allowed_articles=self._allowed(snapshot, visible, r),
                locale=r.locale,
                limit=r.limit,
                offset=r.offset,
                context=tuple(" ".join(turn.split()) for turn in r.context if turn.strip()),
                ticket=r.ticket,
                snippets=r.snippets,
                facets=r.facets,
            )
            for r in requests
        ]
        results = self.queries.run(snapshot, specs, observe_traffic=observe_traffic)
        return [SearchResponse(results=found, commit=snapshot.commit) for found in results]

    @staticmethod
    def _allowed(snapshot: IndexSnapshot, visible: np.ndarray, request: SearchRequest) -> np.ndarray:
        """What one search may return: what its reader may see, narrowed by its filters, less what it excludes."""
        allowed = visible & snapshot.filtered_articles(request.filters)
        return allowed & ~snapshot.articles_with_ids(request.exclude) if request.exclude else allowed

    def article(self, article_id: str, *, locale: str, view: View) -> Article | None:
        """The article as ``view`` may see it; a hidden article is exactly as absent as a missing one."""
        article = self.snapshot.article(article_id, locale)
        return article if article is not None and view.can_see(article) else None

    def redirect(self, old_id: str, *, locale: str, view: View) -> Article | None:
        """Where an old id (from some article's ``redirect_from``) now lives, if ``view`` may see it there.

        Decided among what ``view`` may see only: whether a hidden article holds the id, or lists it
        first, must not show in the answer.
        """
        snapshot = self.snapshot
        live = snapshot.article(old_id, locale)
        if live is not None and view.can_see(live):
            return None  # a live id wins; one the reader may not see must not change the answer
        return next((article for article in snapshot.redirected(old_id, locale) if view.can_see(article)), None)

    def translations(self, article_id: str, *, view: View, snapshot: IndexSnapshot | None = None) -> list[Article]:
        """Every locale of the article ``view`` may see, in ``snapshot`` (the served one by default)."""
        return [a for a in (snapshot or self.snapshot).articles if a.id == article_id and view.can_see(a)]

    def related(self, article: Article, *, view: View, snapshot: IndexSnapshot | None = None) -> list[Article]:
        """Other articles in the same locale that ``view`` may see, closest in meaning to ``article``.

        Chosen inside the vector search through the view's allow-list, like every search: a hidden
        article can neither be suggested nor take the place of a visible one.
        """
        snapshot = snapshot or self.snapshot
        allowed = snapshot.visible_articles(view) & snapshot.filtered_articles(Filters(locale=article.locale))
        return snapshot.related(article, allowed_articles=allowed, limit=RELATED_ARTICLES, floor=RELATED_FLOOR)

    def site(self) -> SiteConfig:
        """The served commit's .kb/site.yml (the defaults while there is none, or it is broken)."""
        return self._site_at(self.snapshot.commit)[1]

    def logo(self) -> bytes | None:
        """The logo .kb/site.yml names, as committed; None without one, or when it is missing or too large."""
        return self._site_at(self.snapshot.commit)[2]

    def _site_at(self, commit: str) -> tuple[str, SiteConfig, bytes | None]:
        cached = self._site
        if cached is None or cached[0] != commit:
            with self.open_repo() as repo:
                config = site_config_or_defaults(_file_at(repo, commit, SITE_FILE), commit=commit)
                logo = _file_at(repo, commit, config.logo) if config.logo else None
            if logo is not None and len(logo) > MAX_LOGO_BYTES:
                log.warning("not serving the logo %s at %s: larger than %d bytes", config.logo, commit[:12], MAX_LOGO_BYTES)
                logo = None
            cached = self._site = (commit, config, logo)  # two threads may read it at once: both get the same
        return cached

    def announcements(self, *, view: View, locale: str, moment: dt.datetime | None = None) -> list[Article]:
        """Announcements active now (or at ``moment``) that ``view`` may see, in ``locale`` where translated."""
        snapshot, cached = self.snapshot, self._announcements
        if cached is None or cached[0] is not snapshot:
            cached = self._announcements = (snapshot, [a for a in snapshot.articles if a.front.is_announcement])
        return announcements.active(cached[1], view=view, locale=locale, moment=moment or announcements.now())

    def for_page(self, *, view: View, locale: str, path: str | None, areas: frozenset[str]) -> list[Article]:
        """The articles for a page of the company's product (their ``contexts:``), most specific first."""
        return contexts.for_page(self.snapshot.articles, view=view, locale=locale, path=path, areas=areas)

    def articles(self, *, view: View, filters: Filters = Filters()) -> list[Article]:
        """Visible articles matching ``filters``, ordered by (id, locale) for stable cursor paging."""
        snapshot = self.snapshot
        allowed = snapshot.visible_articles(view) & snapshot.filtered_articles(filters)
        return sorted((a for a, ok in zip(snapshot.articles, allowed, strict=True) if ok), key=lambda a: a.key)

    def open_repo(self) -> ContentRepo:
        """A repository handle of the caller's own, to close after use (it is a context manager).

        GitPython keeps git helper processes per handle and they are not safe to share between
        threads, so requests reading history never use the one the indexer holds.
        """
        return ContentRepo(self.settings.content_path)

    def close(self) -> None:
        """Write what is queued, then release database connections and git helper processes (the snapshot is plain memory)."""
        self.writer.close()
        self.events.writer.close()
        self.engine.dispose()
        self.repo.close()


def _file_at(repo: ContentRepo, commit: str, path: str) -> bytes | None:
    try:
        return repo.read_blob(commit, path)
    except (FileNotFoundError, ValueError):  # ValueError: a path validate_path refuses
        return None
