"""The one query path every surface takes: plan, encode, retrieve, fuse, group, page and excerpt.

Search, suggestions, answers and retrieval for LLMs differ in what they ask and what they return, not
in how they find articles: each calls :meth:`QueryPipeline.run` with the snapshot and the articles its
reader may see (``KnowledgeBase`` chooses both). For a batch of queries the pipeline encodes every query
in one model call and asks faiss once per distinct allow-list, with every query vector of the batch.

A query goes through these steps, each in one place:

1. **plan** (:meth:`QueryPipeline.plan`): its language (the locale asked for, else its script), the
   fusion weights for that language and model, its analysis into weighted terms and content words,
   a mistyped word read as the help center's words (`search/typos.py`) and the synonyms of its
   phrases added (`search/synonyms.py`), and whether it needs a vector;
2. **encode** (:class:`QueryVectors`): from an LRU of query vectors, or the model, all at once;
3. **retrieve** (:func:`candidates`): each side's best chunks among the allowed ones, a chunk scored
   with its whole article's score mixed in (`search/fields.py`), a Japanese character pair only where a
   word it lies across is held (`search/pairs.py`);
4. **fuse**: the semantic weight settled from the two lists' signals (per query, or from the
   deployment's traffic, `search/traffic.py`), then the answer gate (`search/fuse.py`);
5. **group and page**: the best chunk per article, the page asked for, facets over every match, and a
   snippet for each hit on the page.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from search.analyze import Analyzer, QueryTerms, Token, has_identifier, query_language, query_terms
from search.encoder import Encoder, query_for_model
from search.fields import LEXICAL_DOCUMENT_SHARE, SEMANTIC_DOCUMENT_SHARE
from search.fuse import FusionWeights, QuerySignals, Scored, adaptive_weights, fusion_weights, hybrid
from search.snapshot import EMPTY, IndexSnapshot, Mode, Results, best_chunk_per_article
from search.traffic import TrafficMix
from search.typos import Correction, Frequency, corrected_text, corrections

VectorKey = tuple[str, bool]
"""A query vector's cache key: the text the model reads, and whether it is encoded like the articles."""

Weigher = Callable[[FusionWeights, QuerySignals], FusionWeights]



@dataclass(frozen=True)
class SearchSpec:
    """One query as a surface asks it: the text, how to search, among which articles, which page."""

    text: str
    mode: Mode
    allowed_articles: np.ndarray
    """One flag per article of the snapshot: the reader's view and the caller's filters, already combined."""
    locale: str | None = None
    limit: int = 10
    offset: int = 0
    context: tuple[str, ...] = ()
    """The conversation's earlier turns, oldest first, when the query ends one: read with it (:func:`conversation_text`)."""
    ticket: bool = False
    """A helpdesk ticket, one message or many: read as a conversation even when it has no earlier turns."""
    snippets: bool = True
    """Whether the page's hits are excerpted (answers and retrieval quote sentences instead)."""
    facets: bool = True
    """Whether every match is counted by category, tag and locale (a search page's filters)."""

    @property
    def conversation(self) -> bool:
        """Whether the query ends a conversation: weighed as one, never counted in search traffic nor cached."""
        return bool(self.context) or self.ticket


@dataclass(frozen=True)
class QueryPlan:
    """What the pipeline decided for one query before reading any index."""

    spec: SearchSpec
    language: str
    weights: FusionWeights
    terms: QueryTerms
    vector_key: VectorKey | None
    """None when the query needs no vector: keyword mode, no semantic weight, or nothing the model can read."""

    @property
    def conversation(self) -> bool:
        """Whether it ends a conversation or is a ticket (:attr:`SearchSpec.conversation`)."""
        return self.spec.conversation


def needs_query_vector(mode: str, weights: FusionWeights) -> bool:
    """Semantic search needs the query's embedding; hybrid only when its semantic side has weight."""
    return mode == "semantic" or (mode == "hybrid" and weights.semantic > 0)


