"""API keys: who a request is, what each role sees, revocation and expiry at once, and ref previews for staff."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session
from typer.testing import CliRunner

from kb.access.keys import KeyRefused, create_key, parse_duration, revoke_key
from kb.cli import app as cli
from kb.core.db import ApiKeyRecord
from tests.conftest import article_text, served_kb
from tests.gitutil import commit_files, git
from tests.problems import assert_problem

PUBLIC_ARTICLE = article_text("refunds", "Refunds", "Refunds take ten days.")
INTERNAL = article_text("escalation", "Escalation playbook", "Page the quokka on-call lead.", audience="agents")
DRAFT = article_text("pricing-2027", "Pricing 2027", "New quokka pricing.", status="draft")


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client({"en/refunds.md": PUBLIC_ARTICLE, "en/escalation.md": INTERNAL, "en/pricing.md": DRAFT})


def key(client: TestClient, role: str, **options: str) -> dict[str, str]:
    new = create_key(served_kb(client).engine, name=f"test {role}", role=role, **options)
    return {"Authorization": f"Bearer {new.secret}"}


def found(client: TestClient, query: str, headers: dict[str, str] | None = None) -> set[str]:
    body = client.get("/v1/search", params={"q": query, "mode": "keyword"}, headers=headers or {}).json()
    return {hit["id"] for hit in body["hits"]}


def test_anonymous_readers_see_neither_internal_articles_nor_drafts(client: TestClient) -> None:
    assert found(client, "quokka") == set()
    assert_problem(client.get("/v1/articles/escalation"), 404)


def test_an_agent_key_sees_internal_articles_and_drafts(client: TestClient) -> None:
    agent = key(client, "agent")
    assert found(client, "quokka", agent) == {"escalation", "pricing-2027"}
    assert client.get("/v1/articles/escalation", headers=agent).json()["id"] == "escalation"


def test_a_bot_key_reads_what_customers_read(client: TestClient) -> None:
    assert found(client, "quokka", key(client, "bot")) == set()


def test_a_revoked_key_is_refused_at_once(client: TestClient) -> None:
    new = create_key(served_kb(client).engine, name="helpdesk", role="agent")
    headers = {"Authorization": f"Bearer {new.secret}"}
    assert client.get("/v1/articles/escalation", headers=headers).status_code == 200
    revoke_key(served_kb(client).engine, new.id)
    assert_problem(client.get("/v1/articles/escalation", headers=headers), 401)


def test_an_expired_key_is_refused(client: TestClient) -> None:
    engine = served_kb(client).engine
    new = create_key(engine, name="temp", role="agent", expires_in="1h")
    with Session(engine) as session:
        record = session.get(ApiKeyRecord, new.id)
        assert record is not None
        record.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        session.add(record)
        session.commit()
    assert_problem(client.get("/v1/search", params={"q": "x"}, headers={"Authorization": f"Bearer {new.secret}"}), 401)


@pytest.mark.parametrize("header", ["Bearer kb_00000000_" + "a" * 43, "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer "])
def test_a_bad_authorization_header_is_a_401_never_anonymous_access(client: TestClient, header: str) -> None:
    response = client.get("/v1/search", params={"q": "refunds"}, headers={"Authorization": header})
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


def test_only_the_digest_is_stored(client: TestClient) -> None:
    new = create_key(served_kb(client).engine, name="helpdesk", role="agent")
    with Session(served_kb(client).engine) as session:
        stored = session.get(ApiKeyRecord, new.id)
    assert stored is not None
    assert new.secret not in str(stored.model_dump()) and len(stored.digest) == 64


@pytest.mark.parametrize(("role", "expires"), [("superuser", None), ("agent", "forever"), ("agent", "0d")])
def test_a_key_with_an_unknown_role_or_lifetime_is_refused(client: TestClient, role: str, expires: str | None) -> None:
    with pytest.raises(KeyRefused):
        create_key(served_kb(client).engine, name="x", role=role, expires_in=expires)


def test_durations_read_days_and_hours() -> None:
    assert parse_duration("90d") == dt.timedelta(days=90) and parse_duration("12h") == dt.timedelta(hours=12)


def test_the_command_line_prints_a_key_once_lists_it_by_prefix_and_revokes_it(tmp_path: Path, database_url: str) -> None:
    env = {"KB_DATA_DIR": str(tmp_path / "cli"), "KB_DATABASE_URL": database_url}
    created = CliRunner().invoke(cli, ["keys", "create", "--role", "agent", "--name", "helpdesk"], env=env)
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("kb_") and "will not be shown again" in created.output
    listed = CliRunner().invoke(cli, ["keys", "list"], env=env)
    assert secret[:11] in listed.stdout and secret not in listed.stdout and "active" in listed.stdout
    revoked = CliRunner().invoke(cli, ["keys", "revoke", "1"], env=env)
    assert revoked.exit_code == 0 and "revoked" in CliRunner().invoke(cli, ["keys", "list"], env=env).stdout
    assert CliRunner().invoke(cli, ["keys", "revoke", "99"], env=env).exit_code == 2


def test_staff_can_search_a_branch_before_it_is_merged(client: TestClient, content_repo: Path) -> None:
    git(content_repo, "checkout", "--quiet", "-b", "draft-refunds")
    branch = commit_files(content_repo, {"en/refunds.md": PUBLIC_ARTICLE.replace("ten days", "ten days via wombat")},
                          "Mention wombat")
    git(content_repo, "checkout", "--quiet", "main")
    writer = key(client, "writer")
    body = client.get("/v1/search", params={"q": "wombat", "mode": "keyword", "ref": "draft-refunds"},
                      headers=writer).json()
    assert [hit["id"] for hit in body["hits"]] == ["refunds"] and body["commit"] == branch
    assert found(client, "wombat", writer) == set()  # the served index is untouched


def test_anonymous_previews_are_refused_and_bad_refs_are_named(client: TestClient) -> None:
    assert_problem(client.get("/v1/search", params={"q": "x", "ref": "main"}), 403)
    agent = key(client, "agent")
    assert_problem(client.get("/v1/search", params={"q": "x", "ref": "main..evil"}, headers=agent), 422, field="ref")
    assert_problem(client.get("/v1/search", params={"q": "x", "ref": "no-such-branch"}, headers=agent), 404)
