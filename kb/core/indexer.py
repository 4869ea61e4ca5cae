"""Building snapshots from the content repository: in full, or from the previous one and the Git diff."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from articles.chunk import chunk_article
from articles.model import Article, ArticleError, Chunk
from articles.parse import InvalidArticle, is_article_path, parse_article
from kb.access.published import select_articles, with_audience
from kb.access.rules import ACCESS_FILE, access_rules_at
from kb.core import failpoints
from search.analyze import Analyzer
from search.encoder import CachedEncoder
from search.fields import FIELDS_VERSION, chunk_tokens, document_text, document_tokens
from search.snapshot import Entry, IndexSnapshot, SnapshotTag
from search.synonyms import NO_SYNONYMS, SYNONYMS_FILE, Synonyms, SynonymsError, parse_synonyms
from versioning.repo import ContentRepo, GitFile

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total), stage "chunking" (articles) then "embedding" (chunks): how `kb index` draws its
bar, and where a build can be stopped (the callback raises)."""


@dataclass
class BuildReport:
    """What a build did, for `kb index` and the logs."""

    commit: str
    incremental: bool
    articles: int = 0
    chunks: int = 0
    parsed: int = 0
    embedded: int = 0
    cached: int = 0
    seconds: float = 0.0
    model_seconds: float = 0.0
    """Of ``seconds``, the time the model spent embedding."""
    skipped: list[ArticleError] = field(default_factory=list)


@dataclass(frozen=True)
class _Selection:
    """The articles a build indexes, and where each comes from: kept from the previous snapshot, or parsed now."""

    active: list[Article]
    kept: dict[str, Entry]
    blob_of: dict[str, str]
    """Blob sha of every article parsed in this build, by path."""
    errors: dict[str, ArticleError]


def embedded_texts(articles: Iterable[tuple[Sequence[Chunk], str | None]]) -> list[str]:
    """What a build embeds for ``(chunks, whole text)`` pairs, in its order: every chunk, then each whole text."""
    pairs = list(articles)
    return [chunk.embed_text for chunks, _ in pairs for chunk in chunks] + [whole for _, whole in pairs if whole is not None]


@dataclass(frozen=True)
class _Chunked:
    """One article cut into chunks and analysed, waiting for its vectors."""

    chunks: tuple[Chunk, ...]
    terms: tuple[tuple[str, ...], ...]
    spans: tuple[np.ndarray, ...]
    document_text: str | None
    document_terms: tuple[str, ...]


@dataclass(frozen=True)
class ChunkSettings:
    max_tokens: int = 256
    overlap_tokens: int = 32


