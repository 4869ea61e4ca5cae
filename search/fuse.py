"""Hybrid fusion of the lexical and semantic rankings: convex combination of scores, or weighted RRF."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Ranking = tuple[np.ndarray, np.ndarray, float]
"""(chunk ids best first, their scores, the weight of this side)."""


@dataclass(frozen=True)
class FusionWeights:
    """How much each side is trusted, and how the two are combined.

    ``convex``: each side's scores are min-max normalised over its candidates, then added with their
    weights. ``rrf``: each side adds ``weight / (k + rank)``.

    ``semantic_floor`` is the cosine below which a chunk is not a semantic match at all. Without it
    the semantic side ranks every chunk, so no query could ever get "no results". With the packaged
    MiniLM on the sample help center, nonsense queries ("qwxzv plorkh", "banana bread recipe",
    "football scores") top out at 0.16–0.25 while real ones ("stop paying", "lost phone", "slack")
    start at 0.37. Provisional: the evaluation issue (#3) checks its cost in recall on real data.
    """

    method: Literal["convex", "rrf"] = "convex"
    normalise: Literal["min-max", "max"] = "max"
    """How convex fusion puts scores on one scale. ``min-max`` stretches each side over [0, 1];
    ``max`` divides BM25 by the query's best score and keeps cosines as they are, so a near-tie on
    one side stays a near-tie instead of being stretched into a full point."""
    lexical: float = 0.15
    semantic: float = 0.85
    adaptive: tuple[float, float] | None = (0.6, 0.95)
    """When set, each hybrid query moves its semantic weight within (low, high) by what its two
    candidate lists say (:func:`adaptive_weights`); ``lexical`` and ``semantic`` then only apply
    where a query gives no signal. None keeps the fixed weights."""
    k: int = 60
    semantic_floor: float = 0.3
    semantic_recall: bool = True
    """Whether, in hybrid mode, the semantic side may bring in chunks the lexical side did not find.
    Off where the model cannot be trusted: it then only re-orders lexical matches."""
    answer_coverage: float | None = 0.3
    """When the semantic side finds nothing over its floor, the query has an answer only if some lexical
    match holds this share of the query's content-word IDF; otherwise there are no results at all.
    Matching "tomorrow" in "what is the weather in Paris tomorrow" (0.27) is a coincidence, not an
    answer. None turns the gate off (every candidate is an answer, as before the gate existed).

    `python -m bench.tune_gate` (hybrid; answerable queries newly left without results, and the
    largest change of nDCG@10, Recall@10, Recall@100 or MRR@10 against no gate):

    | threshold | doc2dial-dev | doc2dial-abstain | jsquad | australia | cdc, stackfaq | off-topic silenced (of 21) |
    | --------- | ------------ | ---------------- | ------ | --------- | ------------- | -------------------------- |
    | no gate   | 0            | 0                | 0      | 0         | 0             | 6                          |
    | 0.1       | 6 (-0.0044)  | 5 (-0.0051)      | 0      | 0         | 0             | 10                         |
    | 0.2       | 9 (-0.0055)  | 7 (-0.0077)      | 4 (-0.0002) | 1 (0) | 0             | 14                         |
    | **0.3**   | 14 (-0.0087) | 13 (-0.0141)     | 18 (-0.0012) | 1 (0) | 0            | 18                         |
    | 0.4       | 29 (-0.0229) | 25 (-0.0283)     | 60 (-0.0050) | 1 (0) | 0            | 20                         |

    The largest change on the doc2dial sets is Recall@100 (their nDCG@10 moves by 0.0005 and 0.0008 at
    0.3): turns such as "hello I have some questions" or "can i get more informarion on it?" carry no
    question, and their conversation's page had come up among 100 results of a 127-page corpus by chance.
    Of doc2dial-abstain's 139 unanswerable queries, 11 get no results at 0.3 against 5 without the gate.
    English queries the semantic side vouches for never reach the gate (cdc and stackfaq: none)."""


LEXICAL_ONLY_ANSWER_COVERAGE = 0.2
"""The answer gate where the model knows nothing of the query's language and BM25 alone ranks.

There every query meets the gate, not only those the semantic side could not vouch for, so the
English threshold (0.3) stops answerable questions it would never see in English. `python -m
bench.tune_gate ../shared/data/jsquad` (jsquad's answerable questions newly left without results, and
the largest change of a metric; of the sample's five Japanese off-topic questions, how many get none):

| threshold           | 0.1 | 0.15 | **0.2**     | 0.25        | 0.3          | 0.35         | 0.4          |
| ------------------- | --- | ---- | ----------- | ----------- | ------------ | ------------ | ------------ |
| jsquad              | 0   | 1    | 4 (−0.0002) | 8 (−0.0005) | 18 (−0.0012) | 37 (−0.0030) | 60 (−0.0051) |
| off-topic, silenced | 2   | 3    | 4           | 4           | 4            | 4            | 5            |

0.2 is the lowest threshold that silences as many off-topic questions as 0.3 did: two sets agree on
it, as the Japanese weights must (`docs/benchmarks.md`)."""

ENGLISH_ONLY_MODELS = frozenset({"sentence-transformers/all-MiniLM-L6-v2"})
"""Models whose similarities mean nothing outside English (MiniLM alone: 0.25 nDCG@10 on jsquad)."""


CONVERSATION_SEMANTIC = 0.7
"""The semantic weight of a query read as a whole conversation: fixed, not from search traffic.

A conversation's signals are unlike a search box's (a long text: a high cosine, its words spread over
a page), so the traffic line fitted on search queries gives it almost all semantic weight (0.98 on
doc2dial-dev) where both sides earn theirs. doc2dial-dev, the whole conversation as one query, kb
hybrid nDCG@10 by fixed semantic weight: 0.3 0.8966, 0.4 0.9005, 0.5 0.9026, 0.6 0.9035, **0.7
0.9062**, 0.8 0.9034; by the search traffic's weight, 0.8695. One set of conversations is all there
is to choose on: the weight sits mid-plateau (0.5–0.8 within 0.004), not at an edge."""


def fusion_weights(locale: str | None, *, model: str, identifier: bool = False, conversation: bool = False) -> FusionWeights:
    """How to fuse for a query in ``locale`` with ``model`` (its configured name); every number measured by `make eval`.

    English and any language the model knows: convex, BM25 scaled by its best score, cosines as they
    are, floor 0.3, and a semantic weight that adapts: kb sets it for a language's hybrid queries from
    the mean signals of its recent ones (`search/traffic.py`, LOSO mean 0.7001 where the best per-query
    rule below scores 0.6977 on the same run), and until a language has traffic, per query between 0.6
    and 0.95 as below. The per-query rule was chosen by
    `python -m bench.tune_fusion` on kb's two sides (articles scored from best chunk and whole text),
    hybrid nDCG@10, each set's figure chosen on the four others (leave-one-set-out):

    | fusion                                | australia | cdc    | stackfaq | doc2dial-dev | doc2dial-abstain | mean   |
    | ------------------------------------- | --------- | ------ | -------- | ------------ | ---------------- | ------ |
    | fixed α, chosen on the other sets     | 0.6301    | 0.7663 | 0.9282   | 0.5581       | 0.5682           | 0.6902 |
    | ramp on the best cosine (dropped)     | 0.6171    | 0.7586 | 0.9337   | 0.5645       | 0.5756           | 0.6899 |
    | **adaptive (each side's confidence)** | 0.6263    | 0.7634 | 0.9415   | 0.5630       | 0.5707           | 0.6930 |
    | fixed α = 0.85 (the old default)      | 0.6262    | 0.7640 | 0.9493   | 0.5535       | 0.5635           | 0.6913 |

    No fixed mix wins everywhere: stackfaq wants 0.9 (its paraphrased questions are the model's home
    ground), doc2dial 0.6 (chat turns share rare words with their pages), so a weight chosen on the
    other sets misses the set left out. Weighting by each side's confidence misses less. Its range is
    the one most folds chose (0.6–0.95; 0.6–1.0 scores 0.6960 in-sample, 0.6–0.95 0.6958). On stackfaq
    hybrid stays below the semantic side alone (0.9525): no signal tried tells its queries apart.

    A query holding an identifier (E2001, 2FA) weighs both sides equally: a model cannot embed a code,
    and a cosine near-tie (0.409 for the codes reference vs 0.362 for the E2001 article) would outvote
    BM25's exact match of the code.

    Japanese with an English-only model — BM25 alone: on jsquad BM25 scores 0.9383, MiniLM 0.2512,
    and every fusion loses (equal RRF 0.5040; the best, semantic re-ordering BM25's matches at
    α=0.1, 0.9362), so the semantic side gets no weight and the query is not even encoded; its answer
    gate is :data:`LEXICAL_ONLY_ANSWER_COVERAGE`.
    """
    if locale == "ja" and model in ENGLISH_ONLY_MODELS:
        return FusionWeights(lexical=1.0, semantic=0.0, semantic_recall=False, adaptive=None, answer_coverage=LEXICAL_ONLY_ANSWER_COVERAGE)
    if identifier:
        return FusionWeights(lexical=0.5, semantic=0.5, adaptive=None)
    if conversation:
        return FusionWeights(lexical=1 - CONVERSATION_SEMANTIC, semantic=CONVERSATION_SEMANTIC, adaptive=None)
    return FusionWeights()


Scored = tuple[np.ndarray, np.ndarray]
"""(chunk ids best first, their scores) from one retriever."""


@dataclass(frozen=True)
class QuerySignals:
    """What the two candidate lists say about one query before they are fused: no labels needed."""

    semantic_top: float
    """The best semantic score (0 when the side found nothing over its floor)."""
    lexical_coverage: float
    """The share of the query's content-word IDF that the best lexical match holds (0 without one)."""

    @classmethod
    def of(cls, lexical: Scored, semantic: Scored, *, coverage: np.ndarray) -> QuerySignals:
        return cls(float(semantic[1][0]) if len(semantic[1]) else 0.0, float(coverage[0]) if len(lexical[0]) and len(coverage) else 0.0)


def adaptive_weights(base: FusionWeights, signals: QuerySignals) -> FusionWeights:
    """``base`` with the semantic weight moved within ``base.adaptive`` by each side's confidence.

    The semantic side's confidence is how far its best score rises from the floor towards 1; the
    lexical side's, how much of the query's meaning (content-word IDF) its best match holds. The
    semantic weight is the range's low end plus its width times the semantic share of the two.
    """
    if base.adaptive is None:
        return base
    low, high = base.adaptive
    semantic = max(0.0, min(1.0, (signals.semantic_top - base.semantic_floor) / (1 - base.semantic_floor)))
    total = semantic + signals.lexical_coverage
    share = semantic / total if total else 1.0
    alpha = low + (high - low) * share
    return dataclasses.replace(base, semantic=alpha, lexical=1 - alpha)


def hybrid(lexical: Scored, semantic: Scored, weights: FusionWeights) -> Scored:
    """Fuse a lexical and a semantic ranking (the latter already cut at the floor) as ``weights`` say."""
    semantic_ids, similarities = semantic
    if not weights.semantic_recall:
        keep = np.isin(semantic_ids, lexical[0])
        semantic_ids, similarities = semantic_ids[keep], similarities[keep]
    return fuse([(*lexical, weights.lexical), (semantic_ids, similarities, weights.semantic)], weights)


def fuse(rankings: Sequence[Ranking], weights: FusionWeights) -> Scored:
    """The rankings as one, by ``weights.method``, best first."""
    if weights.method == "rrf":
        return reciprocal_rank_fusion([(ids, weight) for ids, _, weight in rankings], k=weights.k)
    if weights.normalise == "max":
        (lexical_ids, bm25, lexical_weight), (semantic_ids, cosines, semantic_weight) = rankings
        scaled = bm25 / bm25.max() if len(bm25) else bm25
        return convex_combination([(lexical_ids, scaled, lexical_weight), (semantic_ids, cosines, semantic_weight)], rescale=False)
    return convex_combination(rankings)


def convex_combination(rankings: Sequence[Ranking], *, rescale: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Sum of each side's scores (min-max normalised unless ``rescale`` is off) times its weight.

    A side a chunk is missing from adds 0. Unlike RRF it keeps how far apart the candidates are,
    which is what lets a confident side win.
    """
    parts = [(ids, (_min_max(scores) if rescale else scores) * weight) for ids, scores, weight in rankings if len(ids)]
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    unique, inverse = np.unique(np.concatenate([ids for ids, _ in parts]), return_inverse=True)
    totals = np.bincount(inverse, weights=np.concatenate([values for _, values in parts]), minlength=len(unique))
    order = np.lexsort((unique, -totals))
    return unique[order], totals[order].astype(np.float32)


def _min_max(scores: np.ndarray) -> np.ndarray:
    low, high = float(scores.min()), float(scores.max())
    return (scores - low) / (high - low) if high > low else np.ones(len(scores))


def reciprocal_rank_fusion(
    rankings: Sequence[tuple[np.ndarray, float]], *, k: int = 60
) -> tuple[np.ndarray, np.ndarray]:
    """Fuse ranked id lists, each with its weight, into (ids, fused scores), best first."""
    fused: dict[int, float] = {}
    for ids, weight in rankings:
        for rank, chunk_id in enumerate(ids.tolist(), start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (k + rank)
    if not fused:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    ordered = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
    fused_ids, fused_scores = zip(*ordered, strict=True)
    return np.asarray(fused_ids, dtype=np.int64), np.asarray(fused_scores, dtype=np.float32)
