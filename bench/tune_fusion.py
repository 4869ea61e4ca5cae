"""Fusion tuning: fixed and per-query (adaptive) mixes of kb's two sides, chosen leave-one-set-out.

Each query's lexical and semantic candidates come once from `search.query.candidates` (the same sides
`kb eval` ranks with, articles already scored from their best chunk and their whole text); every variant
then only fuses with `search.fuse.hybrid`, applies the answer gate, groups per article and scores with
ranx. A family's parameters are chosen for each set on the other sets (leave-one-set-out), so the figure
printed for a set was never fitted to it.

    python -m bench.tune_fusion ../shared/data/feedbackqa-australia ../shared/data/stackfaq ...
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from kb.access.rules import PUBLIC
from kb.core.bootstrap import load_encoder
from kb.core.settings import Settings
from kb.evaluation.beir import load_dataset
from kb.evaluation.metrics import per_query, score
from kb.evaluation.run import open_corpus
from search.encoder import query_for_model
from search.fuse import FusionWeights, QuerySignals, adaptive_weights, hybrid
from search.query import SearchSpec, candidates
from search.snapshot import IndexSnapshot, best_chunk_per_article
from search.traffic import TrafficLine, TrafficMix

console = Console()
DEPTH = 100


@dataclass
class Query:
    qid: str
    lexical: tuple[np.ndarray, np.ndarray]
    semantic: tuple[np.ndarray, np.ndarray]
    content: list[str]
    weights: FusionWeights
    """kb's fixed weights for this query (language, identifiers)."""
    signals: QuerySignals


@dataclass
class EvalSet:
    name: str
    snapshot: IndexSnapshot
    ids: dict[str, str]
    qrels: dict[str, dict[str, int]]
    queries: list[Query]


Chooser = Callable[[Query], FusionWeights]


def collect(folder: Path, settings: Settings, encoder) -> EvalSet:
    dataset = load_dataset(folder)
    kb, ids, language = open_corpus(dataset, settings=settings, encoder=encoder, progress=None)
    snapshot = kb.snapshot
    allowed = snapshot.visible_articles(PUBLIC)
    vectors = encoder.encode_queries([query_for_model(text) for text in dataset.queries.values()])
    queries = []
    for (qid, text), vector in zip(dataset.queries.items(), vectors, strict=True):
        plan = kb.queries.plan(SearchSpec(text, "hybrid", allowed, locale=language, limit=DEPTH), kb.snapshot)
        lexical, semantic = candidates(snapshot, plan, vector, depth=DEPTH * 4)
        signals = snapshot.signals(lexical, semantic, content_terms=plan.terms.content)
        queries.append(Query(qid, lexical, semantic, plan.terms.content, plan.weights, signals))
    return EvalSet(dataset.name, snapshot, ids, dataset.qrels, queries)


def evaluate(data: EvalSet, choose: Chooser) -> float:
    return score(data.qrels, ranking(data, choose))["ndcg@10"]


def ranking(data: EvalSet, choose: Chooser) -> dict[str, dict[str, float]]:
    """Each query fused with the weights ``choose`` gives it, through kb's gate and grouping: document ids best first."""
    owner, articles = data.snapshot.chunk_article, data.snapshot.articles
    ranked = {}
    for query in data.queries:
        weights = choose(query)
        chunk_ids, scores = hybrid(query.lexical, query.semantic, weights)
        if not data.snapshot.answered(query.lexical[0], query.semantic[0], content_terms=query.content, weights=weights):
            chunk_ids, scores = chunk_ids[:0], scores[:0]
        best, values = best_chunk_per_article(chunk_ids, scores, owner)
        top = zip(best[:DEPTH].tolist(), values[:DEPTH].tolist(), strict=True)
        ranked[query.qid] = {data.ids[articles[owner[chunk]].id]: float(value) for chunk, value in top}
    return ranked


def fixed(alpha: float) -> Chooser:
    """Semantic ``alpha``, lexical the rest, wherever kb's rules let the weights adapt."""
    def choose(query: Query) -> FusionWeights:
        if query.weights.adaptive is None:
            return query.weights
        return dataclasses.replace(query.weights, semantic=alpha, lexical=1 - alpha, adaptive=None)
    return choose