class Indexer:
    """Turns a commit into an :class:`IndexSnapshot`, reusing everything the diff says is unchanged."""

    def __init__(
        self, *, repo: ContentRepo, encoder: CachedEncoder, analyzer: Analyzer, chunking: ChunkSettings
    ) -> None:
        self.repo = repo
        self.encoder = encoder
        self.analyzer = analyzer
        self.chunking = chunking

    @property
    def settings_tag(self) -> str:
        """Everything besides commit and model that shapes a snapshot; a saved one with another is rebuilt."""
        chunking = f"chunk={self.chunking.max_tokens}/{self.chunking.overlap_tokens}"
        return f"analyzer={self.analyzer.version};{FIELDS_VERSION};{chunking}"

    def tag(self, commit: str) -> SnapshotTag:
        return SnapshotTag(commit=commit, model_id=self.encoder.encoder.model_id, settings=self.settings_tag)

    def build(
        self, commit: str, *, previous: IndexSnapshot | None = None, progress: Progress | None = None
    ) -> tuple[IndexSnapshot, BuildReport]:
        """A snapshot of ``commit``; with a compatible ``previous``, only files the diff touched are re-read."""
        started = time.perf_counter()
        reusable = previous is not None and previous.tag == dataclasses.replace(self.tag(commit), commit=previous.commit)
        selection = self._select(commit, previous if reusable else None)
        before = dataclasses.replace(self.encoder.stats)
        entries = self._entries(selection, progress)
        synonyms, synonym_errors = self._synonyms_at(commit)
        errors = sorted([*selection.errors.values(), *synonym_errors], key=_by_path)
        snapshot = IndexSnapshot(tag=self.tag(commit), entries=entries, errors=errors, synonyms=synonyms)
        report = BuildReport(
            commit=commit,
            incremental=reusable,
            articles=len(entries),
            chunks=len(snapshot.chunks),
            parsed=len(selection.blob_of),
            embedded=self.encoder.stats.embedded - before.embedded,
            cached=self.encoder.stats.cached - before.cached,
            model_seconds=self.encoder.stats.model_seconds - before.model_seconds,
            seconds=time.perf_counter() - started,
            skipped=list(snapshot.errors),
        )
        return snapshot, report

    def texts_to_embed(self, commit: str) -> list[str]:
        """The texts a full build of ``commit`` embeds (chunks, then whole articles), without embedding them.

        What sizes a build: `make bench` times the model's raw ``encode`` on exactly these texts on
        both sides of a build, so that a drift in the machine's speed hits both sides of the ratio.
        """
        chunked = [(article, self._chunks(article)) for article in self._select(commit, None).active]
        return embedded_texts((chunks, document_text(article, chunks)) for article, chunks in chunked)

    def _select(self, commit: str, previous: IndexSnapshot | None) -> _Selection:
        """Read what the diff from ``previous`` touched (everything without one) and pick the articles to index."""
        kept, errors, to_read = self._plan(commit, previous)
        files = self.repo.files_at(commit, paths=to_read) if to_read is not None else self.repo.files_at(commit)
        rules, rule_errors = access_rules_at(self.repo, commit)
        parsed, parse_errors = _parse(file for file in files if is_article_path(file.path))
        errors.update({error.path: error for error in [*parse_errors, *rule_errors]})
        candidates = [with_audience(entry.article, rules) for entry in kept.values()]
        candidates += [with_audience(article, rules) for article, _ in parsed]
        active, rejected = select_articles(candidates, rules)
        errors.update({error.path: error for error in rejected})
        return _Selection(active, kept, {article.path: blob for article, blob in parsed}, errors)

    def _plan(
        self, commit: str, previous: IndexSnapshot | None
    ) -> tuple[dict[str, Entry], dict[str, ArticleError], list[str] | None]:
        """Entries to keep as they are, errors still standing, and paths to read (None: every file)."""
        if previous is None:
            return {}, {}, None
        changes = self.repo.changes(previous.commit, commit)
        touched = {change.path for change in changes} | {c.old_path for c in changes if c.old_path}
        # Duplicate ids and undeclared segments are errors that depend on other files: re-read them so
        # that deleting the first of two duplicates, or declaring the segment, brings the article in.
        retry = {error.path for error in previous.errors if error.field in ("id", "audience")}
        kept = {e.article.path: e for e in previous.entries if e.article.path not in touched | retry}
        errors = {e.path: e for e in previous.errors if e.path not in touched | retry | {ACCESS_FILE, SYNONYMS_FILE}}
        present = {change.path for change in changes if change.kind != "deleted"}
        return kept, errors, sorted((present | retry) - {ACCESS_FILE})

    def _synonyms_at(self, commit: str) -> tuple[Synonyms, list[ArticleError]]:
        """The commit's .kb/synonyms.yml; a broken one is reported like an article error and searches go on without synonyms."""
        try:
            return parse_synonyms(self.repo.read_blob(commit, SYNONYMS_FILE)), []
        except FileNotFoundError:
            return NO_SYNONYMS, []
        except SynonymsError as broken:
            return NO_SYNONYMS, [ArticleError(SYNONYMS_FILE, broken.field, broken.reason)]

    def _entries(self, selection: _Selection, progress: Progress | None) -> list[Entry]:
        """Entries in path order: kept ones with their (possibly new) audience, new ones chunked and embedded."""
        # Parsed now, so never among the kept ones.
        fresh = [article for article in selection.active if article.path in selection.blob_of]
        chunked = {}
        for done, article in enumerate(fresh, start=1):
            chunked[article.path] = self._chunk(article)
            if progress:
                progress("chunking", done, len(fresh))
        vectors = self._embed(chunked, progress)
        entries = []
        for article in selection.active:
            if article.path in chunked:
                parts = chunked[article.path]
                chunk_vectors, document_vector = vectors[article.path]
                entries.append(
                    Entry(
                        article,
                        selection.blob_of[article.path],
                        parts.chunks,
                        parts.terms,
                        chunk_vectors,
                        parts.spans,
                        document_vector=document_vector,
                        document_terms=parts.document_terms,
                    )
                )
            else:
                entries.append(dataclasses.replace(selection.kept[article.path], article=article))
        return entries

    def _chunk(self, article: Article) -> _Chunked:
        chunks = self._chunks(article)
        tokens = [chunk_tokens(chunk, article, analyzer=self.analyzer) for chunk in chunks]
        return _Chunked(
            chunks,
            tuple(terms for terms, _ in tokens),
            tuple(spans for _, spans in tokens),
            document_text(article, chunks),
            document_tokens(article, analyzer=self.analyzer),
        )

    def _chunks(self, article: Article) -> tuple[Chunk, ...]:
        return tuple(
            chunk_article(
                article,
                # The model adds [CLS] and [SEP]: two tokens of its window are not ours to fill.
                max_tokens=min(self.chunking.max_tokens, self.encoder.encoder.max_tokens - 2),
                overlap_tokens=self.chunking.overlap_tokens,
                count_tokens=self.encoder.encoder.count_tokens,
            )
        )

    def _embed(self, chunked: dict[str, _Chunked], progress: Progress | None) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
        """Per article, its chunks' vectors and its whole text's (None for a one-chunk article: its chunk is its whole)."""
        texts = embedded_texts((parts.chunks, parts.document_text) for parts in chunked.values())
        done = 0

        def advance(count: int) -> None:
            nonlocal done
            done += count
            if self.encoder.stats.embedded:
                failpoints.reached("embedding")  # a batch embedded and cached, perhaps not all
            if progress:
                progress("embedding", done, len(texts))

        # Batches of 64: progress (and a stop asked for while starting up) every couple of seconds.
        matrix = self.encoder.encode(texts, batch_size=64, progress=advance)
        result: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
        start = 0
        documents = iter(matrix[sum(len(parts.chunks) for parts in chunked.values()) :])
        for path, parts in chunked.items():
            vectors = matrix[start : start + len(parts.chunks)]
            start += len(parts.chunks)
            result[path] = (vectors, next(documents) if parts.document_text is not None else None)
        return result


def _parse(files: Iterable[GitFile]) -> tuple[list[tuple[Article, str]], list[ArticleError]]:
    parsed, errors = [], []
    for file in files:
        try:
            article = parse_article(file.path, file.data, revision=file.revision, updated_at=file.updated_at)
        except InvalidArticle as invalid:
            errors.append(invalid.error)
        else:
            parsed.append((article, file.blob_sha))
    return parsed, errors


def _by_path(error: ArticleError) -> str:
    return error.path
