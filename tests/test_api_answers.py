"""POST /v1/answers: sentences from the best section with citations, or an abstention that hands off to a person."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from api.routes.answers import AnswerOut, BatchOut
from articles.parse import parse_article
from kb.access.tokens import issue_customer_token
from kb.assist.ledger import interaction
from tests.conftest import JWT_SECRET, article_text, count_query_encodes, served_kb
from tests.problems import assert_problem
from tests.test_api_agents import key

PASSWORD = {"question": "How do I reset my password?"}
OFF_TOPIC = {"question": "What is a good recipe for banana bread?"}


def ask(client: TestClient, question: dict, headers: dict[str, str] | None = None) -> dict:
    response = client.post("/v1/answers", json=question, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_question_the_help_center_answers_gets_quoted_sentences_and_a_citation(client: TestClient) -> None:
    body = ask(client, PASSWORD)
    assert not body["abstained"] and not body["handoff"] and body["confidence"] >= body["threshold"]
    citation = body["citations"][0]
    assert citation["article_id"] == "reset-password" and citation["url"].startswith("/hc/en/articles/reset-password")
    assert body["answer"] == citation["quote"] and "password" in citation["quote"].lower()


def test_a_question_with_no_answer_in_the_help_center_abstains_and_hands_off(client: TestClient) -> None:
    body = ask(client, OFF_TOPIC)
    assert body["abstained"] and body["handoff"] and body["reason"] in ("no_match", "low_confidence")
    assert body["answer"] == "" and body["citations"] == [] and body["message"]


def test_every_quote_is_verbatim_in_the_cited_section_at_the_cited_revision(client: TestClient) -> None:
    repo = Path(served_kb(client).settings.repo_path)  # type: ignore[arg-type]
    questions = ["How do I reset my password?", "How do I cancel my subscription?", "What does error E1042 mean?",
                 "Can I import tasks from a spreadsheet?", "How do I invite teammates?"]  # fmt: skip
    for question in questions:
        body = ask(client, {"question": question})
        for citation in body["citations"]:
            article = served_kb(client).snapshot.article(citation["article_id"], citation["locale"])
            assert article is not None
            show = ["git", "show", f"{citation['revision']}:{article.path}"]
            then = parse_article(article.path, subprocess.run(show, cwd=repo, check=True, capture_output=True).stdout)
            sections = [s.text for s in then.sections if s.anchor == citation["anchor"]]
            assert any(citation["quote"] in text for text in sections), (question, citation["quote"])


def test_a_follow_up_is_read_with_the_conversation_before_it(client: TestClient) -> None:
    conversation = [
        {"role": "customer", "text": "How long can I stay signed in before my session times out?"},
        {"role": "agent", "text": "In the web app, you are signed out after a period of inactivity your admin sets."},
    ]
    alone = ask(client, {"question": "And on mobile?"})
    followed = ask(client, {"question": "And on mobile?", "conversation": conversation})
    assert followed["citations"][0]["article_id"] == "session-management"
    assert "session-management" not in [citation["article_id"] for citation in alone["citations"]]


def test_every_answer_and_abstention_is_in_the_ledger(client: TestClient) -> None:
    answered, abstained = ask(client, PASSWORD, key(client, "bot")), ask(client, OFF_TOPIC, key(client, "bot"))
    records = [interaction(served_kb(client).writer, body["interaction_id"]) for body in (answered, abstained)]
    assert all(record is not None and record.kind == "answer" and record.principal_kind == "bot" for record in records)
    assert [item["article_id"] for item in json.loads(records[0].items)] == ["reset-password"]  # type: ignore[union-attr]
    assert json.loads(records[1].items) == []  # type: ignore[union-attr]


def test_a_bot_says_its_answer_resolved_the_question(client: TestClient) -> None:
    bot = key(client, "bot")
    body = ask(client, PASSWORD, bot)
    response = client.post("/v1/feedback", json={"interaction_id": body["interaction_id"], "outcome": "resolved"}, headers=bot)
    assert response.status_code == 201, response.text


def test_a_batch_answers_each_question_as_the_single_call_does(client: TestClient) -> None:
    response = client.post("/v1/answers:batch", json={"questions": [PASSWORD, OFF_TOPIC]})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    singles = [ask(client, PASSWORD), ask(client, OFF_TOPIC)]
    assert [(r["abstained"], r["citations"]) for r in results] == [(r["abstained"], r["citations"]) for r in singles]


def test_responses_hold_exactly_their_published_schema(client: TestClient) -> None:
    for question in (PASSWORD, OFF_TOPIC):
        body = ask(client, question)
        assert TypeAdapter(AnswerOut).validate_python(body, strict=True) == body
    batch = client.post("/v1/answers:batch", json={"questions": [PASSWORD]}).json()
    assert TypeAdapter(BatchOut).validate_python(batch, strict=True) == batch


SEGMENTED = {
    ".kb/access.yml": "segments:\n  enterprise: Enterprise plan\n",
    "en/residency.md": article_text(
        "data-residency",
        "Choose where your data is stored",
        "With data residency, your workspace content is stored in the region you choose: the United States, the "
        "European Union (Frankfurt) or Japan (Tokyo). Data residency is set per workspace by an owner.",
        audience="[enterprise]",
    ),
    "en/export.md": article_text(
        "export-workspace",
        "Export your workspace",
        "Owners can export every project of a workspace as a ZIP archive of CSV files from Settings, Export.",
    ),
}
RESIDENCY = {"question": "Can my workspace data be stored in the European Union region?"}


def test_a_segment_article_never_reaches_an_anonymous_bots_answer(make_client) -> None:
    api = make_client(SEGMENTED, jwt_secret=JWT_SECRET)
    for headers in ({}, key(api, "bot")):
        body = json.dumps(ask(api, RESIDENCY, headers))
        assert "data-residency" not in body and "Frankfurt" not in body and "where your data is stored" not in body


def test_a_segment_article_answers_that_segments_customer(make_client) -> None:
    api = make_client(SEGMENTED, jwt_secret=JWT_SECRET)
    token = issue_customer_token(secret=JWT_SECRET, subject="alice", segments=("enterprise",))
    through_header = ask(api, RESIDENCY, key(api, "bot") | {"X-KB-Customer-Token": token})
    in_the_body = ask(api, RESIDENCY | {"customer_token": token}, key(api, "bot"))
    assert through_header["citations"][0]["article_id"] == in_the_body["citations"][0]["article_id"] == "data-residency"


def test_a_customer_token_in_the_body_is_for_bot_keys(client: TestClient) -> None:
    response = client.post("/v1/answers", json=PASSWORD | {"customer_token": "a.b.c"}, headers=key(client, "agent"))
    assert_problem(response, 422, field="customer_token")


@pytest.mark.parametrize(
    ("question", "field"),
    [
        ({"question": ""}, "question"),
        ({"question": "   "}, "question"),
        ({"question": "x" * 1001}, "question"),
        ({"question": "refund", "locale": "xx"}, "locale"),
        ({"question": "refund", "conversation": [{"role": "robot", "text": "hi"}]}, "conversation"),
        ({"question": "refund", "conversation": [{"role": "customer", "text": "x" * 50_001}]}, "conversation"),
        ({"question": "bad\x00question"}, "question"),
    ],
)
def test_a_bad_question_is_a_clear_422_naming_the_field(client: TestClient, question: dict, field: str) -> None:
    body = assert_problem(client.post("/v1/answers", json=question), 422)
    assert [error["field"].split(".")[0] for error in body["errors"]] == [field]


def test_a_bad_question_in_a_batch_is_named_by_its_place(client: TestClient) -> None:
    response = client.post("/v1/answers:batch", json={"questions": [PASSWORD, {"question": "refund", "locale": "xx"}]})
    assert_problem(response, 422, field="questions.1.locale")


def test_a_batch_encodes_its_questions_in_one_model_call(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = count_query_encodes(monkeypatch, served_kb(client).encoder)
    questions = [{"question": f"How do I cancel my subscription, case {n}?", "conversation": [{"role": "customer", "text": "Hi"}]}
                 for n in range(3)]  # fmt: skip
    assert client.post("/v1/answers:batch", json={"questions": questions}).status_code == 200
    assert calls == [3]