class QueryVectors:
    """Query vectors by :data:`VectorKey`, from an LRU cache or the model, many encoded in one call.

    ``like_articles``: encoded by the articles' own run of the model, not the queries' (they differ
    under ``onnx-int8-queries``). For a language the model does not read: its cosines there bunch
    together and int8's small error reorders them (jsquad semantic nDCG@10 0.2481 with int8 queries,
    0.2540 with torch's vectors, which the articles' fp32 run gives). Speed does not matter there:
    hybrid search never encodes such a query.
    """

    def __init__(self, encoder: Encoder, *, size: int) -> None:
        self.encoder = encoder
        self.size = size
        self._cache: OrderedDict[VectorKey, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, keys: Sequence[VectorKey], *, store: set[VectorKey] | None = None) -> dict[VectorKey, np.ndarray]:
        """The vectors of ``keys``; those encoded now are kept for next time if in ``store`` (all when it is None)."""
        found: dict[VectorKey, np.ndarray] = {}
        with self._lock:
            for key in keys:
                if key in self._cache:
                    self._cache.move_to_end(key)
                    found[key] = self._cache[key]
        missing = list(dict.fromkeys(key for key in keys if key not in found))
        for like_articles in (False, True):
            texts = [text for text, flag in missing if flag == like_articles]
            if not texts:
                continue
            encode = self.encoder.encode if like_articles else self.encoder.encode_queries
            # Each row copied out: a view would keep its whole batch's array alive in the cache for as long as any row stayed.
            fresh = {(text, like_articles): vector.copy() for text, vector in zip(texts, encode(texts), strict=True)}
            found.update(fresh)
            with self._lock:
                self._cache.update({key: vector for key, vector in fresh.items() if store is None or key in store})
                while len(self._cache) > self.size:
                    self._cache.popitem(last=False)
        return found


class QueryPipeline:
    """Runs queries against a snapshot; one per ``KnowledgeBase``, shared by every surface and thread."""

    def __init__(
        self, *, encoder: Encoder, analyzer: Analyzer, depth: int, cache_size: int, traffic: TrafficMix | None, typos: bool = True
    ) -> None:
        self.encoder = encoder
        self.analyzer = analyzer
        self.depth = depth
        """How many candidates each side retrieves at least (more for a deep page)."""
        self.vectors = QueryVectors(encoder, size=cache_size)
        self.traffic = traffic
        """The semantic weight of hybrid queries, read off recent ones (`search/traffic.py`); None: each query's own."""
        self.typos = typos
        """Whether a mistyped word is read as the help center's words (`search/typos.py`)."""

    def run(self, snapshot: IndexSnapshot, specs: Sequence[SearchSpec], *, observe_traffic: bool = True) -> list[Results]:
        """Every query's results, in order; their vectors encoded in one call and looked up in one faiss call per allow-list.

        ``observe_traffic`` off: these queries are not customers' (a proposal's impact report), so they do
        not move the traffic mix they are weighed by.
        """
        plans = [self.plan(spec, snapshot) for spec in specs]
        # A conversation's text is used once: cached, it would push out the vectors of repeated search queries.
        keys = [plan.vector_key for plan in plans if plan.vector_key is not None]
        vectors = self.vectors.get_many(keys, store={plan.vector_key for plan in plans if plan.vector_key and not plan.conversation})
        query_vectors = [vectors.get(plan.vector_key) if plan.vector_key is not None else None for plan in plans]
        semantic = semantic_candidates(snapshot, plans, query_vectors, depth=self.depth)
        return [
            rank(snapshot, plan, lexical_candidates(snapshot, plan, depth=self.depth), found, self._weigher(plan.language, observe_traffic))
            for plan, found in zip(plans, semantic, strict=True)
        ]

    def plan(self, spec: SearchSpec, snapshot: IndexSnapshot) -> QueryPlan:
        """Language, fusion weights, terms and the vector it needs: everything decided before an index is read.

        A word of the query that the help center does not hold, within its typo budget of words it does,
        is read as them, by the lexical side and by the model (`search/typos.py`); a phrase of the
        snapshot's synonyms adds the terms of what it also finds. In a conversation, only its last turn is
        read so (a ticket's first :data:`~search.typos.MAX_FUZZED_WORDS` unknown words).

        A query that ends a conversation (or a ticket) is read as the whole conversation
        (:func:`conversation_text`), with the conversation's fixed fusion weights (both sides equal where
        it holds an identifier, as for any query with one); its content words stay its own when it has
        any (what the answer gate weighs and snippets mark), and a turn without any ("yes") borrows the
        conversation's.
        """
        whole = " ".join((*spec.context, spec.text))
        language = spec.locale or query_language(whole)
        weights = fusion_weights(
            language, model=self.encoder.model_name, identifier=has_identifier(whole), conversation=spec.conversation
        )
        tokens = self.analyzer.tokens(spec.text)
        words = [(token.start, token.end, token.term) for token in tokens if not token.pair]
        found = corrections(spec.text, words, snapshot.lexicon, self._frequency(snapshot, spec)) if self.typos else []
        terms = self._read(tokens, found)
        terms = self._with_synonyms(terms, tokens, found, language, snapshot)
        if spec.context:  # no word spans a space: the whole's terms are the context's, then the turn's
            terms = self.analyzer.query(" ".join(spec.context)).followed_by(terms)
        # A query of emoji alone has nothing for the model to read: no vector, so no semantic matches.
        # Where the model does not read the language (no semantic weight), only semantic mode encodes the
        # query, and it does so like the articles (see QueryVectors).
        model_text = ""
        if needs_query_vector(spec.mode, weights):
            text = corrected_text(spec.text, found)
            model_text = query_for_model(conversation_text(spec.context, text, self.encoder) if spec.conversation else text)
        key = (model_text, not weights.semantic) if model_text else None
        return QueryPlan(spec=spec, language=language, weights=weights, terms=terms, vector_key=key)

    def _read(self, tokens: list[Token], found: Sequence[Correction]) -> QueryTerms:
        """The query's terms, each mistyped word read as its readings (:meth:`QueryTerms.with_readings`)."""
        terms = query_terms(tokens)
        if not found:
            return terms
        position = {token.start: number for number, token in enumerate(tokens) if not token.pair}
        readings = {
            position[c.start]: (c.typed, c.readings[0].word, [self.analyzer.tokens(r.word)[0] for r in c.readings]) for c in found
        }
        return terms.with_readings(readings)

    @staticmethod
    def _frequency(snapshot: IndexSnapshot, spec: SearchSpec) -> Frequency:
        """In how many chunks the query's reader may see a term stands: a typo is read only as the words they may find."""
        return partial(snapshot.lexical_index.frequency, allowed=snapshot.allowed_chunks(spec.allowed_articles))

    def _with_synonyms(
        self, terms: QueryTerms, tokens: list[Token], found: Sequence[Correction], language: str, snapshot: IndexSnapshot
    ) -> QueryTerms:
        """``terms`` and the terms of every synonym its phrases (its words as read) also find in ``language``."""
        if not snapshot.synonyms.rules:
            return terms
        read = {c.start: c.readings[0].term for c in found}
        words = [read.get(token.start, token.term) for token in tokens if not token.pair]
        for expansion in snapshot.synonym_table(self.analyzer).expansions(language, words):
            terms = terms.with_synonym(expansion.words, expansion.terms)
        return terms

    def _weigher(self, language: str, observe: bool) -> Weigher:
        """How a hybrid query in ``language`` settles its weights from its candidate lists' signals."""
        if self.traffic is None:
            return adaptive_weights
        return partial(self.traffic.weights, language=language, observe=observe)


