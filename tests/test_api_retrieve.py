"""POST /v1/retrieve: cited passages for an LLM's prompt, best first, de-duplicated, never over the token budget."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from api.routes.retrieve import RetrieveOut
from kb.assist.ledger import interaction
from tests.conftest import JWT_SECRET, article_text, served_kb
from tests.problems import assert_problem
from tests.test_api_answers import RESIDENCY, SEGMENTED
from tests.test_api_customers import customer

QUESTION = {"query": "How do I set up single sign-on with SAML?"}


def retrieve(client: TestClient, body: dict, headers: dict[str, str] | None = None) -> dict:
    response = client.post("/v1/retrieve", json=body, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("budget", [30, 120, 400, 1000, 4000])
def test_the_token_budget_is_never_exceeded(client: TestClient, budget: int) -> None:
    body = retrieve(client, QUESTION | {"token_budget": budget})
    counted = served_kb(client).encoder.count_tokens(body["context"])
    assert counted == body["tokens"] <= budget
    assert sum(p["tokens"] for p in body["passages"]) <= budget


def test_passages_come_best_first_each_with_its_citation(client: TestClient) -> None:
    body = retrieve(client, QUESTION)
    scores = [p["score"] for p in body["passages"]]
    assert len(scores) > 1 and scores == sorted(scores, reverse=True)
    assert body["passages"][0]["citation"]["article_id"] == "single-sign-on-saml"
    snapshot = served_kb(client).snapshot
    for number, passage in enumerate(body["passages"], start=1):
        citation = passage["citation"]
        where = (citation["article_id"], citation["locale"], citation["anchor"])
        assert any(citation["quote"] in c.text for c in snapshot.chunks if (c.article_id, c.locale, c.anchor) == where)
        assert f"[{number}] {citation['title']}" in body["context"] and citation["quote"] in body["context"]


def test_a_tight_budget_cuts_the_best_section_to_its_sentences_about_the_question(client: TestClient) -> None:
    whole = retrieve(client, QUESTION | {"token_budget": 4000})["passages"][0]["citation"]["quote"]
    cut = retrieve(client, QUESTION | {"token_budget": 60})["passages"][0]["citation"]["quote"]
    assert cut in whole and len(cut) < len(whole)


def test_an_article_is_passed_once_whatever_its_translations(client: TestClient) -> None:
    ids = [p["citation"]["article_id"] for p in retrieve(client, QUESTION | {"token_budget": 4000})["passages"]]
    assert len(ids) == len(set(ids))


def test_the_same_text_in_two_articles_is_passed_once(make_client) -> None:
    text = "Quokka workspaces can be exported as a ZIP archive of CSV files from Settings, then Export."
    api = make_client({"en/a.md": article_text("quokka-export", "Export quokkas", text),
                       "en/b.md": article_text("quokka-export-copy", "Export quokkas (copy)", text)})  # fmt: skip
    body = retrieve(api, {"query": "How do I export my quokka workspace as CSV?"})
    assert [p["citation"]["quote"] for p in body["passages"]].count(text) == 1


def test_a_segment_article_never_reaches_anonymous_retrieval_but_reaches_its_segment(make_client) -> None:
    api = make_client(SEGMENTED, jwt_secret=JWT_SECRET)
    query = {"query": RESIDENCY["question"]}
    anonymous = json.dumps(retrieve(api, query))
    assert "data-residency" not in anonymous and "Frankfurt" not in anonymous
    enterprise = retrieve(api, query, customer("enterprise"))
    assert enterprise["passages"][0]["citation"]["article_id"] == "data-residency"


def test_each_retrieval_is_in_the_ledger(client: TestClient) -> None:
    body = retrieve(client, QUESTION)
    record = interaction(served_kb(client).writer, body["interaction_id"])
    assert record is not None and record.kind == "retrieval"
    assert [item["article_id"] for item in json.loads(record.items)] == [p["citation"]["article_id"] for p in body["passages"]]


def test_the_response_holds_exactly_its_published_schema(client: TestClient) -> None:
    body = retrieve(client, QUESTION)
    assert TypeAdapter(RetrieveOut).validate_python(body, strict=True) == body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"query": ""}, "query"),
        ({"query": "x" * 1001}, "query"),
        ({"query": "sso", "token_budget": 0}, "token_budget"),
        ({"query": "sso", "token_budget": 10**9}, "token_budget"),
        ({"query": "sso", "tokenizer": "gpt-17"}, "tokenizer"),
        ({"query": "sso", "locale": "xx"}, "locale"),
        ({"query": "sso", "conversation": [{"role": "customer", "text": "x" * 50_001}]}, "conversation"),
    ],
)
def test_a_bad_retrieval_is_a_clear_422_naming_the_field(client: TestClient, body: dict, field: str) -> None:
    problem = assert_problem(client.post("/v1/retrieve", json=body), 422)
    assert [error["field"].split(".")[0] for error in problem["errors"]] == [field]
