"""GET /v1/changes: upserts and deletes per reindex with their commit, filtered to what the caller may see."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import _database, article_text, served_kb
from tests.gitutil import commit_files
from tests.problems import assert_problem

GUIDE = article_text("guide", "Guide", "How to start.")
FAQ = article_text("faq", "FAQ", "Questions.")
PLAYBOOK = article_text("playbook", "Playbook", "Internal steps.", audience="agents")


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client({"en/guide.md": GUIDE, "en/faq.md": FAQ, "en/playbook.md": PLAYBOOK})


def feed(client: TestClient, since: str | None = None) -> dict:
    return client.get("/v1/changes", params={"since": since} if since else {}).json()


def test_the_first_index_lists_every_public_article_as_an_upsert(client: TestClient) -> None:
    body = feed(client)
    assert {(item["id"], item["kind"]) for item in body["items"]} == {("start", "upsert"), ("guide", "upsert"), ("faq", "upsert")}
    commit = client.get("/readyz").json()["commit"]
    assert {item["commit"] for item in body["items"]} == {commit}


def test_a_reindex_appends_edits_deletes_and_articles_that_became_hidden(client: TestClient, content_repo: Path) -> None:
    cursor = feed(client)["cursor"]
    edited = commit_files(content_repo, {
        "en/guide.md": GUIDE.replace("How to start.", "How to start quickly."),
        "en/faq.md": None,
        "en/start.md": (content_repo / "en/start.md").read_text().replace("title:", "audience: agents\ntitle:"),
        "en/playbook.md": PLAYBOOK.replace("Internal steps.", "New internal steps."),
    }, "Edit, delete, hide")
    served_kb(client).refresh()
    body = feed(client, cursor)
    assert sorted((item["id"], item["kind"]) for item in body["items"]) == [("faq", "delete"), ("guide", "upsert"), ("start", "delete")]
    assert all(item["commit"] == edited for item in body["items"])
    assert "playbook" not in str(body)


def test_a_caught_up_reader_gets_nothing_and_keeps_its_cursor(client: TestClient) -> None:
    cursor = feed(client)["cursor"]
    again = feed(client, cursor)
    assert again["items"] == [] and again["cursor"] == cursor


def test_pages_follow_each_other_without_gaps(client: TestClient) -> None:
    first = client.get("/v1/changes", params={"limit": 2}).json()
    second = client.get(first["next"]).json()
    ids = [item["id"] for item in first["items"] + second["items"]]
    assert len(first["items"]) == 2 and sorted(ids) == ["faq", "guide", "start"]


def test_a_cursor_this_api_did_not_hand_out_is_a_422(client: TestClient) -> None:
    assert_problem(client.get("/v1/changes", params={"since": "garbage!"}), 422, field="since")
    for forged in ("seq:0123456789abcdef:²", "seq:0123456789abcdef:" + "9" * 30):  # digits the database cannot hold
        cursor = base64.urlsafe_b64encode(forged.encode()).decode().rstrip("=")
        assert_problem(client.get("/v1/changes", params={"since": cursor}), 422, field="since")


def test_a_cursor_from_before_the_database_was_replaced_is_a_410_not_an_empty_page(
    make_client, tmp_path: Path, client: TestClient
) -> None:
    cursor = feed(client)["cursor"]
    data_dir = served_kb(client).settings.data_dir
    (tmp_path / "replaced").mkdir()
    for other_database in _database("replaced", tmp_path / "replaced"):
        replaced = make_client(data_dir=data_dir, database_url=other_database)  # the saved snapshot, a new database
        gone = replaced.get("/v1/changes", params={"since": cursor})
        assert_problem(gone, 410, field="since")
        assert "from the beginning" in gone.json()["detail"]
        again = feed(replaced)  # from the start: the whole state, though nothing was reindexed
        assert {(item["id"], item["kind"]) for item in again["items"]} == {("start", "upsert"), ("guide", "upsert"), ("faq", "upsert")}
        assert feed(replaced, again["cursor"])["items"] == []


def test_a_cursor_from_before_feeds_had_epochs_is_a_410(client: TestClient) -> None:
    cursor = base64.urlsafe_b64encode(b"seq:3").decode().rstrip("=")
    assert_problem(client.get("/v1/changes", params={"since": cursor}), 410, field="since")
