"""Answer gate tuning: how much of a query's words a lexical match must cover before kb says it has an answer.

A query the semantic side finds nothing for (no cosine over its floor) is answered only when its best
lexical match covers ``answer_coverage`` of its content-word IDF (search/fuse.py). This prints, per
threshold, the answerable queries of each BEIR set that the gate would wrongly leave without results
and what that costs in nDCG@10, beside how many of the sample help center's off-topic queries it
silences. Used to choose the default; the figures it prints are cited there.

    python -m bench.tune_gate ../shared/data/stackfaq ../shared/data/jsquad ...
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.off_topic import OFF_TOPIC
from kb.access.rules import PUBLIC
from kb.core.bootstrap import load_encoder, open_knowledge_base
from kb.core.knowledge_base import KnowledgeBase
from kb.core.settings import SAMPLE_CONTENT, Settings
from kb.evaluation.beir import load_dataset
from kb.evaluation.metrics import score
from kb.evaluation.run import DEPTH, open_corpus
from search.analyze import query_language
from search.encoder import query_for_model
from search.query import SearchSpec, candidates, rank
from search.snapshot import Mode
from versioning.bootstrap import create_repo_from_folder

THRESHOLDS = (None, 0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5)
"""None: no gate at all, the reference every other column is compared with."""
console = Console(width=200)


def rankings(kb: KnowledgeBase, queries: dict[str, str], *, mode: Mode, locale: str | None) -> dict[float | None, dict[str, list[str]]]:
    """Each query's article ids per threshold, through the query pipeline with the gate at each threshold.

    The query pipeline's steps with the fusion weights' gate replaced (every other weight as kb chooses it).
    """
    snapshot = kb.snapshot
    allowed = snapshot.visible_articles(PUBLIC)
    texts = {qid: query_for_model(text) for qid, text in queries.items()}
    vectors = dict(zip(texts, kb.encoder.encode_queries(list(texts.values())), strict=True)) if mode == "hybrid" else {}
    found: dict[float | None, dict[str, list[str]]] = {threshold: {} for threshold in THRESHOLDS}
    for qid, text in queries.items():
        plan = kb.queries.plan(SearchSpec(text, mode, allowed, locale=locale, limit=DEPTH), kb.snapshot)
        lexical, semantic = candidates(snapshot, plan, vectors.get(qid), depth=kb.settings.search_depth)
        for threshold in THRESHOLDS:
            gated = dataclasses.replace(plan, weights=dataclasses.replace(plan.weights, answer_coverage=threshold))
            found[threshold][qid] = [hit.article.id for hit in rank(snapshot, gated, lexical, semantic).hits]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", type=Path, nargs="+")
    args = parser.parse_args()
    settings = Settings()
    encoder = load_encoder(settings)
    table = Table("set", *("no gate" if t is None else f"≥{t}" for t in THRESHOLDS),
                  title="hybrid: answerable queries newly left without results (largest change of nDCG@10, Recall@10/100, MRR@10)")
    for folder in args.folders:
        dataset = load_dataset(folder)
        kb, ids, language = open_corpus(dataset, settings=settings, encoder=encoder, progress=None)
        queries = {qid: " ".join(text.split()) for qid, text in dataset.queries.items() if text.split()}
        table.add_row(dataset.name, *_cells(dataset.qrels, rankings(kb, queries, mode="hybrid", locale=language), ids))
        unanswerable = _unanswerable(folder)
        if unanswerable:
            every = rankings(kb, {qid: text for qid, text in _all_queries(folder).items() if qid in unanswerable},
                             mode="hybrid", locale=language)  # fmt: skip
            table.add_row(f"{dataset.name}: unanswerable queries without results (of {len(unanswerable)})",
                          *(str(sum(1 for found in every[t].values() if not found)) for t in THRESHOLDS))  # fmt: skip
        kb.close()
        console.print(f"done {dataset.name}")
    for language, (total, silenced) in _off_topic(settings, encoder).items():
        table.add_row(f"sample: off-topic {language} queries without results (of {total})", *(str(n) for n in silenced))
    console.print(table)


def _cells(qrels: dict, per_threshold: dict[float | None, dict[str, list[str]]], ids: dict[str, str]) -> list[str]:
    cells, reference, already = [], None, None
    for threshold in THRESHOLDS:
        ranked = per_threshold[threshold]
        run = {qid: {ids[a]: float(DEPTH - rank) for rank, a in enumerate(articles)} for qid, articles in ranked.items()}
        metrics = score(qrels, run)
        silenced = sum(1 for qid in qrels if qid in ranked and not ranked[qid])
        reference = metrics if reference is None else reference
        already = silenced if already is None else already
        worst = max((metrics[name] - reference[name] for name in metrics), key=abs)
        cells.append(f"{silenced - already} ({worst:+.4f})")
    return cells


def _unanswerable(folder: Path) -> set[str]:
    """Queries whose answer is in no document of the set (answers.jsonl), where no result is the right answer."""
    answers = folder / "answers.jsonl"
    if not answers.is_file():
        return set()
    rows = [json.loads(line) for line in answers.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {row["query_id"] for row in rows if not row["answerable"]}


def _all_queries(folder: Path) -> dict[str, str]:
    """Every query of queries.jsonl, judged or not (load_dataset keeps the judged ones)."""
    lines = (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    return {row["_id"]: " ".join(row["text"].split()) for row in map(json.loads, filter(str.strip, lines))}


def _off_topic(settings: Settings, encoder) -> dict[str, tuple[int, list[int]]]:
    """Per query language, the sample's off-topic queries and how many of them get no results at each threshold."""
    with tempfile.TemporaryDirectory(prefix="kb-gate-") as folder:
        root = Path(folder)
        create_repo_from_folder(SAMPLE_CONTENT, root / "content")
        sample = settings.model_copy(update={"data_dir": root / "data", "repo_path": root / "content"})
        kb = open_knowledge_base(sample, encoder=encoder)
        queries = {str(n): query for n, (query, _) in enumerate(OFF_TOPIC)}
        per_threshold = rankings(kb, queries, mode="hybrid", locale=None)
        kb.close()
        languages = {str(n): query_language(query) for n, (query, _) in enumerate(OFF_TOPIC)}
        by_language: dict[str, tuple[int, list[int]]] = {}
        for language in sorted(set(languages.values())):
            mine = [n for n, its_language in languages.items() if its_language == language]
            by_language[language] = (len(mine), [sum(1 for n in mine if not per_threshold[t][n]) for t in THRESHOLDS])
        return by_language


if __name__ == "__main__":
    main()
