"""POST /v1/webhooks/github and /gitlab: only authentic deliveries queue a sync, each delivery once."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import article_text, served_app
from tests.gitutil import make_remote, push
from tests.problems import assert_problem

SECRET = "webhook-test-secret"
TOKEN = "gitlab-test-token"
ARTICLE = article_text("refunds", "Refunds", "Refunds take ten days.")


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    return make_remote(tmp_path, {"en/refunds.md": ARTICLE})


@pytest.fixture
def client(tmp_path: Path, remote: Path, make_client) -> TestClient:
    test_client = make_client(repo_path=tmp_path / "kb-content", repo_url=str(remote), sync_interval=0,
                              github_webhook_secret=SECRET, gitlab_webhook_token=TOKEN)
    _wait_for_sync(test_client, after=0.0)  # the sync every start does
    return test_client


def _wait_for_sync(client: TestClient, *, after: float, timeout: float = 60) -> None:
    loop = served_app(client).state.sync
    deadline = time.monotonic() + timeout
    while (loop.status.finished_at or 0) <= after:
        assert time.monotonic() < deadline, "no sync ran"
        time.sleep(0.05)


def _served(client: TestClient) -> str:
    return client.get("/readyz").json()["commit"]


def github_post(client: TestClient, payload: dict, *, event: str = "push", delivery: str = "d-1", secret: str = SECRET):
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": signature,
               "Content-Type": "application/json"}
    return client.post("/v1/webhooks/github", content=body, headers=headers)


def test_a_signed_push_to_the_served_branch_queues_a_sync(client: TestClient, remote: Path) -> None:
    pushed = push(remote, {"en/refunds.md": ARTICLE.replace("ten", "five")}, "Faster")
    started = time.time()
    response = github_post(client, {"ref": "refs/heads/main", "commits": [{"modified": ["en/nothing.md"]}]})
    assert response.status_code == 202 and response.json() == {"status": "queued"}
    _wait_for_sync(client, after=started)
    assert _served(client) == pushed


def test_a_forged_signature_is_a_401_and_changes_nothing(client: TestClient, remote: Path) -> None:
    served = _served(client)
    push(remote, {"en/refunds.md": ARTICLE.replace("ten", "five")}, "Faster")
    finished = served_app(client).state.sync.status.finished_at
    assert_problem(github_post(client, {"ref": "refs/heads/main"}, secret="guessed"), 401)
    unsigned = client.post("/v1/webhooks/github", json={"ref": "refs/heads/main"}, headers={"X-GitHub-Event": "push"})
    assert_problem(unsigned, 401)
    time.sleep(0.5)
    assert served_app(client).state.sync.status.finished_at == finished and _served(client) == served


def test_a_redelivered_webhook_is_acknowledged_without_a_second_sync(client: TestClient) -> None:
    first = github_post(client, {"ref": "refs/heads/main"}, delivery="same-id")
    again = github_post(client, {"ref": "refs/heads/main"}, delivery="same-id")
    assert first.json() == {"status": "queued"} and again.json() == {"status": "duplicate"}


def test_a_push_to_another_branch_is_ignored(client: TestClient) -> None:
    assert github_post(client, {"ref": "refs/heads/draft"}, delivery="d-2").json() == {"status": "ignored"}


def test_a_merged_pull_request_into_the_branch_queues_a_sync(client: TestClient) -> None:
    payload = {"action": "closed", "pull_request": {"merged": True, "base": {"ref": "main"}}}
    assert github_post(client, payload, event="pull_request", delivery="d-3").json() == {"status": "queued"}


def test_gitlab_push_with_the_token_queues_a_sync_and_without_it_is_a_401(client: TestClient) -> None:
    headers = {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Event-UUID": "g-1"}
    ok = client.post("/v1/webhooks/gitlab", json={"ref": "refs/heads/main"}, headers=headers | {"X-Gitlab-Token": TOKEN})
    assert ok.status_code == 202 and ok.json() == {"status": "queued"}
    assert_problem(client.post("/v1/webhooks/gitlab", json={"ref": "refs/heads/main"}, headers=headers), 401)
    wrong = client.post("/v1/webhooks/gitlab", json={}, headers=headers | {"X-Gitlab-Token": TOKEN + "x"})
    assert_problem(wrong, 401)


def test_webhooks_are_off_without_a_secret(make_client) -> None:
    plain = make_client()
    assert_problem(plain.post("/v1/webhooks/github", json={}), 404)
    assert_problem(plain.post("/v1/webhooks/gitlab", json={}), 404)
