"""How an article's keyword score is made from its chunks', against plain BM25 over whole documents.

`python -m bench.lexical_scoring ../shared/data/jsquad [--data-dir data]`: nDCG@10 of kb's lexical side
(BM25 over analysed chunks, an article scoring as its best chunk) with the title counted 1–4 times,
against BM25 over whole articles with the same analyser, and mixes of the best chunk with the whole
article. The corpus is the one `kb eval` builds (reused from its folder); no answer gate.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from kb.core.bootstrap import load_encoder
from kb.core.settings import Settings
from kb.evaluation.beir import load_dataset
from kb.evaluation.metrics import score
from kb.evaluation.run import open_corpus
from search.fields import chunk_tokens
from search.lexical import LexicalIndex

DEPTH = 100
TITLE_WEIGHTS = (1, 2, 3, 4)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--data-dir", type=Path, default=None, help="kb's data folder (default: KB_DATA_DIR)")
    args = parser.parse_args(argv)
    settings = Settings() if args.data_dir is None else Settings(data_dir=args.data_dir)
    data = load_dataset(args.dataset)
    kb, ids, _ = open_corpus(data, settings=settings, encoder=load_encoder(settings), progress=None)
    snapshot, analyzer = kb.snapshot, kb.analyzer
    owner = snapshot.chunk_article
    queries = list(data.queries)
    analysed = [analyzer.query(data.queries[query]) for query in queries]
    # Function words scored or not: a query's content words alone, where it has any.
    term_sets = {"all words": [q.terms for q in analysed], "content words": [q.content or q.terms for q in analysed]}
    article_ids = [ids[entry.article.id] for entry in snapshot.entries]

    def ndcg(scores: np.ndarray) -> float:
        ranking = {}
        for row, query in enumerate(queries):
            top = np.argsort(-scores[row])[:DEPTH]
            ranking[query] = {article_ids[a]: float(scores[row, a]) for a in top if scores[row, a] > 0}
        return score(data.qrels, ranking)["ndcg@10"]

    def best_chunk(index: LexicalIndex, terms: list[list[str]]) -> np.ndarray:
        out = np.zeros((len(queries), len(snapshot.entries)), dtype=np.float32)
        for row, query_terms in enumerate(terms):
            np.maximum.at(out[row], owner, index.scores(query_terms))
        return out

    def whole(index: LexicalIndex, terms: list[list[str]]) -> np.ndarray:
        return np.stack([index.scores(query_terms) for query_terms in terms])

    print(f"{data.name}: {len(snapshot.entries)} articles, {len(owner)} chunks")
    for weight in TITLE_WEIGHTS:
        chunks = LexicalIndex([
            list(chunk_tokens(chunk, entry.article, analyzer=analyzer, title_weight=weight)[0])
            for entry in snapshot.entries for chunk in entry.chunks
        ])
        articles = LexicalIndex([
            analyzer.analyze(entry.article.title) * weight
            + [term for chunk in entry.chunks for term in analyzer.analyze(" ".join((*chunk.heading_path, chunk.text)))]
            for entry in snapshot.entries
        ])
        for words, terms in term_sets.items():
            best, document = best_chunk(chunks, terms), whole(articles, terms)
            rows = [
                ("best chunk (kb)", best),
                ("whole article", document),
                ("0.7 best chunk + 0.3 article", 0.7 * best + 0.3 * document),
                ("0.5 best chunk + 0.5 article", 0.5 * best + 0.5 * document),
            ]
            for label, scores in rows:
                print(f"  title ×{weight}  {words:13s}  {label:30s} {ndcg(scores):.4f}")
    kb.close()


if __name__ == "__main__":
    main()
