"""IndexSnapshot: the immutable chunk table, vectors and lexical index of one commit; `search/query.py` searches it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from articles.model import Article, ArticleError, Chunk
from search.analyze import Analyzer, Need, QueryTerms, Word, english_terms
from search.facets import FacetCounts
from search.fuse import FusionWeights, QuerySignals, Scored
from search.lexical import LexicalIndex
from search.pairs import Holders
from search.snippets import Marks, SnippetText
from search.synonyms import NO_SYNONYMS, Synonyms, SynonymTable
from search.typos import Lexicon
from search.vector import VectorIndex

Mode = Literal["keyword", "semantic", "hybrid"]
EMPTY: Scored = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
MODES: tuple[str, ...] = ("keyword", "semantic", "hybrid")


@dataclass(frozen=True)
class SnapshotTag:
    """What a snapshot was built from; a saved snapshot is reused only when all of it matches."""

    commit: str
    model_id: str
    settings: str


@dataclass(frozen=True)
class Entry:
    """One parsed article with everything derived from it, reused as a whole while its blob is unchanged."""

    article: Article
    blob_sha: str
    chunks: tuple[Chunk, ...]
    terms: tuple[tuple[str, ...], ...]
    vectors: np.ndarray
    spans: tuple[np.ndarray, ...]
    """Per chunk, where its section text's terms (the last ones of ``terms``) are in the chunk's text: snippets mark from them."""
    document_vector: np.ndarray | None
    """The whole article embedded as one text; None where its one chunk is the whole (or it has none)."""
    document_terms: tuple[str, ...]
    """The whole article's terms, for its article-level BM25 (:func:`search.fields.document_tokens`)."""


@dataclass(frozen=True)
class Filters:
    """Caller-chosen narrowing: a locale, a category, and tags an article must all carry."""

    locale: str | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    """One article in the results, represented by its best-matching chunk."""

    article: Article
    chunk: Chunk
    score: float
    snippet: str
    chunk_id: int
    """The chunk's number in its snapshot: where :meth:`IndexSnapshot.matches` finds its words."""


@dataclass(frozen=True)
class Matches:
    """A query's content words in one chunk's text: each occurrence's span, term id and IDF."""

    spans: np.ndarray
    term_ids: np.ndarray
    idf: np.ndarray


@dataclass(frozen=True)
class Evidence:
    """What each retriever said on its own before fusion: how an answer's confidence is judged (`kb/assist/confidence.py`).

    Read off :class:`Results` on demand (:meth:`IndexSnapshot.evidence`): a search box never asks.

    Two retrievers that agree on the best article are rarely both wrong; a best article only one of
    them found is a weaker answer, whatever its fused score.
    """

    lexical_first: int = -1
    """The article (its number in the snapshot) of the lexical side's best chunk; -1 when that side found nothing."""
    lexical_margin: float = 0.0
    """How far that article's BM25 is ahead of the next article's, as a share of it (1 when no other article matched)."""
    semantic_first: int = -1
    """The same for the semantic side (over its floor)."""
    semantic_top: float = 0.0
    """The semantic side's best score: the cosine of the best chunk, mixed with its article's; 0 when it found nothing."""
    semantic_margin: float = 0.0
    """How far that score is above the next article's (its whole score when no other article is over the floor)."""


@dataclass(frozen=True)
class Results:
    hits: list[Hit]
    total: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    """Matching articles per category, tag and locale: counted over every match, like ``total``."""
    content_terms: tuple[str, ...] = ()
    """The query's content terms: where a hit's passage and matched words come from (as a mask, every occurrence)."""
    terms: QueryTerms | None = None
    """The whole query as the lexical index read it: :meth:`IndexSnapshot.marks` makes from it what snippets mark
    (a Japanese pair only inside its word), which :meth:`IndexSnapshot.matches` also takes."""
    lexical: Scored = EMPTY
    """The lexical side's candidates before fusion, best first (what :class:`Evidence` is read from)."""
    semantic: Scored = EMPTY
    """The semantic side's, over its floor."""
    lexical_only: bool = False
    """Ranked by BM25 alone (keyword mode, or a language the model does not read): no semantic side to agree."""

    @property
    def read_as(self) -> tuple[tuple[str, str], ...]:
        """Each mistyped word of the query (as typed) and the word it was read as (`search/typos.py`)."""
        return self.terms.read_as if self.terms is not None else ()


