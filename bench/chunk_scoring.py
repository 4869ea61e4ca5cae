"""How an article's semantic score is made from its chunks', against plain dense retrieval over whole documents.

`python -m bench.chunk_scoring ../shared/data/feedbackqa-australia [--data-dir data]`: nDCG@10 of the raw
semantic side (no cosine floor, no answer gate) when an article scores as its best chunk (kb today), its
first chunk, a mix of its two best, its whole document embedded alone (plain dense), and mixes of the best
chunk with the whole document; then the best chunk embedded with other context formats. Vectors come from
the configured backend, through the same knowledge base `kb eval` builds (reused from its folder).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np

from kb.core.bootstrap import load_encoder
from kb.core.settings import Settings
from kb.evaluation.beir import load_dataset
from kb.evaluation.metrics import score
from kb.evaluation.run import open_corpus

DEPTH = 100


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--data-dir", type=Path, default=None, help="kb's data folder (default: KB_DATA_DIR)")
    parser.add_argument("--formats", action="store_true", help="also embed every chunk again in other context formats")
    args = parser.parse_args(argv)
    settings = Settings() if args.data_dir is None else Settings(data_dir=args.data_dir)
    encoder = load_encoder(settings)
    data = load_dataset(args.dataset)
    kb, ids, _ = open_corpus(data, settings=settings, encoder=encoder, progress=None)
    snapshot = kb.snapshot
    owner = snapshot.chunk_article
    articles = len(snapshot.entries)
    queries = list(data.queries)
    query_vectors = encoder.encode([data.queries[query] for query in queries])
    documents = {document.id: document for document in data.documents}
    texts = [f"{documents[ids[e.article.id]].title} {documents[ids[e.article.id]].text}" for e in snapshot.entries]
    whole = encoder.encode(texts)
    # How much of each document the model read: it keeps what fits its window.
    coverage = np.array([min(1.0, (encoder.max_tokens - 2) / max(encoder.count_tokens(text), 1)) for text in texts])
    document_scores = query_vectors @ whole.T
    centres = np.stack([_unit(entry.vectors.mean(axis=0)) for entry in snapshot.entries])
    centre_scores = query_vectors @ centres.T

    def per_article(chunk_vectors: np.ndarray, pick: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        scores = query_vectors @ chunk_vectors.T
        out = np.empty((len(queries), articles), dtype=np.float32)
        for article in range(articles):
            out[:, article] = pick(scores[:, owner == article])
        return out

    def ndcg(scores: np.ndarray) -> float:
        ranking = {}
        for row, query in enumerate(queries):
            top = np.argsort(-scores[row])[:DEPTH]
            ranking[query] = {ids[snapshot.entries[a].article.id]: float(scores[row, a]) for a in top}
        return score(data.qrels, ranking)["ndcg@10"]

    def best_two(scores: np.ndarray) -> np.ndarray:
        ordered = np.sort(scores, axis=1)
        return ordered[:, -1] if scores.shape[1] == 1 else 0.7 * ordered[:, -1] + 0.3 * ordered[:, -2]

    chunk_vectors = np.concatenate([entry.vectors for entry in snapshot.entries])
    best = per_article(chunk_vectors, lambda scores: scores.max(axis=1))
    sizes = np.bincount(owner, minlength=articles)
    # A one-chunk article's document vector taken as its chunk's: the build then embeds nothing more for it.
    alone = np.where(sizes == 1, best, document_scores)
    print(f"{data.name}: {articles} articles, {len(owner)} chunks, {sizes.mean():.2f} chunks per article, "
          f"{(sizes == 1).mean():.0%} of articles one chunk")
    rows = [
        ("best chunk (kb)", best),
        ("first chunk", per_article(chunk_vectors, lambda scores: scores[:, 0])),
        ("0.7 best + 0.3 second chunk", per_article(chunk_vectors, best_two)),
        ("whole document (plain dense)", document_scores),
        ("max(best chunk, document)", np.maximum(best, document_scores)),
        ("0.7 best chunk + 0.3 document", 0.7 * best + 0.3 * document_scores),
        ("0.5 best chunk + 0.5 document", 0.5 * best + 0.5 * document_scores),
        ("0.5 / 0.5, one-chunk articles: chunk alone", 0.5 * best + 0.5 * alone),
        ("0.7 / 0.3, one-chunk articles: chunk alone", 0.7 * best + 0.3 * alone),
        ("0.5 × coverage, one-chunk: chunk alone", (1 - 0.5 * coverage) * best + 0.5 * coverage * alone),
        ("mean of chunk vectors", centre_scores),
        ("0.7 best chunk + 0.3 mean of chunks", 0.7 * best + 0.3 * centre_scores),
    ]
    for label, context in (("title\\ntext", "{context}\n{text}"), ("text alone", "{text}")) if args.formats else ():
        vectors = encoder.encode([
            context.format(context=" › ".join((chunk.title, *chunk.heading_path)), text=chunk.text) if chunk.text else chunk.title
            for chunk in snapshot.chunks
        ])
        rows.append((f"best chunk embedded as {label}", per_article(vectors, lambda scores: scores.max(axis=1))))
    for label, scores in rows:
        print(f"  {label:36s} {ndcg(scores):.4f}")
    kb.close()


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


if __name__ == "__main__":
    main()
