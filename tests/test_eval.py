"""`kb eval`: reading BEIR sets, turning them into articles, scoring, and the command itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kb.cli import app
from kb.evaluation.baselines import Document
from kb.evaluation.beir import DatasetError, load_dataset
from kb.evaluation.corpus import article_ids, article_markdown, corpus_language, write_repository
from kb.evaluation.metrics import score
from kb.writing.checks import check_folder

DOCS = [
    ("d1", "Reset your password", "Use the forgot password link on the sign-in page to get a reset email."),
    ("d2", "Download invoices", "Invoices are under Billing, each as a PDF you can download."),
    ("d3", "Connect Slack", "Install the Slack app and choose a channel for notifications."),
    ("d4", "Delete your account", "Account owners can delete the account from the profile settings."),
    ("d5", "Two-factor authentication", "Turn on 2FA with an authenticator app for extra security."),
    ("d6", "Export your data", "Export projects as CSV files from the workspace settings."),
]
QUERIES = [("q1", "I forgot my password", "d1"), ("q2", "where are my invoices", "d2"), ("q3", "slack channel", "d3")]


def write_beir(folder: Path, docs=DOCS, queries=QUERIES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "corpus.jsonl").write_text("".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, t, x in docs))
    (folder / "queries.jsonl").write_text("".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t, _ in queries))
    (folder / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, _, d in queries))
    return folder


def test_dataset_keeps_only_judged_queries(tmp_path: Path) -> None:
    folder = write_beir(tmp_path / "set")
    (folder / "queries.jsonl").write_text((folder / "queries.jsonl").read_text() + '{"_id": "q9", "text": "unjudged"}\n')
    dataset = load_dataset(folder)
    assert len(dataset.documents) == 6 and set(dataset.queries) == {"q1", "q2", "q3"}
    assert dataset.qrels["q1"] == {"d1": 1}


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        ("corpus.jsonl", '{"_id": "d1", "title": "x", "text": "y"}\nnot json\n', "corpus.jsonl line 2: not JSON"),
        ("corpus.jsonl", '{"title": "x", "text": "y"}\n', "corpus.jsonl line 1: no '_id'"),
        ("qrels.tsv", "query-id\tcorpus-id\tscore\nq1\tnope\t1\n", "qrels.tsv line 2: corpus id 'nope'"),
        ("qrels.tsv", "query-id\tcorpus-id\tscore\nq1 d1 1\n", "qrels.tsv line 2: expected"),
    ],
)
def test_malformed_files_are_named_with_their_line(tmp_path: Path, file: str, content: str, message: str) -> None:
    folder = write_beir(tmp_path / "set")
    (folder / file).write_text(content)
    with pytest.raises(DatasetError, match=message):
        load_dataset(folder)


def test_missing_file_is_named(tmp_path: Path) -> None:
    folder = write_beir(tmp_path / "set")
    (folder / "qrels.tsv").unlink()
    with pytest.raises(DatasetError, match=r"qrels\.tsv: missing"):
        load_dataset(folder)


def test_document_ids_become_unique_valid_article_ids() -> None:
    ids = article_ids([Document(i, "t", "x") for i in ("Doc#1", "doc-1", "DOC_1", "-", "t000a0")])
    assert len(set(ids.values())) == 5
    assert ids["t000a0"] == "t000a0" and ids["Doc#1"] == "doc-1"


def test_markdown_structure_in_a_document_stays_text() -> None:
    text = article_markdown(Document("d", "Title", "# not a heading\n> not a quote"), article_id="d", locale="en")
    assert "\\# not a heading" in text and "\\> not a quote" in text


def test_corpus_language_is_read_from_the_script() -> None:
    assert corpus_language([Document("a", "梅雨", "梅雨は雨季の一種である。")] * 3) == "ja"
    assert corpus_language([Document(i, t, x) for i, t, x in DOCS]) == "en"


def test_written_corpus_is_a_valid_content_repository(tmp_path: Path) -> None:
    mapping = write_repository([Document(i, t, x) for i, t, x in DOCS], tmp_path / "repo", locale="en")
    report = check_folder(tmp_path / "repo")
    assert report.errors == [] and len(report.articles) == 6 and set(mapping.values()) == {d[0] for d in DOCS}


def test_a_query_without_results_scores_zero() -> None:
    qrels = {"q1": {"d1": 1}, "q2": {"d2": 1}}
    assert score(qrels, {"q1": {"d1": 1.0}})["ndcg@10"] == pytest.approx(0.5)


def test_eval_prints_every_mode_and_the_baselines(tmp_path: Path, database_url: str) -> None:
    env = {"KB_DATA_DIR": str(tmp_path / "data"), "KB_DATABASE_URL": database_url}
    result = CliRunner().invoke(app, ["eval", str(write_beir(tmp_path / "set")), "--baselines", "--json"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    names = [r["name"] for r in report["results"]]
    assert names == ["kb keyword", "kb semantic", "kb hybrid", "bm25", "dense", "txtai-hybrid"]
    assert report["queries"] == 3 and report["documents"] == 6
    hybrid = report["results"][2]
    assert hybrid["metrics"]["ndcg@10"] > 0.9 and hybrid["latency_ms"]["p50"] > 0


def test_eval_reuses_the_indexed_corpus_on_a_second_run(tmp_path: Path, database_url: str) -> None:
    env = {"KB_DATA_DIR": str(tmp_path / "data"), "KB_DATABASE_URL": database_url}
    folder = write_beir(tmp_path / "set")
    CliRunner().invoke(app, ["eval", str(folder), "--mode", "keyword"], env=env)
    corpora = list((tmp_path / "data" / "eval").iterdir())
    CliRunner().invoke(app, ["eval", str(folder), "--mode", "keyword"], env=env)
    assert list((tmp_path / "data" / "eval").iterdir()) == corpora and len(corpora) == 1


def test_eval_of_a_bad_folder_exits_2_with_the_reason(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "not a folder" in result.output


def test_eval_rejects_an_unknown_mode(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", str(write_beir(tmp_path / "set")), "--mode", "fuzzy"])
    assert result.exit_code == 2 and "--mode" in result.output


def with_conversations(folder: Path, conversations: dict[str, list[dict]]) -> Path:
    rows = [json.loads(line) for line in (folder / "queries.jsonl").read_text().splitlines()]
    lines = [json.dumps(row | {"conversation": conversations.get(row["_id"], [])}) + "\n" for row in rows]
    (folder / "queries.jsonl").write_text("".join(lines))
    return folder


CHATS = {
    "q1": [{"role": "customer", "text": "I cannot sign in to my account."}, {"role": "agent", "text": "Did you forget it?"}],
    "q2": [{"role": "customer", "text": "Billing question."}],
}


def test_a_dataset_reads_each_querys_earlier_turns_oldest_first(tmp_path: Path) -> None:
    dataset = load_dataset(with_conversations(write_beir(tmp_path / "set"), CHATS))
    assert [(turn.role, turn.text) for turn in dataset.conversations["q1"]] == [
        ("customer", "I cannot sign in to my account."), ("agent", "Did you forget it?"),
    ]  # fmt: skip
    assert dataset.conversations["q3"] == ()


def test_a_malformed_conversation_is_named_with_its_line_and_turn(tmp_path: Path) -> None:
    folder = with_conversations(write_beir(tmp_path / "set"), {"q2": [{"role": "robot", "text": "beep"}]})
    with pytest.raises(DatasetError, match=r"queries.jsonl line 2: conversation turn 1 needs a role"):
        load_dataset(folder)


def test_eval_measures_suggestions_from_conversations_beside_the_two_plain_ways(tmp_path: Path, database_url: str) -> None:
    env = {"KB_DATA_DIR": str(tmp_path / "data"), "KB_DATABASE_URL": database_url}
    folder = with_conversations(write_beir(tmp_path / "set"), CHATS)
    result = CliRunner().invoke(app, ["eval", str(folder), "--mode", "hybrid", "--suggestions", "--json"], env=env)
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row["metrics"] for row in json.loads(result.stdout)["suggestions"]}
    assert list(rows) == ["last customer message", "all messages concatenated", "kb suggestions"]
    assert set(rows["kb suggestions"]) == {"ndcg@10", "recall@3"} and rows["kb suggestions"]["ndcg@10"] > 0.9


def test_eval_of_suggestions_on_a_set_without_conversations_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", str(write_beir(tmp_path / "set")), "--suggestions"])
    assert result.exit_code == 2 and "no conversations" in result.output