class Reader(Protocol):
    """Who is reading, as search sees it: hashable (the cache key of its allow-list) and able to judge an article."""

    def __hash__(self) -> int: ...

    def can_see(self, article: Article) -> bool: ...


@dataclass
class IndexSnapshot:
    """Everything search needs for one commit. Never changed after construction: a reindex builds a new one.

    ``entries`` holds the articles that are indexed (valid, and first of their id + locale);
    ``errors`` every file that was skipped, with why.
    """

    tag: SnapshotTag
    entries: Sequence[Entry]
    errors: Sequence[ArticleError] = ()
    synonyms: Synonyms = NO_SYNONYMS
    """The commit's .kb/synonyms.yml (`search/synonyms.py`)."""
    _masks: dict[object, np.ndarray] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _snippet_sources: dict[int, tuple[np.ndarray, SnippetText]] = field(default_factory=dict, init=False, repr=False)
    _text_tokens: dict[int, int] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.articles: list[Article] = [entry.article for entry in self.entries]
        self.chunks: list[Chunk] = [chunk for entry in self.entries for chunk in entry.chunks]
        self._chunk_terms = [terms for entry in self.entries for terms in entry.terms]
        self._chunk_spans = [spans for entry in self.entries for spans in entry.spans]
        self.chunk_article = np.repeat(
            np.arange(len(self.entries), dtype=np.int64), [len(entry.chunks) for entry in self.entries]
        )
        dimension = next((entry.vectors.shape[1] for entry in self.entries if entry.vectors.size), 0)
        vectors = [entry.vectors for entry in self.entries if entry.vectors.size]
        matrix = np.concatenate(vectors) if vectors else np.zeros((0, max(dimension, 1)), dtype=np.float32)
        self.vector_index = VectorIndex(matrix)
        self.document_vectors = np.zeros((len(self.entries), matrix.shape[1]), dtype=np.float32)
        for number, entry in enumerate(self.entries):
            if entry.document_vector is not None:
                self.document_vectors[number] = entry.document_vector
            elif len(entry.vectors):  # one chunk: it is the whole article (no chunk: zeros, never a candidate)
                self.document_vectors[number] = entry.vectors[0]
        self.lexical_index = LexicalIndex([list(terms) for entry in self.entries for terms in entry.terms])
        self.document_index = LexicalIndex([list(entry.document_terms) for entry in self.entries])
        self.lexicon = Lexicon.of(_indexed_texts(self.entries), stem=english_terms)
        """The words the help center writes, for reading a mistyped query word (`search/typos.py`)."""
        self._synonym_table: SynonymTable | None = None
        self._facet_counts = FacetCounts(self.articles)
        self._by_key = {article.key: number for number, article in enumerate(self.articles)}
        self._by_path = {article.path: article for article in self.articles}
        # Every article (in path order) that lists an old id in redirect_from: which one answers, and
        # whether a live article with that id wins, depends on what the reader may see.
        self._redirects: dict[tuple[str, str], list[Article]] = {}
        for article in self.articles:
            for old in dict.fromkeys(article.front.redirect_from):
                self._redirects.setdefault((old, article.locale), []).append(article)

    @property
    def commit(self) -> str:
        return self.tag.commit

    def article(self, article_id: str, locale: str) -> Article | None:
        number = self._by_key.get((article_id, locale))
        return None if number is None else self.articles[number]

    def redirected(self, old_id: str, locale: str) -> list[Article]:
        """The articles whose ``redirect_from`` lists ``old_id`` in ``locale``, in path order: a renamed id keeps its links."""
        return self._redirects.get((old_id, locale), [])

    def article_at(self, path: str) -> Article | None:
        return self._by_path.get(path)

    def visible_articles(self, reader: Reader) -> np.ndarray:
        """Boolean mask over articles for one reader's view, computed once per snapshot and view."""
        return self._cached(("view", reader), lambda: np.array([reader.can_see(a) for a in self.articles], dtype=bool))

    def filtered_articles(self, filters: Filters) -> np.ndarray:
        def compute() -> np.ndarray:
            wanted_tags = set(filters.tags)
            return np.array(
                [
                    (filters.locale is None or article.locale == filters.locale)
                    and (filters.category is None or article.front.category == filters.category)
                    and wanted_tags.issubset(article.front.tags)
                    for article in self.articles
                ],
                dtype=bool,
            )

        return self._cached(("filters", filters), compute)

    def articles_with_ids(self, ids: Sequence[str]) -> np.ndarray:
        """The articles (every locale) whose id is among ``ids``, as a mask; none for no ids."""
        wanted = set(ids)
        return np.fromiter((article.id in wanted for article in self.articles), dtype=bool, count=len(self.articles))

    def allowed_chunks(self, allowed_articles: np.ndarray) -> np.ndarray:
        """The chunks of the allowed articles, as a mask over chunks: the allow-list each index searches with."""
        return allowed_articles[self.chunk_article] if len(self.chunks) else np.zeros(0, dtype=bool)

    def results(
        self,
        best_ids: np.ndarray,
        best_scores: np.ndarray,
        *,
        page: slice,
        terms: QueryTerms,
        candidates: tuple[Scored, Scored] = (EMPTY, EMPTY),
        lexical_only: bool = False,
        snippets: bool = True,
        facets: bool = True,
    ) -> Results:
        """Ranked articles (each as its best chunk) paged, the page's hits excerpted and facets counted (unless asked not to)."""
        shown = list(zip(best_ids[page].tolist(), best_scores[page].tolist(), strict=True))
        marks = self.marks(terms) if shown and snippets else None
        hits = [
            Hit(self.articles[self.chunk_article[cid]], self.chunks[cid], score, "" if marks is None else self._snippet(cid, marks), cid)
            for cid, score in shown
        ]
        counts = self._facet_counts.count(self.chunk_article[best_ids]) if facets else {}
        lexical, semantic = candidates
        return Results(
            hits=hits, total=len(best_ids), facets=counts, content_terms=tuple(terms.content), terms=terms, lexical=lexical,
            semantic=semantic, lexical_only=lexical_only,
        )  # fmt: skip

    def synonym_table(self, analyzer: Analyzer) -> SynonymTable:
        """This commit's synonyms as ``analyzer`` reads them, compiled on first use (threads may both compile once)."""
        table = self._synonym_table
        if table is None:
            table = self._synonym_table = self.synonyms.compiled(analyzer)
        return table

    def marks(self, terms: QueryTerms) -> Marks:
        """What a query marks in a hit's text (:class:`Marks`): its content words and the words that stand alone for
        them (a mistyped word's readings, a one-word synonym), and its Japanese character pairs only inside their
        words spelled out, never as pieces of other words (ワー of パスワード in ワークスペース)."""
        pairs_only = terms.pairs_only
        words = self.lexical_index.term_mask([term for term in terms.content if term not in pairs_only] + terms.standing_in)
        if not pairs_only:
            return Marks(words=words)
        spellings: dict[int, dict[tuple[int, ...], None]] = {}
        for word in terms.words:
            ids = [self.lexical_index.term_id(pair) for pair in word.pairs]
            if ids and None not in ids:
                spelling = tuple(number for number in ids if number is not None)
                spellings.setdefault(spelling[0], {})[spelling] = None
        firsts = np.zeros_like(words)
        firsts[list(spellings)] = True
        return Marks(words=words, firsts=firsts, spellings={first: tuple(group) for first, group in spellings.items()})

    def evidence(self, results: Results) -> Evidence:
        """Each side's best article, and how far ahead of the next article it is (:class:`Evidence`)."""
        lexical_ids, bm25 = best_chunk_per_article(*results.lexical, self.chunk_article)
        semantic_ids, cosines = best_chunk_per_article(*results.semantic, self.chunk_article)
        return Evidence(
            lexical_first=int(self.chunk_article[lexical_ids[0]]) if len(lexical_ids) else -1,
            lexical_margin=float(1 - bm25[1] / bm25[0]) if len(bm25) > 1 and bm25[0] > 0 else float(len(bm25) == 1),
            semantic_first=int(self.chunk_article[semantic_ids[0]]) if len(semantic_ids) else -1,
            semantic_top=float(cosines[0]) if len(cosines) else 0.0,
            semantic_margin=float(cosines[0] - (cosines[1] if len(cosines) > 1 else 0.0)) if len(cosines) else 0.0,
        )

    def signals(
        self,
        lexical: Scored,
        semantic: Scored,
        *,
        content_terms: Sequence[str],
        pairs: Mapping[str, Sequence[Need]] | None = None,
        alternatives: Mapping[str, Sequence[Sequence[str]]] | None = None,
    ) -> QuerySignals:
        """What a query's two candidate lists say before they are fused: what adaptive fusion weighs them by."""
        coverage = self.lexical_index.coverage(content_terms, lexical[0][:1], pairs=pairs, alternatives=alternatives)
        return QuerySignals.of(lexical, semantic, coverage=coverage)

    def with_document(
        self, chunk_ids: np.ndarray, scores: np.ndarray, documents: np.ndarray, share: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each chunk's score mixed with its whole article's (``documents``, one score per article), best first.

        A section rarely holds every word or the whole gist of what an article answers; the article as
        one text does, but blurs which section answers. Mixing both beat either alone (`search/fields.py`).
        A chunk's article-level score comes from the same retriever, so the mix keeps the retriever's scale.
        """
        mixed = (1 - share) * scores + share * documents[self.chunk_article[chunk_ids]]
        order = np.argsort(-mixed, kind="stable")
        return chunk_ids[order], mixed[order].astype(np.float32)

    def article_holders(self, words: Sequence[Word]) -> Holders:
        """Which articles hold the words a query's character pairs need: those with a chunk that does. Read
        from the chunks' index (as its scores read them), not the articles' again: half the work."""
        return self.lexical_index.holders(words).grouped(self.chunk_article, len(self.entries))

    def matches(self, chunk_id: int, wanted: np.ndarray | Marks) -> Matches:
        """Where the query's content terms are in a chunk's text: what ``wanted`` marks (:meth:`marks`), or every
        occurrence of the terms of a mask over term ids, pieces of other words included."""
        ids, _ = self._snippet_source(chunk_id)
        spans = self._chunk_spans[chunk_id]
        found = wanted.select(ids, spans) if isinstance(wanted, Marks) else wanted[ids] if len(ids) else np.zeros(0, dtype=bool)
        return Matches(spans=spans[found], term_ids=ids[found], idf=self.lexical_index.idf(ids[found]))

    def text_tokens(self, chunk_id: int, count: Callable[[str], int]) -> int:
        """The model's tokens in a chunk's text (``count``: the snapshot's model's counter), counted on first use and kept.

        Retrieval packs whole sections into a token budget; counting a section costs about a
        microsecond a token, and the same sections answer most questions.
        """
        tokens = self._text_tokens.get(chunk_id)
        if tokens is None:
            tokens = self._text_tokens[chunk_id] = count(self.chunks[chunk_id].text)
        return tokens

    def _snippet(self, chunk_id: int, marks: Marks) -> str:
        """The hit's excerpt, the query's content words marked: function words would mark half a sentence.

        On a chunk's first hit, its text terms are looked up in the lexical index and its text made ready
        for excerpts (:class:`SnippetText`), and both kept.
        """
        ids, text = self._snippet_source(chunk_id)
        spans = self._chunk_spans[chunk_id]
        return text.snippet(spans[marks.select(ids, spans)])

    def _snippet_source(self, chunk_id: int) -> tuple[np.ndarray, SnippetText]:
        source = self._snippet_sources.get(chunk_id)
        if source is None:
            terms, spans = self._chunk_terms[chunk_id], self._chunk_spans[chunk_id]
            ids = self.lexical_index.term_ids(terms[len(terms) - len(spans) :])
            source = self._snippet_sources[chunk_id] = (ids, SnippetText(self.chunks[chunk_id].text))
        return source

    def answered(
        self,
        lexical_ids: np.ndarray,
        semantic_ids: np.ndarray,
        *,
        content_terms: Sequence[str],
        weights: FusionWeights,
        pairs: Mapping[str, Sequence[Need]] | None = None,
        alternatives: Mapping[str, Sequence[Sequence[str]]] | None = None,
    ) -> bool:
        """Whether the help center answers a hybrid query at all: decided for the query, not hit by hit.

        A query of function words alone has none. Otherwise the semantic side vouches by finding
        anything over its floor, or the best lexical match must cover enough of the query's words. An
        answered query keeps its whole ranking. Keyword mode asks for word matches and gets them: no
        gate there.
        """
        if weights.answer_coverage is None:
            return True
        if not content_terms:  # "how do I do it": the model matches the question's form, not a topic
            return False
        if len(semantic_ids) or not len(lexical_ids):
            return bool(len(semantic_ids))
        coverage = self.lexical_index.coverage(content_terms, lexical_ids, pairs=pairs, alternatives=alternatives)
        return bool(coverage.max() >= weights.answer_coverage)

    def related(self, article: Article, *, allowed_articles: np.ndarray, limit: int, floor: float) -> list[Article]:
        """Articles among ``allowed_articles`` closest to ``article`` as a whole (the mean of its chunk vectors)."""
        number = self._by_key.get(article.key)
        if number is None or not len(self.chunks):
            return []
        vectors = self.entries[number].vectors
        if not vectors.size:
            return []
        centre = vectors.mean(axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-12)
        allowed = allowed_articles.copy()
        allowed[number] = False
        ids, scores = self.vector_index.search(centre, k=limit * 8, allowed=allowed[self.chunk_article])
        close = scores >= floor
        best_ids, _ = best_chunk_per_article(ids[close], scores[close], self.chunk_article)
        return [self.articles[number] for number in self.chunk_article[best_ids[:limit]].tolist()]

    def _cached(self, key: object, compute: Callable[[], np.ndarray]) -> np.ndarray:
        with self._lock:
            mask = self._masks.get(key)
        if mask is None:
            mask = compute()
            with self._lock:
                if len(self._masks) > 256:  # filters are caller-chosen: keep the cache bounded
                    self._masks.clear()
                self._masks[key] = mask
        return mask


def _indexed_texts(entries: Sequence[Entry]) -> Iterator[str]:
    """Every text a snapshot indexes words from: titles, headings, sections, keywords and tags."""
    for entry in entries:
        front = entry.article.front
        yield " ".join((entry.article.title, *front.keywords, *front.tags))
        for chunk in entry.chunks:
            yield " ".join((*chunk.heading_path, chunk.text))


def best_chunk_per_article(chunk_ids: np.ndarray, scores: np.ndarray, chunk_article: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first (best) chunk of each article in a ranking, in ranking order, with its score."""
    _, first = np.unique(chunk_article[chunk_ids], return_index=True)
    first.sort()
    return chunk_ids[first], scores[first]
