"""`kb eval --answers`: risk–coverage of bot answers, abstention on unanswerable and out-of-scope questions, gold spans."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kb.cli import app
from kb.evaluation.answers import Judged, answered_at, hold_out, point
from kb.evaluation.beir import AnswerKey, DatasetError, load_answer_key, load_dataset
from tests.test_eval import write_beir

OTHER_DOCS = [("o1", "Banana bread", "Mash three ripe bananas, mix with flour and sugar, and bake for an hour.")]
OTHER_QUERIES = [("x1", "how long do I bake banana bread", "o1"), ("x2", "how many bananas for banana bread", "o1")]


def with_answers(folder: Path) -> Path:
    """q1 and q2 answerable with gold spans; q4 asks about a page the set does not hold."""
    rows = [
        {"query_id": "q1", "answerable": True, "answers": ["forgot password link"]},
        {"query_id": "q2", "answerable": True, "answers": ["Invoices are under Billing"]},
        {"query_id": "q4", "answerable": False},
    ]
    (folder / "answers.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    with (folder / "queries.jsonl").open("a") as queries:
        queries.write(json.dumps({"_id": "q4", "text": "how do I book a meeting room"}) + "\n")
    return folder


def judged(kind: str, correct: bool, confidence: float, score: float = 0.5) -> Judged:
    return Judged(kind, correct, confidence, score)


def test_the_answer_key_lists_gold_spans_and_the_unanswerable_questions_with_their_text(tmp_path: Path) -> None:
    key = load_answer_key(with_answers(write_beir(tmp_path / "set")))
    assert key is not None and key.spans["q1"] == ("forgot password link",)
    assert key.unanswerable == {"q4": "how do I book a meeting room"}


def test_a_set_without_an_answer_file_has_no_answer_key(tmp_path: Path) -> None:
    assert load_answer_key(write_beir(tmp_path / "set")) is None


def test_an_unanswerable_question_missing_from_the_queries_is_named(tmp_path: Path) -> None:
    folder = write_beir(tmp_path / "set")
    (folder / "answers.jsonl").write_text('{"query_id": "q9", "answerable": false}\n')
    with pytest.raises(DatasetError, match=r"'q9' is not in queries\.jsonl"):
        load_answer_key(folder)


def test_precision_counts_an_answered_unanswerable_question_as_wrong_and_out_of_scope_apart() -> None:
    items = [judged("answerable", True, 0.9), judged("unanswerable", False, 0.95), judged("answerable", False, 0.2),
             judged("out_of_scope", False, 0.99), judged("out_of_scope", False, 0.1)]  # fmt: skip
    at = point(items, 0.5, by=lambda item: item.confidence)
    assert (at.answered, at.precision, at.out_of_scope_abstained) == (2 / 3, 0.5, 0.5)


def test_the_share_answered_at_a_precision_never_splits_a_tie() -> None:
    items = [judged("answerable", True, 0.9), judged("answerable", False, 0.8), judged("answerable", True, 0.8),
             judged("answerable", True, 0.1)]  # fmt: skip
    assert answered_at(items, 0.9, by=lambda item: item.confidence) == 0.25
    assert answered_at(items, 0.75, by=lambda item: item.confidence) == 1.0


def test_holding_out_a_quarter_makes_its_only_questions_out_of_scope(tmp_path: Path) -> None:
    dataset = load_dataset(write_beir(tmp_path / "set"))
    kept, _, outside = hold_out(dataset, AnswerKey({}, {}))
    held = {d.id for d in dataset.documents} - {d.id for d in kept.documents}
    orphaned = {qid for qid, docs in dataset.qrels.items() if set(docs) <= held}
    assert {qid.removeprefix("out-of-scope:") for qid in outside} == orphaned == {"q1"}
    assert not orphaned & set(kept.queries)


def test_holding_out_takes_every_article_of_a_subject_together(tmp_path: Path) -> None:
    """A page's other paragraphs left in would still answer its held-out paragraph's questions."""
    titles = ("rain", "snow", "wind", "fog", "sun", "hail")
    docs = [(f"{title}-p{n}", title, f"Paragraph {n} about {title}.") for title in titles for n in range(3)]
    queries = [(f"q-{doc_id}", f"What does paragraph {doc_id} say?", doc_id) for doc_id, _, _ in docs]
    dataset = load_dataset(write_beir(tmp_path / "set", docs=docs, queries=queries))
    kept, _, outside = hold_out(dataset, AnswerKey({}, {}))
    kept_titles = {d.title for d in kept.documents}
    held_titles = {d.title for d in dataset.documents} - kept_titles
    assert held_titles and kept_titles
    assert len(outside) == 3 * len(held_titles)


def test_eval_measures_answers_with_unanswerable_and_out_of_scope_questions(tmp_path: Path, database_url: str) -> None:
    env = {"KB_DATA_DIR": str(tmp_path / "data"), "KB_DATABASE_URL": database_url}
    folder = with_answers(write_beir(tmp_path / "set"))
    other = write_beir(tmp_path / "other", docs=OTHER_DOCS, queries=OTHER_QUERIES)
    arguments = ["eval", str(folder), "--mode", "keyword", "--answers", "--out-of-scope", str(other), "--json"]
    result = CliRunner().invoke(app, arguments, env=env)
    assert result.exit_code == 0, result.output
    answers = json.loads(result.stdout)["answers"]
    assert (answers["questions"], answers["unanswerable"], answers["out_of_scope_questions"]) == (4, 1, 2)
    assert answers["at_default"]["out_of_scope_abstained"] == 1.0 and answers["at_default"]["precision"] == 1.0
    assert answers["kb_curve"][0]["threshold"] == 0.0 and answers["quote_has_gold"] is not None


def test_out_of_scope_without_answers_exits_2(tmp_path: Path) -> None:
    folder = write_beir(tmp_path / "set")
    result = CliRunner().invoke(app, ["eval", str(folder), "--out-of-scope", str(folder)])
    assert result.exit_code == 2 and "--answers" in result.output
