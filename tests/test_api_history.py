"""GET /v1/articles/{id}/history, /diff and ?ref=: an article's past, over a real repository with renames and tags."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb.access.keys import create_key
from tests.conftest import article_text, served_kb
from tests.gitutil import commit_files, git
from tests.problems import assert_problem


@dataclass(frozen=True)
class Story:
    client: TestClient
    added: str
    edited: str
    moved: str


@pytest.fixture
def story(content_repo: Path, make_client) -> Story:
    """refunds: added (tagged v1), edited, moved into a folder with an edit; plus an internal playbook."""
    first = article_text("refunds", "Refunds", "## Timing\n\nRefunds take ten days.")
    added = commit_files(content_repo, {
        "en/refunds.md": first,
        "en/playbook.md": article_text("playbook", "Escalation playbook", "Call the on-call lead.", audience="agents"),
    }, "Add refunds")
    git(content_repo, "tag", "v1")
    edited = commit_files(content_repo, {"en/refunds.md": first.replace("ten days", "five days")}, "Faster refunds")
    moved = commit_files(
        content_repo,
        {"en/billing/refunds.md": first.replace("ten days", "five days") + "\n## Partial refunds\n\nAsk support.\n"},
        "File refunds under billing",
        renames={"en/refunds.md": "en/billing/refunds.md"},
    )
    return Story(make_client(), added, edited, moved)


def test_history_lists_every_commit_that_changed_the_article_across_its_move(story: Story) -> None:
    body = story.client.get("/v1/articles/refunds/history", params={"locale": "en"}).json()
    assert [item["sha"] for item in body["items"]] == [story.moved, story.edited, story.added]
    assert [item["path"] for item in body["items"]] == ["en/billing/refunds.md", "en/refunds.md", "en/refunds.md"]
    assert [item["change"] for item in body["items"]] == ["renamed", "modified", "added"]
    assert body["items"][0]["author_name"] and body["items"][0]["date"]


def test_commit_messages_are_for_staff_only(story: Story) -> None:
    """A message may describe other files in the same commit, hidden ones included (a merged proposal's title)."""
    public = story.client.get("/v1/articles/refunds/history", params={"locale": "en"}).json()
    assert {item["message"] for item in public["items"]} == {""}
    agent = {"Authorization": "Bearer " + create_key(served_kb(story.client).engine, name="a", role="agent").secret}
    staff = story.client.get("/v1/articles/refunds/history", params={"locale": "en"}, headers=agent).json()
    assert staff["items"][1]["message"] == "Faster refunds"


def test_history_pages_with_a_cursor_and_a_link_header(story: Story) -> None:
    seen, url = [], "/v1/articles/refunds/history?limit=1"
    while url:
        response = story.client.get(url)
        seen += [item["sha"] for item in response.json()["items"]]
        url = response.json()["next"]
        assert (response.headers.get("link") is not None) == (url is not None)
    assert seen == [story.moved, story.edited, story.added]


def test_history_with_a_foreign_cursor_is_a_422(story: Story) -> None:
    response = story.client.get("/v1/articles/refunds/history", params={"cursor": "bm90LWEtY3Vyc29y"})
    assert_problem(response, 422, field="cursor")


def test_article_at_a_tag_is_the_text_it_had_then(story: Story) -> None:
    body = story.client.get("/v1/articles/refunds", params={"ref": "v1"}).json()
    assert "ten days" in body["sections"][-1]["text"]
    assert body["commit"] == story.added and body["revision"] == story.added


def test_article_at_a_commit_before_its_move_is_found_under_its_old_name(story: Story) -> None:
    body = story.client.get("/v1/articles/refunds", params={"ref": story.edited}).json()
    assert "five days" in body["sections"][-1]["text"]
    assert all(section["heading_path"] != ["Partial refunds"] for section in body["sections"])


def test_article_at_a_ref_before_it_existed_is_a_404(story: Story, content_repo: Path) -> None:
    root = git(content_repo, "rev-list", "--max-parents=0", "HEAD")
    assert_problem(story.client.get("/v1/articles/refunds", params={"ref": root}), 404)


@pytest.mark.parametrize("ref", ["--upload-pack=touch /tmp/pwned", "HEAD~1", "main..v1", "main@{1}", "a" * 300, ""])
def test_a_malformed_ref_is_a_422_that_never_reaches_git(story: Story, ref: str) -> None:
    assert_problem(story.client.get("/v1/articles/refunds", params={"ref": ref}), 422, field="ref")
    assert_problem(story.client.get("/v1/articles/refunds/diff", params={"from": ref}), 422, field="from")
    assert_problem(story.client.get("/v1/articles/refunds/diff", params={"from": "v1", "to": ref}), 422, field="to")


def test_an_unknown_ref_is_a_404_naming_it(story: Story) -> None:
    body = assert_problem(story.client.get("/v1/articles/refunds", params={"ref": "no-such-branch"}), 404)
    assert "no-such-branch" in body["detail"]


def test_diff_between_a_tag_and_now_shows_the_edit_and_the_move(story: Story) -> None:
    body = story.client.get("/v1/articles/refunds/diff", params={"from": "v1"}).json()
    assert (body["old_path"], body["new_path"]) == ("en/refunds.md", "en/billing/refunds.md")
    assert (body["from_commit"], body["to_commit"]) == (story.added, story.moved)
    lines = body["unified"].splitlines()
    assert lines[:2] == ["--- a/en/refunds.md", "+++ b/en/billing/refunds.md"]
    assert "-Refunds take ten days." in lines and "+Refunds take five days." in lines
    rows = [row for hunk in body["hunks"] for row in hunk["rows"]]
    changed = [row for row in rows if row["kind"] == "changed"]
    assert [(row["old"]["text"], row["new"]["text"]) for row in changed] == [("Refunds take ten days.", "Refunds take five days.")]


def test_diff_from_before_the_article_existed_is_all_added(story: Story, content_repo: Path) -> None:
    root = git(content_repo, "rev-list", "--max-parents=0", "HEAD")
    body = story.client.get("/v1/articles/refunds/diff", params={"from": root, "to": "v1"}).json()
    assert body["old_path"] is None and body["unified"].startswith("--- /dev/null\n+++ b/en/refunds.md\n")
    assert {row["kind"] for hunk in body["hunks"] for row in hunk["rows"]} == {"added"}


def test_an_internal_article_has_no_public_history_version_or_diff(story: Story) -> None:
    for url, params in [("/v1/articles/playbook/history", {}), ("/v1/articles/playbook", {"ref": "v1"}),
                        ("/v1/articles/playbook/diff", {"from": "v1"})]:
        body = assert_problem(story.client.get(url, params=params), 404)
        assert "on-call" not in body["detail"]


def test_a_past_version_that_was_internal_stays_hidden_after_publication(content_repo: Path, make_client) -> None:
    draft = article_text("launch", "Launch notes", "Internal: ship date is 12 May.", audience="agents")
    before = commit_files(content_repo, {"en/launch.md": draft}, "Draft launch notes")
    commit_files(content_repo, {"en/launch.md": draft.replace("audience: agents", "audience: public")
                                .replace("Internal: ship date is 12 May.", "Launching soon.")}, "Publish")
    client = make_client()
    assert client.get("/v1/articles/launch").status_code == 200
    assert_problem(client.get("/v1/articles/launch", params={"ref": before}), 404)
    diff = client.get("/v1/articles/launch/diff", params={"from": before}).json()
    assert diff["old_path"] is None and "12 May" not in diff["unified"]


def test_anonymous_history_lists_only_commits_where_the_article_was_public(content_repo: Path, make_client) -> None:
    draft = article_text("launch", "Launch notes", "Internal: ship date is 12 May.", audience="agents")
    commit_files(content_repo, {"en/launch.md": draft}, "Draft launch notes (internal)")
    published = commit_files(content_repo, {"en/launch.md": draft.replace("audience: agents", "audience: public")
                                            .replace("Internal: ship date is 12 May.", "Launching soon.")}, "Publish")
    client = make_client()
    public = client.get("/v1/articles/launch/history").json()
    assert [item["sha"] for item in public["items"]] == [published]
    assert "internal" not in str(public) and public["items"][0]["author_email"] == ""
    agent = {"Authorization": "Bearer " + create_key(served_kb(client).engine, name="a", role="agent").secret}
    staff = client.get("/v1/articles/launch/history", headers=agent).json()
    assert len(staff["items"]) == 2 and staff["items"][1]["author_email"]


def test_an_unpublished_branch_is_not_readable_by_anonymous_callers(story: Story, content_repo: Path) -> None:
    git(content_repo, "checkout", "--quiet", "-b", "secret-draft")
    commit_files(content_repo, {"en/billing/refunds.md": article_text("refunds", "Refunds", "Unannounced policy.")},
                 "Draft")
    git(content_repo, "checkout", "--quiet", "main")
    missing = assert_problem(story.client.get("/v1/articles/refunds", params={"ref": "no-such-branch"}), 404)
    hidden = assert_problem(story.client.get("/v1/articles/refunds", params={"ref": "secret-draft"}), 404)
    assert missing["detail"].replace("no-such-branch", "X") == hidden["detail"].replace("secret-draft", "X")
    diff = story.client.get("/v1/articles/refunds/diff", params={"from": "v1", "to": "secret-draft"})
    assert diff.status_code == 404 and "Unannounced" not in diff.text
    agent = {"Authorization": "Bearer " + create_key(served_kb(story.client).engine, name="a", role="agent").secret}
    staff = story.client.get("/v1/articles/refunds", params={"ref": "secret-draft"}, headers=agent).json()
    assert "Unannounced" in staff["html"]
