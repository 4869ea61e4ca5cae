"""Explain: whether a principal can see an article and which rule decided, over the API (admins) and the CLI."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kb.access.keys import create_key
from kb.cli import app as cli
from tests.conftest import article_text, served_kb
from tests.problems import assert_problem

ACCESS = """\
defaults:
  - path: "*/playbooks/*"
    audience: agents
  - path: "*/plans/*"
    audience: [enterprise]
segments:
  enterprise: Enterprise plan
"""
ARTICLES = {
    ".kb/access.yml": ACCESS,
    "en/playbooks/refunds.md": article_text("refund-playbook", "Refund playbook", "Approve refunds under 50 EUR."),
    "ja/playbooks/refunds.md": article_text("refund-playbook", "返金の手順", "50 ユーロ未満は承認します。", audience="public"),
    "en/plans/sla.md": article_text("enterprise-sla", "Enterprise SLA", "Four hour response time."),
    "en/start.md": article_text("start", "Getting started", "Create a workspace."),
    "en/next.md": article_text("next", "What is next", "Upcoming features.", status="draft"),
}


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client(ARTICLES)


def admin(client: TestClient, role: str = "admin") -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(served_kb(client).engine, name='ops', role=role).secret}"}


def explain(client: TestClient, article: str, who: str, **params: str) -> list[dict]:
    response = client.get("/v1/access/explain", params={"article": article, "as": who} | params, headers=admin(client))
    assert response.status_code == 200, response.text
    return response.json()


def test_an_access_file_glob_is_named_as_the_deciding_rule(client: TestClient) -> None:
    [verdict] = explain(client, "refund-playbook", "customer:enterprise", locale="en")
    assert verdict["visible"] is False
    assert verdict["audience"] == "agents"
    assert "rule 1" in verdict["audience_rule"] and "*/playbooks/*" in verdict["audience_rule"]
    assert "agents" in verdict["reason"]


def test_front_matter_wins_over_the_glob_and_each_locale_gets_its_verdict(client: TestClient) -> None:
    verdicts = {v["locale"]: v for v in explain(client, "refund-playbook", "anonymous")}
    assert (verdicts["en"]["visible"], verdicts["ja"]["visible"]) == (False, True)
    assert "front matter" in verdicts["ja"]["audience_rule"]


def test_a_segment_audience_names_the_segments_the_reader_lacks_or_has(client: TestClient) -> None:
    [refused] = explain(client, "enterprise-sla", "customer")
    assert refused["visible"] is False and "[enterprise]" in refused["reason"]
    [granted] = explain(client, "enterprise-sla", "customer:enterprise")
    assert granted["visible"] is True and "enterprise" in granted["reason"]


def test_the_default_and_the_status_are_explained(client: TestClient) -> None:
    [public] = explain(client, "start", "anonymous")
    assert public["visible"] and "public by default" in public["audience_rule"]
    [draft] = explain(client, "next", "customer:enterprise")
    assert not draft["visible"] and "draft" in draft["reason"]
    [staff] = explain(client, "next", "writer")
    assert staff["visible"]


def test_only_admins_may_ask(client: TestClient) -> None:
    params = {"article": "start", "as": "anonymous"}
    assert_problem(client.get("/v1/access/explain", params=params), 403)
    assert_problem(client.get("/v1/access/explain", params=params, headers=admin(client, "agent")), 403)


def test_an_unknown_article_or_principal_is_named(client: TestClient) -> None:
    headers = admin(client)
    assert_problem(client.get("/v1/access/explain", params={"article": "nope"}, headers=headers), 404)
    assert_problem(client.get("/v1/access/explain", params={"article": "start", "as": "robot"}, headers=headers), 422, field="as")
    assert_problem(client.get("/v1/access/explain", params={"article": "start", "as": "agent:vip"}, headers=headers), 422, field="as")
    assert_problem(client.get("/v1/access/explain", params={"article": "start", "locale": "fr"}, headers=headers), 422, field="locale")


def test_the_command_line_gives_the_same_verdict(client: TestClient, content_repo, tmp_path) -> None:
    env = {"KB_REPO_PATH": str(content_repo), "KB_DATA_DIR": str(tmp_path / "cli-data")}
    result = CliRunner().invoke(cli, ["access", "explain", "refund-playbook", "--as", "customer:enterprise"], env=env)
    assert result.exit_code == 0, result.output
    assert "refund-playbook (en, en/playbooks/refunds.md) as customer:enterprise: hidden" in result.output
    assert "refund-playbook (ja, ja/playbooks/refunds.md) as customer:enterprise: visible" in result.output
    assert "*/playbooks/*" in result.output
    missing = CliRunner().invoke(cli, ["access", "explain", "nope"], env=env)
    assert missing.exit_code == 2 and "no article 'nope'" in missing.output