def adaptive(low: float, high: float) -> Chooser:
    def choose(query: Query) -> FusionWeights:
        if query.weights.adaptive is None:
            return query.weights
        return adaptive_weights(dataclasses.replace(query.weights, adaptive=(low, high)), query.signals)
    return choose


FAMILIES: dict[str, dict[str, Chooser]] = {
    "fixed α": {f"α={a}": fixed(a) for a in (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9)},
    "adaptive": {f"{lo}–{hi}": adaptive(lo, hi) for lo, hi in itertools.product((0.5, 0.6, 0.7, 0.8), (0.85, 0.9, 0.95, 1.0))},
}


LEARNED_ALPHAS = np.round(np.arange(0.4, 1.0001, 0.05), 2)
TRAFFIC_ALPHAS = np.round(np.arange(0.5, 1.0001, 0.05), 2)


def traffic_signal(data: EvalSet) -> float:
    """What a deployment's traffic says without labels: its queries' mean best cosine minus their mean lexical coverage."""
    adapting = [query.signals for query in data.queries if query.weights.adaptive is not None]
    return float(np.mean([s.semantic_top for s in adapting]) - np.mean([s.lexical_coverage for s in adapting]))


def traffic_loso(sets: list[EvalSet]) -> tuple[list[float], list[float], list[float], TrafficLine]:
    """Each set's nDCG@10 with one α for all its queries, read off its traffic signal by a line fitted to
    the other sets' best α, and that α; the set's figure as kb runs it (:class:`TrafficMix`: each query
    with the mean of the queries so far, its own signals during the warm-up); the line fitted on all sets.
    Per query the signals did not tell the sets apart; over a deployment's queries they might."""
    signal = np.array([traffic_signal(data) for data in sets])
    figures = [[evaluate(data, fixed(float(alpha))) for alpha in TRAFFIC_ALPHAS] for data in sets]
    best = np.array([TRAFFIC_ALPHAS[int(np.argmax(row))] for row in figures])
    results, alphas, running = [], [], []
    for held in range(len(sets)):
        others = np.arange(len(sets)) != held
        line = TrafficLine(*np.polyfit(signal[others], best[others], 1))
        alpha = line.alpha(signal[held])
        results.append(figures[held][int(np.abs(TRAFFIC_ALPHAS - alpha).argmin())])
        alphas.append(alpha)
        running.append(evaluate(sets[held], as_kb_runs(TrafficMix(line))))
    return results, alphas, running, TrafficLine(*np.polyfit(signal, best, 1))


def as_kb_runs(mix: TrafficMix) -> Chooser:
    """The weights ``mix`` gives each query in turn, as kb's searches would meet them."""
    def choose(query: Query) -> FusionWeights:
        return mix.weights(query.weights, query.signals, language="bench")
    return choose


Outcomes = tuple[np.ndarray, np.ndarray, np.ndarray]
"""One set's :func:`outcomes`: features, nDCG@10 per α, whether each query adapts."""


def outcomes(data: EvalSet) -> Outcomes:
    """Per query: label-free features, nDCG@10 at each of ``LEARNED_ALPHAS``, and whether kb's weights adapt for it."""
    owner = data.snapshot.chunk_article
    by_alpha = [per_query(data.qrels, ranking(data, fixed(float(alpha))), "ndcg@10") for alpha in LEARNED_ALPHAS]
    scores = [[figures.get(query.qid, 0.0) for figures in by_alpha] for query in data.queries]
    features = []
    for query in data.queries:
        semantic = best_chunk_per_article(*query.semantic, owner)
        lexical = best_chunk_per_article(*query.lexical, owner)
        cosines, bm25 = semantic[1], lexical[1]
        features.append([
            query.signals.semantic_top,
            query.signals.lexical_coverage,
            float(cosines[0] - cosines[1]) if len(cosines) > 1 else query.signals.semantic_top,
            float(len(cosines) > 0 and len(bm25) > 0 and owner[semantic[0][0]] == owner[lexical[0][0]]),
            float(1 - bm25[1] / bm25[0]) if len(bm25) > 1 else float(len(bm25) > 0),
            min(len(query.content), 10) / 10,
        ])  # fmt: skip
    return np.array(features), np.array(scores), np.array([q.weights.adaptive is not None for q in data.queries])


