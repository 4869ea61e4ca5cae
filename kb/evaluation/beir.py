"""Reading a BEIR-layout data set (corpus.jsonl, queries.jsonl, qrels.tsv), with errors that say where."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kb.evaluation.baselines import Document


class DatasetError(ValueError):
    """A data set file is missing or malformed; the message names the file and the line."""


@dataclass(frozen=True)
class Turn:
    """One earlier turn of a support conversation."""

    role: str
    """``customer`` or ``agent``."""
    text: str


@dataclass(frozen=True)
class Dataset:
    name: str
    documents: list[Document]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    conversations: dict[str, tuple[Turn, ...]] = field(default_factory=dict)
    """Per query that has one, the turns before it, oldest first (doc2dial's ``conversation``)."""


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
    queries: dict[str, str] = {}
    conversations: dict[str, tuple[Turn, ...]] = {}
    for row, where in _jsonl(folder / "queries.jsonl"):
        qid = _field(row, "_id", where)
        queries[qid] = _field(row, "text", where)
        if "conversation" in row:
            conversations[qid] = _conversation(row["conversation"], where)
    judged = {qid: text for qid, text in queries.items() if qid in qrels}
    return Dataset(folder.name, documents, judged, qrels, {qid: turns for qid, turns in conversations.items() if qid in judged})


@dataclass(frozen=True)
class AnswerKey:
    """A set's ``answers.jsonl``: what answers its questions, and which questions nothing in it answers."""

    spans: dict[str, tuple[str, ...]]
    """Per answerable question, the gold answer strings (the passage an agent answered from, or crowd answers)."""
    unanswerable: dict[str, str]
    """The questions whose page is not in the corpus, by id: kb should abstain on them."""
    conversations: dict[str, tuple[Turn, ...]] = field(default_factory=dict)
    """The unanswerable questions' earlier turns (the judged ones' are in :attr:`Dataset.conversations`)."""


def load_answer_key(folder: Path) -> AnswerKey | None:
    """The set's answer file read with its queries; None for a set without ``answers.jsonl``."""
    if not (folder / "answers.jsonl").is_file():
        return None
    spans: dict[str, tuple[str, ...]] = {}
    unanswerable: set[str] = set()
    for row, where in _jsonl(folder / "answers.jsonl"):
        qid = _field(row, "query_id", where)
        if row.get("answerable") is False:
            unanswerable.add(qid)
        elif not isinstance(row.get("answers", []), list):
            raise DatasetError(f"{where}: 'answers' must be a list of strings")
        else:
            spans[qid] = tuple(str(answer) for answer in row.get("answers", []) if str(answer).strip())
    texts, conversations = {}, {}
    for row, where in _jsonl(folder / "queries.jsonl"):
        qid = _field(row, "_id", where)
        if qid in unanswerable:
            texts[qid] = _field(row, "text", where)
            conversations[qid] = _conversation(row.get("conversation", []), where)
    if missing := sorted(unanswerable - texts.keys()):
        raise DatasetError(f"answers.jsonl: query {missing[0]!r} is not in queries.jsonl")
    return AnswerKey(spans, texts, conversations)


def _conversation(value: object, where: str) -> tuple[Turn, ...]:
    if not isinstance(value, list):
        raise DatasetError(f"{where}: 'conversation' must be a list of turns")
    turns = []
    for number, turn in enumerate(value, start=1):
        if not isinstance(turn, dict) or turn.get("role") not in ("customer", "agent") or not isinstance(turn.get("text"), str):
            raise DatasetError(f"{where}: conversation turn {number} needs a role (customer or agent) and a text")
        turns.append(Turn(turn["role"], turn["text"]))
    return tuple(turns)


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
