"""Which analyser the lexical index uses, measured: plain BM25 (bm25s) over each BEIR set, one analyser at a time.

    python -m bench.analysers [DATA]       # DATA defaults to ../shared/data

Japanese sets: character bigrams, SudachiPy words (kb's settings: mode A, normalised form, particles and
punctuation dropped), MeCab words through fugashi with unidic-lite (the same parts of speech dropped),
and each word list with the bigrams added; kb uses Sudachi + bigrams. English sets: lowercase words, then
Snowball stems (kb), then stems without bm25s's English stop words. Every variant indexes the document's
title and text once, with bm25s's defaults, so only the tokens differ.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import bm25s
from rich.console import Console

from bench.report import write_section
from kb.evaluation.baselines import document_text
from kb.evaluation.beir import Dataset, load_dataset
from kb.evaluation.corpus import corpus_language
from kb.evaluation.metrics import score
from search.analyze import _JA_DROPPED_POS, _WORD, Analyzer, Token, _bigrams

console = Console()
ROOT = Path(__file__).resolve().parent.parent
Tokenize = Callable[[str], list[str]]


class _Variant(Analyzer):
    """kb's analyser with its Japanese rule replaced (English runs are analysed as kb does)."""

    def __init__(self, japanese: Callable[[Analyzer, str, int, int], list[Token]]) -> None:
        super().__init__()
        self._rule = japanese

    def _japanese(self, text: str, start: int, end: int) -> list[Token]:
        return self._rule(self, text, start, end)


def _fugashi_words() -> Callable[[Analyzer, str, int, int], list[Token]]:
    import fugashi

    tagger = fugashi.Tagger()

    def words(_: Analyzer, text: str, start: int, end: int) -> list[Token]:
        return [Token(w.surface.lower(), start, end) for w in tagger(text[start:end]) if w.feature.pos1 not in _JA_DROPPED_POS]

    return words


def japanese_analysers() -> dict[str, Tokenize]:
    fugashi_words = _fugashi_words()
    variants = {
        "bigrams": lambda a, t, s, e: _bigrams(t, s, e, within=[]),
        "sudachi": lambda a, t, s, e: a._japanese_words(t, s, e),
        "fugashi (unidic-lite)": fugashi_words,
        "fugashi + bigrams": lambda a, t, s, e: fugashi_words(a, t, s, e) + _bigrams(t, s, e, within=[]),
    }
    analysers: dict[str, Tokenize] = {name: _Variant(rule).analyze for name, rule in variants.items()}
    analysers["sudachi + bigrams (kb)"] = Analyzer().analyze
    return analysers


def english_analysers() -> dict[str, Tokenize]:
    kb = Analyzer()
    stop_words = set(bm25s.stopwords.STOPWORDS_EN)
    return {
        "lowercase words": lambda text: [m.group().lower() for m in _WORD.finditer(text)],
        "stems (kb)": kb.analyze,
        "stems, no stop words": lambda text: [t for t in kb.analyze(text) if t not in stop_words],
    }


def ndcg(dataset: Dataset, tokenize: Tokenize) -> float:
    """nDCG@10 of plain BM25 over the set with this analyser."""
    ids = [document.id for document in dataset.documents]
    index = bm25s.BM25()
    index.index([tokenize(document_text(d)) for d in dataset.documents], show_progress=False)
    # Only words the index holds: bm25s refuses a query of unknown words (which would score 0 anyway).
    known = {q: [t for t in tokenize(text) if t in index.vocab_dict] for q, text in dataset.queries.items()}
    query_ids = [q for q, tokens in known.items() if tokens]
    hits, scores = index.retrieve([known[q] for q in query_ids], k=10, show_progress=False)
    ranking: dict[str, dict[str, float]] = {q: {} for q in known}
    for q, row, row_scores in zip(query_ids, hits, scores, strict=True):
        ranking[q] = {ids[i]: float(s) for i, s in zip(row, row_scores, strict=True) if s > 0}
    return score(dataset.qrels, ranking)["ndcg@10"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path, nargs="?", default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md", help="page to write the table into")
    args = parser.parse_args(argv)
    lines = [
        "## Analysers (plain BM25, nDCG@10)",
        "",
        f"- command: `make eval  # = python -m bench.analysers {args.data}`",
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}",
        "- bm25s with its defaults over title + text; only the tokens differ (see `bench/analysers.py`)",
        "",
        "| set | analyser | nDCG@10 |",
        "|---|---|---|",
    ]
    for folder in sorted(p for p in args.data.iterdir() if (p / "corpus.jsonl").is_file()):
        dataset = load_dataset(folder)
        language = corpus_language(dataset.documents)
        for name, tokenize in (japanese_analysers() if language == "ja" else english_analysers()).items():
            with console.status(f"{dataset.name}: {name}…"):
                figure = ndcg(dataset, tokenize)
            console.print(f"{dataset.name} ({language}) {name}: {figure:.4f}")
            lines.append(f"| {dataset.name} ({language}) | {name} | {figure:.4f} |")
    write_section(args.out, "make eval: analysers", "\n".join(lines) + "\n")
    console.print(f"written to {args.out}")


if __name__ == "__main__":
    main()