def learned_loso(data: list[Outcomes], make_model: Callable[[], object]) -> list[float]:
    """Each set's nDCG@10 when a regressor, fitted on the other sets, predicts every query's best α."""
    figures = []
    for held in range(len(data)):
        inputs, targets, weights = [], [], []
        for number, (features, scores, adapts) in enumerate(data):
            if number == held:
                continue
            best = scores.max(axis=1, keepdims=True)
            ties = scores >= best - 1e-9
            informative = adapts & (scores.max(axis=1) > scores.min(axis=1))
            inputs.append(features[informative])
            targets.append(((ties * LEARNED_ALPHAS).sum(axis=1) / ties.sum(axis=1))[informative])
            weights.append(np.full(informative.sum(), 1 / max(int(informative.sum()), 1)))  # each set weighs alike
        model = make_model()
        model.fit(np.concatenate(inputs), np.concatenate(targets), sample_weight=np.concatenate(weights))  # type: ignore[attr-defined]
        features, scores, _ = data[held]
        predicted = model.predict(features)  # type: ignore[attr-defined]
        nearest = np.abs(LEARNED_ALPHAS[None, :] - predicted[:, None]).argmin(axis=1)
        figures.append(float(scores[np.arange(len(scores)), nearest].mean()))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", type=Path, nargs="+")
    parser.add_argument("--learned", action="store_true", help="also fit α per query from label-free features (slow)")
    args = parser.parse_args()
    settings = Settings()
    encoder = load_encoder(settings)
    sets = [collect(folder, settings, encoder) for folder in args.folders]
    names = [data.name for data in sets]
    title = "hybrid nDCG@10 (each variant in-sample; LOSO: the family's variant chosen on the other sets)"
    table = Table("family", "variant", *names, "mean", title=title)
    for family, variants in FAMILIES.items():
        figures = {label: [evaluate(data, choose) for data in sets] for label, choose in variants.items()}
        for label, row in figures.items():
            table.add_row(family, label, *(f"{v:.4f}" for v in row), f"{np.mean(row):.4f}")
        loso, picks = [], []
        for held in range(len(sets)):
            pick = max(figures, key=lambda label: np.mean([v for i, v in enumerate(figures[label]) if i != held]))
            loso.append(figures[pick][held])
            picks.append(pick)
        table.add_row(family, "LOSO", *(f"{v:.4f} ({p})" for v, p in zip(loso, picks, strict=True)), f"{np.mean(loso):.4f}")
        if family == "fixed α":
            ceiling = [max(figures[label][i] for label in figures) for i in range(len(sets))]
            table.add_row(family, "each set's best (ceiling)", *(f"{v:.4f}" for v in ceiling), f"{np.mean(ceiling):.4f}")
    if len(sets) >= 3:  # a line through the other sets' points needs two of them
        traffic, alphas, running, line = traffic_loso(sets)
        signals = (f"{v:.4f} (α {a:.2f})" for v, a in zip(traffic, alphas, strict=True))
        table.add_row("traffic α", "LOSO", *signals, f"{np.mean(traffic):.4f}")
        table.add_row("traffic α", "LOSO, as kb runs it", *(f"{v:.4f}" for v in running), f"{np.mean(running):.4f}")
        table.caption = f"traffic line fitted on all sets: slope {line.slope:.4f}, intercept {line.intercept:.4f}"
    if args.learned:
        from sklearn.ensemble import GradientBoostingRegressor  # type: ignore[import-untyped]  # scikit-learn ships no type stubs
        from sklearn.linear_model import Ridge  # type: ignore[import-untyped]  # same

        boosting = functools.partial(GradientBoostingRegressor, max_depth=2, n_estimators=50, random_state=0)
        per_set = [outcomes(data) for data in sets]
        for label, make in (("ridge", Ridge), ("gradient boosting", boosting)):
            learned = learned_loso(per_set, make)
            table.add_row("learned α", f"{label}, LOSO", *(f"{v:.4f}" for v in learned), f"{np.mean(learned):.4f}")
        oracle = [float(scores.max(axis=1).mean()) for _, scores, _ in per_set]
        table.add_row("learned α", "each query's best (ceiling)", *(f"{v:.4f}" for v in oracle), f"{np.mean(oracle):.4f}")
    console.print(table)


if __name__ == "__main__":
    main()
