"""One knowledge base made of every BEIR set beside the project: the large, mixed-language bench case."""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kb.evaluation.beir import load_dataset
from kb.evaluation.corpus import article_ids, article_markdown, corpus_language
from versioning.bootstrap import create_repo_from_folder

QUERIES_PER_SET = 20
"""Queries drawn from each set (a fixed seed, so runs compare)."""


@dataclass(frozen=True)
class CombinedCorpus:
    """What the bench needs to know about the repository it built."""

    repository: Path
    sets: list[str]
    articles: int
    queries: list[tuple[str, str]]
    edit_path: str
    """One article's path in the repository, for the re-index measurement to change."""


def build_combined_repository(data: Path, destination: Path) -> CombinedCorpus:
    """Every set's documents as articles under ``<locale>/<set>/``, ids prefixed by the set, in one Git repository."""
    folders = sorted(p for p in data.iterdir() if (p / "corpus.jsonl").is_file())
    if not folders:
        raise FileNotFoundError(f"no BEIR data sets (folders with corpus.jsonl) under {data}")
    queries: list[tuple[str, str]] = []
    articles = 0
    edit_path = ""
    with tempfile.TemporaryDirectory(prefix="kb-combined-") as staging:
        for folder in folders:
            dataset = load_dataset(folder)
            locale = corpus_language(dataset.documents)
            target = Path(staging) / locale / folder.name
            target.mkdir(parents=True)
            ids = {document_id: f"{folder.name}-{article_id}" for document_id, article_id in article_ids(dataset.documents).items()}
            for document in dataset.documents:
                text = article_markdown(document, article_id=ids[document.id], locale=locale)
                (target / f"{ids[document.id]}.md").write_text(text, encoding="utf-8")
            articles += len(dataset.documents)
            edit_path = edit_path or f"{locale}/{folder.name}/{ids[dataset.documents[0].id]}.md"
            texts = sorted(dataset.queries.values())
            queries += [(text, locale) for text in random.Random(0).sample(texts, min(QUERIES_PER_SET, len(texts)))]
        create_repo_from_folder(Path(staging), destination, message="Import every benchmark set").close()
    return CombinedCorpus(destination, [f.name for f in folders], articles, queries, edit_path)
