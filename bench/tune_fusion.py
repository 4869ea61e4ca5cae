"""Fusion tuning: score fusion variants on kb's own candidates without re-running search for each.

Each query's lexical and semantic candidates (chunk ids and scores) are fetched once from the same
snapshot `kb eval` builds; every variant then only fuses, groups per article and scores with ranx.
Used to choose the defaults in search/fuse.py; the figures it prints are cited there.

    python -m bench.tune_fusion ../shared/data/stackfaq ../shared/data/jsquad ...
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from kb.access import PUBLIC
from kb.bootstrap import load_encoder
from kb.evaluation.beir import load_dataset
from kb.evaluation.metrics import score
from kb.evaluation.run import open_corpus
from kb.settings import Settings
from search.fuse import FusionWeights, hybrid

console = Console()
DEPTH = 100


@dataclass
class Candidates:
    lexical: tuple[np.ndarray, np.ndarray]
    semantic: tuple[np.ndarray, np.ndarray]


Fuser = Callable[[Candidates], tuple[np.ndarray, np.ndarray]]


def variant(floor: float = 0.3, **weights: Any) -> Fuser:
    """kb's own hybrid step (search.fuse.hybrid) with other weights; the floor cuts semantic first."""
    settings = FusionWeights(semantic_floor=floor, **weights)

    def fuse(c: Candidates) -> tuple[np.ndarray, np.ndarray]:
        close = c.semantic[1] >= floor
        return hybrid(c.lexical, (c.semantic[0][close], c.semantic[1][close]), settings)

    return fuse


def candidates(folder: Path, settings: Settings, encoder) -> tuple[dict[str, Candidates], object, dict, dict]:
    dataset = load_dataset(folder)
    kb, ids, language = open_corpus(dataset, settings=settings, encoder=encoder, progress=None)
    snapshot = kb.snapshot
    allowed = snapshot.visible_articles(PUBLIC)[snapshot.chunk_article]
    texts = list(dataset.queries.values())
    vectors = encoder.encode(texts)
    found = {}
    for (qid, text), vector in zip(dataset.queries.items(), vectors, strict=True):
        terms = kb.analyzer.analyze(" ".join(text.split()))
        found[qid] = Candidates(
            snapshot.lexical_index.search(terms, k=DEPTH * 4, allowed=allowed),
            snapshot.vector_index.search(vector, k=DEPTH * 4, allowed=allowed),
        )
    return found, (kb, ids), dataset.qrels, {"language": language, "name": dataset.name}


def evaluate(found: dict[str, Candidates], kb_ids, qrels, fuser: Fuser) -> float:
    kb, ids = kb_ids
    chunk_article = kb.snapshot.chunk_article
    articles = kb.snapshot.articles
    ranking = {}
    for qid, c in found.items():
        chunk_ids, scores = fuser(c)
        seen: dict[str, float] = {}
        for chunk, value in zip(chunk_ids.tolist(), scores.tolist(), strict=True):
            doc = ids[articles[chunk_article[chunk]].id]
            if doc not in seen:
                seen[doc] = value
            if len(seen) == DEPTH:
                break
        ranking[qid] = seen
    return score(qrels, ranking)["ndcg@10"]


VARIANTS: dict[str, Fuser] = {
    "lexical only": lambda c: c.lexical,
    "semantic only": lambda c: c.semantic,
    **{f"rrf k={k} sem×{w} floor={f}": variant(f, method="rrf", k=k, lexical=1.0, semantic=w)
       for k in (60, 20) for w in (1.0, 2.0) for f in (0.3,)},
    **{f"convex {n} α={a} floor={f}": variant(f, lexical=1 - a, semantic=a, normalise=n)
       for n in ("min-max", "max") for a in (0.6, 0.7, 0.8, 0.85, 0.9) for f in (0.0, 0.3)},
    **{f"convex {n} α={a} semantic re-orders only": variant(0.0, lexical=1 - a, semantic=a, semantic_recall=False, normalise=n)
       for n in ("min-max", "max") for a in (0.1, 0.3, 0.5)},
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", type=Path, nargs="+")
    args = parser.parse_args()
    settings = Settings()
    encoder = load_encoder(settings)
    results: dict[str, dict[str, float]] = {}
    for folder in args.folders:
        found, kb_ids, qrels, info = candidates(folder, settings, encoder)
        for name, fuser in VARIANTS.items():
            results.setdefault(name, {})[f"{info['name']} ({info['language']})"] = evaluate(found, kb_ids, qrels, fuser)
        console.print(f"done {info['name']}")
    sets = list(next(iter(results.values())))
    table = Table("variant", *sets, title="nDCG@10 by fusion variant")
    for name, row in results.items():
        table.add_row(name, *(f"{row[s]:.4f}" for s in sets))
    console.print(table)


if __name__ == "__main__":
    main()
