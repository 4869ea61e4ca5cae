"""Reading a BEIR-layout data set (corpus.jsonl, queries.jsonl, qrels.tsv), with errors that say where."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kb.evaluation.baselines import Document


class DatasetError(ValueError):
    """A data set file is missing or malformed; the message names the file and the line."""


@dataclass(frozen=True)
class Dataset:
    name: str
    documents: list[Document]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def load_dataset(folder: Path) -> Dataset:
    """The corpus, the queries that have judgements, and the judgements; BEIR evaluates only judged queries."""
    if not folder.is_dir():
        raise DatasetError(f"{folder}: not a folder (expected corpus.jsonl, queries.jsonl and qrels.tsv in it)")
    documents = [
        Document(id=_field(row, "_id", where), title=str(row.get("title") or ""), text=_field(row, "text", where))
        for row, where in _jsonl(folder / "corpus.jsonl")
    ]
    known = {document.id for document in documents}
    qrels = _qrels(folder / "qrels.tsv", known)
    queries = {
        _field(row, "_id", where): _field(row, "text", where)
        for row, where in _jsonl(folder / "queries.jsonl")
    }
    return Dataset(folder.name, documents, {qid: text for qid, text in queries.items() if qid in qrels}, qrels)


def _jsonl(path: Path) -> Iterator[tuple[dict, str]]:
    if not path.is_file():
        raise DatasetError(f"{path}: missing")
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{path.name} line {number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise DatasetError(f"{where}: not JSON ({error.msg})") from None
            if not isinstance(row, dict):
                raise DatasetError(f"{where}: expected a JSON object")
            yield row, where


def _field(row: dict, name: str, where: str) -> str:
    value = row.get(name)
    if not isinstance(value, (str, int)) or not str(value).strip():
        raise DatasetError(f"{where}: no {name!r}")
    return str(value)


def _qrels(path: Path, known: set[str]) -> dict[str, dict[str, int]]:
    if not path.is_file():
        raise DatasetError(f"{path}: missing")
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as source:
        for number, row in enumerate(csv.reader(source, delimiter="\t"), start=1):
            if (number == 1 and row[:1] == ["query-id"]) or not row:
                continue
            if len(row) != 3 or not row[2].lstrip("-").isdigit():
                raise DatasetError(f"{path.name} line {number}: expected 'query-id<TAB>corpus-id<TAB>score'")
            if row[1] not in known:
                raise DatasetError(f"{path.name} line {number}: corpus id {row[1]!r} is not in corpus.jsonl")
            if int(row[2]) > 0:
                qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    return qrels
