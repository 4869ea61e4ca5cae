"""Restore: an article put back as it was at an earlier revision, as a proposal reviewed and merged like any other."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kb.cli import app
from tests.conftest import article_text, served_kb
from tests.gitutil import commit_files, git
from tests.test_api_proposals import as_role
from tests.test_site_staff import sign_in

GOOD = article_text("refunds", "Refunds", "## Timing\n\nRefunds are paid within 14 days.")
BROKEN = article_text("refunds", "Refunds", "## Timing\n\nRefunds are paid within 30 days, maybe.")


@pytest.fixture
def story(make_client: Callable[..., TestClient], content_repo: Path) -> tuple[TestClient, str]:
    """The refunds article written well, then changed for the worse; the client and the good commit."""
    good = commit_files(content_repo, {"en/refunds.md": GOOD}, "Refunds")
    commit_files(content_repo, {"en/refunds.md": BROKEN}, "Refunds: vaguer")
    return make_client(), good


def restore(client: TestClient, headers: dict[str, str], revision: str, article: str = "refunds") -> httpx2.Response:
    return client.post(f"/v1/articles/{article}/restore", json={"revision": revision, "locale": "en"}, headers=headers)


def test_a_writer_restores_an_article_as_a_proposal_with_the_diff_back(story: tuple[TestClient, str]) -> None:
    client, good = story
    writer = as_role(client, "writer")
    response = restore(client, writer, good)
    assert response.status_code == 201, response.text
    proposal = response.json()
    assert proposal["status"] == "open" and proposal["title"] == f"Restore Refunds (en) to {good[:12]}"
    detail = client.get(f"/v1/proposals/{proposal['id']}", headers=writer).json()
    unified = "".join(diff["unified"] for diff in detail["diffs"])
    assert "-Refunds are paid within 30 days, maybe.\n+Refunds are paid within 14 days.\n" in unified
    assert detail["problems"] == []
    assert "30 days, maybe" in client.get("/v1/articles/refunds").json()["html"]  # nothing served changes before a merge


def test_the_restore_once_merged_is_what_readers_get(story: tuple[TestClient, str]) -> None:
    client, good = story
    proposal = restore(client, as_role(client, "writer"), good).json()
    merged = client.post(f"/v1/proposals/{proposal['id']}/merge", headers=as_role(client, "reviewer"))
    assert merged.status_code == 200, merged.text
    assert "within 14 days." in client.get("/v1/articles/refunds").json()["html"]


def test_restoring_to_todays_text_is_refused_naming_the_revision(story: tuple[TestClient, str], content_repo: Path) -> None:
    client, _ = story
    response = restore(client, as_role(client, "writer"), git(content_repo, "rev-parse", "HEAD"))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "revision"


@pytest.mark.parametrize("revision", ["0" * 40, "no-such-branch", "--upload-pack=evil"])
def test_an_unknown_or_hostile_revision_is_refused_naming_it(story: tuple[TestClient, str], revision: str) -> None:
    client, _ = story
    response = restore(client, as_role(client, "writer"), revision)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "revision"


@pytest.mark.parametrize("role", ["agent", "bot"])
def test_only_writers_may_restore(story: tuple[TestClient, str], role: str) -> None:
    client, good = story
    assert restore(client, as_role(client, role), good).status_code == 403


def test_an_article_one_may_not_see_is_a_404(story: tuple[TestClient, str]) -> None:
    client, good = story
    assert restore(client, as_role(client, "writer"), good, article="no-such-article").status_code == 404


def test_kb_restore_proposes_from_the_command_line(story: tuple[TestClient, str], database_url: str) -> None:
    client, good = story
    settings = served_kb(client).settings
    env = {"KB_DATABASE_URL": database_url, "KB_DATA_DIR": str(settings.data_dir), "KB_REPO_PATH": str(settings.repo_path), "CI": "1"}
    result = CliRunner().invoke(app, ["restore", "refunds", good[:10], "--author", "Dana"], env=env)
    assert result.exit_code == 0, result.output
    assert f"Restore Refunds (en) to {good[:12]}" in result.output
    listed = client.get("/v1/proposals", headers=as_role(client, "writer")).json()
    assert [(p["title"], p["author"]) for p in listed] == [(f"Restore Refunds (en) to {good[:12]}", "Dana")]


@pytest.fixture
def site(make_client: Callable[..., TestClient], content_repo: Path) -> tuple[TestClient, str]:
    good = commit_files(content_repo, {"en/refunds.md": GOOD}, "Refunds")
    commit_files(content_repo, {"en/refunds.md": BROKEN}, "Refunds: vaguer")
    return make_client(follow_redirects=False), good


def test_a_writer_restores_a_version_from_the_staff_history_page(site: tuple[TestClient, str]) -> None:
    client, good = site
    sign_in(client, "writer")
    page = client.get("/hc/en/articles/refunds/history")
    assert page.status_code == 200 and "Refunds: vaguer" in page.text and page.text.count("Restore this version") == 1
    restored = client.post("/hc/en/articles/refunds/restore", data={"revision": good})
    assert restored.status_code == 303
    after = client.get(restored.headers["location"]).text
    assert "opened: it restores this version" in after
    [proposal] = client.get("/v1/proposals", headers=as_role(client, "writer")).json()
    assert proposal["title"] == f"Restore Refunds (en) to {good[:12]}"


def test_an_agent_reads_the_history_but_may_not_restore(site: tuple[TestClient, str]) -> None:
    client, good = site
    sign_in(client, "agent")
    assert "Restore this version" not in client.get("/hc/en/articles/refunds/history").text
    assert client.post("/hc/en/articles/refunds/restore", data={"revision": good}).status_code == 403


def test_the_history_page_is_a_404_for_readers(site: tuple[TestClient, str]) -> None:
    client, good = site
    assert client.get("/hc/en/articles/refunds/history").status_code == 404
    assert client.post("/hc/en/articles/refunds/restore", data={"revision": good}).status_code == 404


def test_a_restore_from_the_page_that_cannot_be_made_says_why(site: tuple[TestClient, str]) -> None:
    client, _ = site
    sign_in(client, "writer")
    page = client.post("/hc/en/articles/refunds/restore", data={"revision": "no-such-branch"})
    assert page.status_code == 400 and "revision:" in page.text and "Restore this version" in page.text