SPECIAL_TOKENS = 2
"""[CLS] and [SEP]: the model's window holds them beside the text (``count_tokens`` leaves them out)."""
CONVERSATION_TOKENS = 96
"""How much of a conversation the model reads: a query's encode grows with its length (attention, with
the square), and a 2,000-character ticket filled the model's whole window (256 tokens), a third of a
suggestion's time. kb suggestions nDCG@10 by window, doc2dial-dev: 256 0.9100, 128 0.9091, **96
0.9096**, 64 0.9058; doc2dial-dev-abstain: 128 0.9082, **96 0.9091**. A plateau down to 96 tokens,
where the encode of a 2,000-character ticket takes about a third less than at 128."""


def conversation_text(turns: Sequence[str], last: str, encoder: Encoder) -> str:
    """The conversation as the model reads it: every turn oldest first, the last one at the end.

    One vector of the whole conversation found doc2dial-dev's pages better than the last turn's
    vector with the earlier turns' added (kb hybrid nDCG@10 at the best weights, 0.9062 against
    0.8906): a conversation's first turns name its subject. The model reads :data:`CONVERSATION_TOKENS`
    at most, so a longer conversation keeps the last turn whole (its opening, if it alone is longer),
    the first turn (cut to half of what room is left: a ticket's body can be long), and as many of the
    newest turns as fit after it.
    """
    budget = min(encoder.max_tokens, CONVERSATION_TOKENS) - SPECIAL_TOKENS
    whole = " ".join((*turns, last))
    if encoder.count_tokens(whole) <= budget:
        return whole
    room = budget - encoder.count_tokens(last)
    if room <= 0:
        return _cut(last, budget, encoder)
    first = _cut(turns[0], room // 2, encoder)
    room -= encoder.count_tokens(first)
    kept: list[str] = []
    for turn in reversed(turns[1:]):
        cost = encoder.count_tokens(turn)
        if cost > room:
            break
        kept.insert(0, turn)
        room -= cost
    return " ".join(text for text in (first, *kept, last) if text)


def _cut(text: str, tokens: int, encoder: Encoder) -> str:
    """The longest prefix of ``text``, in whole words, of at most ``tokens`` model tokens."""
    words = text.split()
    low, high = 0, len(words)
    while low < high:  # the largest n whose first n words fit
        middle = (low + high + 1) // 2
        if encoder.count_tokens(" ".join(words[:middle])) <= tokens:
            low = middle
        else:
            high = middle - 1
    return " ".join(words[:low])


def depth_for(plan: QueryPlan, depth: int) -> int:
    """Candidates per side: at least ``depth``, and four times the page's end for a deep page."""
    return max(depth, (plan.spec.offset + plan.spec.limit) * 4)


def lexical_candidates(snapshot: IndexSnapshot, plan: QueryPlan, *, depth: int) -> Scored:
    """The BM25 side's best chunks among the allowed articles, each mixed with its whole article's BM25; empty in semantic mode."""
    if plan.spec.mode == "semantic":
        return EMPTY
    allowed = snapshot.allowed_chunks(plan.spec.allowed_articles)
    terms, weights, needs = plan.terms.terms, plan.terms.weights, plan.terms.needs
    ids, bm25 = snapshot.lexical_index.search(terms, k=depth_for(plan, depth), weights=weights, needs=needs, allowed=allowed)
    holders = snapshot.article_holders(plan.terms.words) if needs else None  # as its chunks hold them
    whole = snapshot.document_index.scores(terms, weights=weights, needs=needs, holders=holders)
    return snapshot.with_document(ids, bm25, whole, LEXICAL_DOCUMENT_SHARE)


def semantic_candidates(
    snapshot: IndexSnapshot, plans: Sequence[QueryPlan], query_vectors: Sequence[np.ndarray | None], *, depth: int
) -> list[Scored]:
    """Each plan's vector side (empty without a vector, or in keyword mode): one faiss call per distinct allow-list.

    A chunk under the plan's cosine floor is no match; each is mixed with its whole article's cosine.
    """
    found: list[Scored] = [EMPTY] * len(plans)
    groups: dict[bytes, list[int]] = {}
    for position, (plan, vector) in enumerate(zip(plans, query_vectors, strict=True)):
        if plan.spec.mode != "keyword" and vector is not None:
            groups.setdefault(np.packbits(plan.spec.allowed_articles).tobytes(), []).append(position)
    for positions in groups.values():
        allowed = snapshot.allowed_chunks(plans[positions[0]].spec.allowed_articles)
        matrix = np.stack([query_vectors[p] for p in positions])  # type: ignore[misc]  # grouped only with a vector
        k = max(depth_for(plans[p], depth) for p in positions)
        for row, (ids, similarities) in enumerate(snapshot.vector_index.search_many(matrix, k=k, allowed=allowed)):
            plan = plans[positions[row]]
            keep = similarities >= plan.weights.semantic_floor
            ids, similarities = ids[keep][: depth_for(plan, depth)], similarities[keep][: depth_for(plan, depth)]
            whole = np.zeros(len(snapshot.articles), dtype=np.float32)
            articles = snapshot.chunk_article[ids]
            whole[articles] = snapshot.document_vectors[articles] @ matrix[row]
            found[positions[row]] = snapshot.with_document(ids, similarities, whole, SEMANTIC_DOCUMENT_SHARE)
    return found


def candidates(snapshot: IndexSnapshot, plan: QueryPlan, vector: np.ndarray | None, *, depth: int) -> tuple[Scored, Scored]:
    """One query's two candidate lists before fusion, (lexical, semantic): for tools that study fusion."""
    usable = vector if plan.vector_key is not None else None
    return lexical_candidates(snapshot, plan, depth=depth), semantic_candidates(snapshot, [plan], [usable], depth=depth)[0]


def rank(snapshot: IndexSnapshot, plan: QueryPlan, lexical: Scored, semantic: Scored, weigh: Weigher = adaptive_weights) -> Results:
    """Fuse (hybrid), gate, keep each article's best chunk, page, and excerpt the page's hits.

    One retriever alone keeps its own scores (BM25, cosine), which say more than a fused value. A hybrid
    query's weights are settled by ``weigh`` from what its two lists say.
    """
    mode, weights, content, pairs = plan.spec.mode, plan.weights, plan.terms.content, plan.terms.pairs_only
    alternatives = plan.terms.alternatives
    if mode == "keyword":
        chunk_ids, scores = lexical
    elif mode == "semantic":
        chunk_ids, scores = semantic
    else:
        if weights.adaptive is not None:
            weights = weigh(weights, snapshot.signals(lexical, semantic, content_terms=content, pairs=pairs, alternatives=alternatives))
        chunk_ids, scores = hybrid(lexical, semantic, weights)
        if not snapshot.answered(lexical[0], semantic[0], content_terms=content, weights=weights, pairs=pairs, alternatives=alternatives):
            chunk_ids, scores = EMPTY
    best_ids, best_scores = best_chunk_per_article(chunk_ids, scores, snapshot.chunk_article)
    page = slice(plan.spec.offset, plan.spec.offset + plan.spec.limit)
    lexical_only = mode == "keyword" or not plan.weights.semantic
    return snapshot.results(
        best_ids, best_scores, page=page, terms=plan.terms, candidates=(lexical, semantic), lexical_only=lexical_only,
        snippets=plan.spec.snippets, facets=plan.spec.facets,
    )  # fmt: skip
