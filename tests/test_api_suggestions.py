"""POST /v1/suggestions: articles and passages for an agent's ticket, internal ones marked as not sendable."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from api.routes.suggestions import BatchOut, SuggestionsOut
from kb.assist.ledger import interaction
from tests.conftest import JWT_SECRET, count_query_encodes, served_kb
from tests.problems import assert_problem
from tests.test_api_agents import key
from tests.test_api_customers import ARTICLES, customer

REFUND_TICKET = {
    "subject": "Refund above 500 EUR",
    "body": "Hi team,\n\nThe customer wants a refund of 650 EUR for last year's annual plan. Who can approve that?\n\nThanks,\nSam",
}
NOISY_TICKET = {
    "subject": "Sync problem",
    "body": (
        "Hello,\n\nThe desktop app keeps showing E1042 and stops syncing. Order #77812.\n\n"
        "2024-05-01 10:22:01 ERROR [sync] E1042 token rejected\n\n"
        "Best regards,\nMaria Lopez\nAcme Corp | +1 415 555 0100\n"
        "This e-mail and any attachments are confidential.\n\n"
        "On Wed, Dec 20, 2023 at 13:37, Support <help@orbitly.example> wrote:\n> Could you send us your invoice?\n"
    ),
}


def suggest(client: TestClient, ticket: dict, role: str = "agent") -> dict:
    response = client.post("/v1/suggestions", json=ticket, headers=key(client, role))
    assert response.status_code == 200, response.text
    return response.json()


def by_id(body: dict) -> dict[str, dict]:
    return {item["id"]: item for item in body["suggestions"]}


def test_an_internal_article_is_suggested_to_an_agent_but_marked_not_sendable(client: TestClient) -> None:
    found = by_id(suggest(client, REFUND_TICKET))
    assert found["refund-approval-playbook"]["sendable"] is False
    assert found["refund-approval-playbook"]["audience"] == "agents"
    assert found["refund-policy"]["sendable"] is True


def test_a_segment_article_is_sendable_only_to_a_requester_in_that_segment(client: TestClient) -> None:
    ticket = {"subject": "Data location", "body": "Can our workspace data be stored in the EU data region?", "limit": 10}
    assert by_id(suggest(client, ticket))["data-residency"]["sendable"] is False
    enterprise = suggest(client, ticket | {"requester": {"segments": ["enterprise"]}})
    assert by_id(enterprise)["data-residency"]["sendable"] is True


def test_a_requesters_token_decides_what_may_be_sent_them(make_client) -> None:
    api = make_client(ARTICLES, jwt_secret=JWT_SECRET)
    token = customer("enterprise")["Authorization"].removeprefix("Bearer ")
    ticket = {"body": "How does quokka single sign-on work for enterprise?", "limit": 10}
    assert by_id(suggest(api, ticket))["quokka-saml"]["sendable"] is False
    assert by_id(suggest(api, ticket | {"customer_token": token}))["quokka-saml"]["sendable"] is True


def test_greetings_signatures_logs_and_quotes_do_not_lead_the_suggestions_astray(client: TestClient) -> None:
    body = suggest(client, NOISY_TICKET)
    assert body["suggestions"][0]["id"] == "e1042-sync-token-expired"
    for noise in ("Hello", "Maria", "77812", "confidential", "invoice"):
        assert noise not in body["query"]


def test_each_suggestion_carries_a_passage_really_in_its_section_and_the_words_that_matched(client: TestClient) -> None:
    snapshot = served_kb(client).snapshot
    found = suggest(client, REFUND_TICKET)["suggestions"]
    assert found[0]["matched_terms"]  # the top passage holds words of the ticket
    for item in found:
        article = snapshot.article(item["id"], item["locale"])
        assert article is not None
        sections = [c.text for c in snapshot.chunks if (c.article_id, c.locale, c.anchor) == (article.id, article.locale, item["anchor"])]
        assert item["passage"] and any(item["passage"] in text for text in sections)
        assert all(word in item["passage"] for word in item["matched_terms"])
        assert item["revision"] == article.revision and item["commit"] == snapshot.commit


def test_the_conversation_after_the_body_decides_what_the_ticket_is_about_now(client: TestClient) -> None:
    ticket = {
        "subject": "Account",
        "body": "I need help with my account.",
        "messages": [
            {"role": "agent", "text": "Sure, what happened?"},
            {"role": "customer", "text": "My phone was stolen, so I have no 2FA codes. How do I get back into my account?"},
        ],
    }
    assert suggest(client, ticket)["suggestions"][0]["id"] == "recover-account-without-2fa"


def test_articles_the_ticket_already_links_are_not_suggested_again(client: TestClient) -> None:
    first = suggest(client, REFUND_TICKET)["suggestions"][0]["id"]
    again = suggest(client, REFUND_TICKET | {"exclude": [first]})
    assert first not in by_id(again)


def test_every_response_has_an_interaction_recorded_with_what_was_shown(client: TestClient) -> None:
    body = suggest(client, REFUND_TICKET)
    record = interaction(served_kb(client).writer, body["interaction_id"])
    assert record is not None and record.kind == "suggestion" and record.principal_kind == "agent"
    assert [item["article_id"] for item in json.loads(record.items)] == [item["id"] for item in body["suggestions"]]


def test_a_batch_answers_each_ticket_as_the_single_call_does(client: TestClient) -> None:
    response = client.post("/v1/suggestions:batch", json={"tickets": [REFUND_TICKET, NOISY_TICKET]}, headers=key(client))
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    singles = [suggest(client, REFUND_TICKET), suggest(client, NOISY_TICKET)]
    assert [[s["id"] for s in r["suggestions"]] for r in results] == [[s["id"] for s in r["suggestions"]] for r in singles]
    assert len({r["interaction_id"] for r in results}) == 2


def test_responses_hold_exactly_their_published_schema(client: TestClient) -> None:
    body = suggest(client, REFUND_TICKET)
    assert TypeAdapter(SuggestionsOut).validate_python(body, strict=True) == body
    batch = client.post("/v1/suggestions:batch", json={"tickets": [REFUND_TICKET]}, headers=key(client)).json()
    assert TypeAdapter(BatchOut).validate_python(batch, strict=True) == batch


@pytest.mark.parametrize("role", ["bot", None])
def test_suggestions_are_for_staff_only(client: TestClient, role: str | None) -> None:
    headers = key(client, role) if role else {}
    assert_problem(client.post("/v1/suggestions", json=REFUND_TICKET, headers=headers), 403)


@pytest.mark.parametrize(
    ("ticket", "field"),
    [
        ({"subject": "", "body": "Hi,\n\nThanks!\nTom"}, "body"),
        ({"body": "x", "messages": [{"role": "robot", "text": "hi"}]}, "messages"),
        ({"body": "x" * 60_000}, "body"),
        ({"body": "refund", "limit": 0}, "limit"),
        ({"body": "refund", "locale": "xx"}, "locale"),
        ({"body": "refund", "exclude": ["bad\x00id"]}, "exclude"),
    ],
)
def test_a_bad_ticket_is_a_clear_422_naming_the_field(client: TestClient, ticket: dict, field: str) -> None:
    body = assert_problem(client.post("/v1/suggestions", json=ticket, headers=key(client)), 422)
    assert [error["field"].split(".")[0] for error in body["errors"]] == [field]


def test_a_bad_ticket_in_a_batch_is_named_by_its_place(client: TestClient) -> None:
    response = client.post("/v1/suggestions:batch", json={"tickets": [REFUND_TICKET, {"body": "Hi,\n\nThanks!"}]}, headers=key(client))
    assert_problem(response, 422, field="tickets.1.body")


def test_tickets_do_not_move_the_traffic_mix_customers_searches_are_weighed_by(client: TestClient) -> None:
    traffic = served_kb(client).traffic
    assert traffic is not None
    before = (traffic.seen("en"), traffic.signal("en"))
    client.post("/v1/suggestions:batch", json={"tickets": [REFUND_TICKET, NOISY_TICKET]}, headers=key(client))
    assert (traffic.seen("en"), traffic.signal("en")) == before


def test_a_bad_requester_token_is_a_422_on_that_field_not_the_agents_401(make_client) -> None:
    api = make_client(ARTICLES, jwt_secret=JWT_SECRET)
    response = api.post("/v1/suggestions", json={"body": "quokka", "customer_token": "not-a-token"}, headers=key(api))
    assert "customer_token" in json.dumps(assert_problem(response, 422))


def test_a_requester_given_twice_is_a_422_naming_the_ticket_in_a_batch(client: TestClient) -> None:
    both = REFUND_TICKET | {"requester": {"segments": ["enterprise"]}, "customer_token": "a.b.c"}
    response = client.post("/v1/suggestions:batch", json={"tickets": [REFUND_TICKET, both]}, headers=key(client))
    assert_problem(response, 422, field="tickets.1.customer_token")


def test_a_batch_of_too_many_tickets_is_refused(client: TestClient) -> None:
    response = client.post("/v1/suggestions:batch", json={"tickets": [REFUND_TICKET] * 101}, headers=key(client))
    assert_problem(response, 422)


def test_a_batch_encodes_its_tickets_in_one_model_call(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = count_query_encodes(monkeypatch, served_kb(client).encoder)
    tickets = [REFUND_TICKET, NOISY_TICKET, {"body": "How do I export my invoices as PDF?"}]
    assert client.post("/v1/suggestions:batch", json={"tickets": tickets}, headers=key(client)).status_code == 200
    assert calls == [3]
