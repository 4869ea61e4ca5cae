"""The feedback ledger: what became of suggestions, answers and articles, attributed to what was shown."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from kb.cli import app
from kb.core.db import FeedbackRecord
from kb.core.settings import Settings
from tests.conftest import served_kb
from tests.problems import assert_problem
from tests.test_api_agents import key
from tests.test_api_suggestions import REFUND_TICKET, suggest


def feedback(client: TestClient, body: dict, headers: dict[str, str] | None = None):
    return client.post("/v1/feedback", json=body, headers=headers or {})


def rows(client: TestClient) -> int:
    with Session(served_kb(client).engine) as session:
        return session.exec(select(func.count()).select_from(FeedbackRecord)).one()


def test_an_agent_marks_a_suggestion_used_attributed_to_the_revision_and_section_shown(client: TestClient) -> None:
    agent = key(client)
    shown = suggest(client, REFUND_TICKET)
    first = shown["suggestions"][0]
    response = feedback(client, {"interaction_id": shown["interaction_id"], "article_id": first["id"], "outcome": "used"}, agent)
    assert response.status_code == 201 and response.json() == {"recorded": 1, "articles": [first["id"]]}
    with Session(served_kb(client).engine) as session:
        row = session.exec(select(FeedbackRecord).where(FeedbackRecord.interaction_id == shown["interaction_id"])).one()
    assert (row.article_id, row.anchor, row.revision, row.commit) == (first["id"], first["anchor"], first["revision"], first["commit"])
    assert row.principal_kind == "agent"


def test_the_same_outcome_twice_for_an_interaction_is_a_409_and_writes_nothing(client: TestClient) -> None:
    agent = key(client)
    shown = suggest(client, REFUND_TICKET)
    body = {"interaction_id": shown["interaction_id"], "outcome": "not_relevant", "reason": "not_related"}
    assert feedback(client, body, agent).status_code == 201
    before = rows(client)
    assert_problem(feedback(client, body, agent), 409)
    assert rows(client) == before


def test_feedback_without_an_article_concerns_everything_the_interaction_showed(client: TestClient) -> None:
    shown = suggest(client, REFUND_TICKET)
    response = feedback(client, {"interaction_id": shown["interaction_id"], "outcome": "not_relevant"}, key(client))
    assert response.json()["articles"] == [item["id"] for item in shown["suggestions"]]


def test_feedback_for_an_interaction_that_does_not_exist_is_a_404(client: TestClient) -> None:
    response = feedback(client, {"interaction_id": "0" * 32, "outcome": "used"}, key(client))
    assert "no interaction" in assert_problem(response, 404)["detail"]


def test_feedback_on_an_article_the_interaction_did_not_show_is_refused(client: TestClient) -> None:
    shown = suggest(client, REFUND_TICKET)
    body = {"interaction_id": shown["interaction_id"], "article_id": "keyboard-shortcuts", "outcome": "used"}
    assert_problem(feedback(client, body, key(client)), 422, field="article_id")


def test_a_customer_votes_on_an_article_but_cannot_report_an_agents_outcome(client: TestClient) -> None:
    vote = {"article_id": "reset-password", "locale": "en", "outcome": "not_helpful", "reason": "unclear", "comment": "Step 3 is missing"}
    assert feedback(client, vote).status_code == 201
    assert_problem(feedback(client, vote | {"outcome": "used", "reason": None}), 422, field="outcome")


def test_a_customer_cannot_vote_on_an_article_they_cannot_see(client: TestClient) -> None:
    hidden = feedback(client, {"article_id": "refund-approval-playbook", "outcome": "helpful"})
    missing = feedback(client, {"article_id": "no-such-article", "outcome": "helpful"})
    assert assert_problem(hidden, 404)["detail"] == "no article 'refund-approval-playbook'"
    assert assert_problem(missing, 404)["detail"] == "no article 'no-such-article'"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"article_id": "reset-password", "outcome": "delighted"}, "outcome"),
        ({"article_id": "reset-password", "outcome": "not_helpful", "reason": "because"}, "reason"),
        ({"article_id": "reset-password", "outcome": "helpful", "reason": "unclear"}, "reason"),
        ({"article_id": "reset-password", "outcome": "helpful", "comment": "x" * 2001}, "comment"),
        ({"article_id": "reset-password", "locale": "en", "anchor": "no-such-section", "outcome": "helpful"}, "anchor"),
        ({"outcome": "helpful"}, "interaction_id"),
    ],
)
def test_bad_feedback_is_a_clear_422_and_writes_nothing(client: TestClient, body: dict, field: str) -> None:
    before = rows(client)
    assert_problem(feedback(client, body), 422, field=field)
    assert rows(client) == before


def test_a_bot_reports_escalation_with_a_zendesk_like_reason(client: TestClient) -> None:
    body = {"article_id": "refund-policy", "locale": "en", "outcome": "escalated", "reason": "related_but_did_not_answer"}
    assert feedback(client, body, key(client, "bot")).status_code == 201


@pytest.mark.parametrize("role", ["bot", None])
def test_an_agents_interaction_is_unknown_to_anyone_but_staff(client: TestClient, role: str | None) -> None:
    """Its suggestions may be internal: a forwarded interaction id must not tell a customer or a bot what they held."""
    shown = suggest(client, REFUND_TICKET)
    headers = key(client, role) if role else {}
    forwarded = feedback(client, {"interaction_id": shown["interaction_id"], "outcome": "helpful"}, headers)
    made_up = feedback(client, {"interaction_id": "f" * 32, "outcome": "helpful"}, headers)
    assert assert_problem(forwarded, 404)["detail"] == assert_problem(made_up, 404)["detail"].replace("f" * 32, shown["interaction_id"])


def test_staff_read_an_articles_feedback_by_outcome_revision_and_section_with_comments(client: TestClient) -> None:
    feedback(client, {"article_id": "download-invoices", "locale": "en", "outcome": "not_helpful", "comment": "Where is the VAT number?"})
    feedback(client, {"article_id": "download-invoices", "locale": "en", "outcome": "helpful"})
    summary = client.get("/v1/articles/download-invoices/feedback", headers=key(client, "writer")).json()
    assert summary["outcomes"]["helpful"] >= 1 and summary["outcomes"]["not_helpful"] >= 1
    revision = served_kb(client).snapshot.article("download-invoices", "en").revision  # type: ignore[union-attr]
    assert summary["by_revision"][revision]["helpful"] >= 1
    assert summary["comments"][0]["comment"] == "Where is the VAT number?"
    assert_problem(client.get("/v1/articles/download-invoices/feedback"), 403)


def test_the_command_line_summarises_an_articles_feedback(client: TestClient, sample_settings: Settings) -> None:
    feedback(client, {"article_id": "refund-policy", "locale": "en", "outcome": "not_helpful", "comment": "Unclear for annual plans"})
    env = {"KB_DATA_DIR": str(sample_settings.data_dir), "KB_DATABASE_URL": sample_settings.database}
    printed = CliRunner().invoke(app, ["feedback", "refund-policy", "--json"], env=env)
    assert printed.exit_code == 0, printed.output
    summary = json.loads(printed.stdout)
    assert summary["outcomes"]["not_helpful"] >= 1
    assert any(comment["comment"] == "Unclear for annual plans" for comment in summary["comments"])
    table = CliRunner().invoke(app, ["feedback", "refund-policy"], env=env, terminal_width=200)
    assert "not_helpful" in table.output and "Unclear for annual plans" in table.output
