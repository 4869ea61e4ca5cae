"""/v1/proposals: writers propose article changes as a branch, reviewers merge (never overwriting) or close them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from kb.access.keys import create_key
from kb.core.db import ProposalRecord
from tests.conftest import article_text, served_kb
from tests.gitutil import commit_files, git, make_remote
from tests.problems import assert_problem
from versioning import ContentRepo
from versioning.proposals import Identity, create_branch_with_commit, merge_branch

REFUNDS = article_text("refunds", "Refunds", "## Timing\n\nRefunds take ten days.")
INVOICES = article_text("invoices", "Invoices", "## PDF\n\nInvoices are PDFs.")


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client({"en/refunds.md": REFUNDS, "en/invoices.md": INVOICES})


def as_role(client: TestClient, role: str) -> dict[str, str]:
    secret = create_key(served_kb(client).engine, name=f"{role} one", role=role).secret
    return {"Authorization": f"Bearer {secret}"}


def propose(client: TestClient, writer: dict[str, str], files: dict[str, str | None], title: str = "Change") -> dict:
    body = {"title": title, "files": [{"path": path, "content": text} for path, text in files.items()]}
    response = client.post("/v1/proposals", json=body, headers=writer)
    assert response.status_code == 201, response.text
    return response.json()


def keyword_ids(client: TestClient, query: str) -> list[str]:
    return [hit["id"] for hit in client.get("/v1/search", params={"q": query, "mode": "keyword"}).json()["hits"]]


def test_a_proposal_is_a_branch_with_one_commit_and_changes_nothing_served(client: TestClient, content_repo: Path) -> None:
    proposal = propose(client, as_role(client, "writer"), {"en/refunds.md": REFUNDS.replace("ten", "wombat")})
    assert proposal["status"] == "open" and proposal["branch"].startswith(f"proposals/{proposal['id']}-")
    assert git(content_repo, "rev-parse", proposal["branch"]) == proposal["head_commit"]
    assert git(content_repo, "rev-parse", f"{proposal['branch']}^") == proposal["base_commit"]
    assert git(content_repo, "log", "-1", "--format=%an", proposal["branch"]) == "writer one"
    assert keyword_ids(client, "wombat") == []


def test_the_proposal_shows_its_diff_and_validation(client: TestClient) -> None:
    writer = as_role(client, "writer")
    proposal = propose(client, writer, {"en/refunds.md": REFUNDS.replace("ten", "five"), "en/new.md": "no front matter"})
    body = client.get(f"/v1/proposals/{proposal['id']}", headers=writer).json()
    unified = "".join(diff["unified"] for diff in body["diffs"])
    assert "-Refunds take ten days.\n+Refunds take five days.\n" in unified and "+++ b/en/new.md" in unified
    assert [(p["path"], p["field"]) for p in body["problems"]] == [("en/new.md", "front matter")]
    listed = client.get("/v1/proposals", headers=as_role(client, "agent")).json()
    assert [item["id"] for item in listed] == [proposal["id"]]


def test_a_reviewer_merges_by_fast_forward_and_the_change_is_searchable(client: TestClient, content_repo: Path) -> None:
    proposal = propose(client, as_role(client, "writer"), {"en/refunds.md": REFUNDS.replace("ten", "wombat")})
    merged = client.post(f"/v1/proposals/{proposal['id']}/merge", headers=as_role(client, "reviewer")).json()
    assert merged["status"] == "merged" and merged["merged_commit"] == proposal["head_commit"]
    assert git(content_repo, "rev-parse", "main") == proposal["head_commit"]
    assert keyword_ids(client, "wombat") == ["refunds"]
    assert (content_repo / "en/refunds.md").read_text() == REFUNDS.replace("ten", "wombat")  # checked-out files too


def test_proposals_on_different_files_merge_with_a_merge_commit(client: TestClient, content_repo: Path) -> None:
    writer, reviewer = as_role(client, "writer"), as_role(client, "reviewer")
    first = propose(client, writer, {"en/refunds.md": REFUNDS.replace("ten", "five")})
    second = propose(client, writer, {"en/invoices.md": INVOICES.replace("PDFs", "PDF files")})
    client.post(f"/v1/proposals/{first['id']}/merge", headers=reviewer)
    merged = client.post(f"/v1/proposals/{second['id']}/merge", headers=reviewer).json()
    parents = git(content_repo, "rev-list", "--parents", "-n", "1", merged["merged_commit"]).split()[1:]
    assert parents == [first["head_commit"], second["head_commit"]]


def test_a_conflicting_merge_is_refused_and_both_branches_stay_intact(client: TestClient, content_repo: Path) -> None:
    writer, reviewer = as_role(client, "writer"), as_role(client, "reviewer")
    first = propose(client, writer, {"en/refunds.md": REFUNDS.replace("ten", "five")})
    second = propose(client, writer, {"en/refunds.md": REFUNDS.replace("ten", "seven")})
    client.post(f"/v1/proposals/{first['id']}/merge", headers=reviewer)
    main_before = git(content_repo, "rev-parse", "main")
    body = assert_problem(client.post(f"/v1/proposals/{second['id']}/merge", headers=reviewer), 409)
    assert "en/refunds.md" in body["detail"]
    assert git(content_repo, "rev-parse", "main") == main_before
    assert git(content_repo, "rev-parse", second["branch"]) == second["head_commit"]
    assert client.get(f"/v1/proposals/{second['id']}", headers=writer).json()["status"] == "open"


def test_an_invalid_proposal_cannot_be_merged(client: TestClient) -> None:
    proposal = propose(client, as_role(client, "writer"), {"en/bad.md": "---\ntitle: no id\n---\n\nBody\n"})
    assert_problem(client.post(f"/v1/proposals/{proposal['id']}/merge", headers=as_role(client, "reviewer")), 422)


def test_closing_keeps_the_branch_and_refuses_a_later_merge(client: TestClient, content_repo: Path) -> None:
    writer = as_role(client, "writer")
    proposal = propose(client, writer, {"en/refunds.md": REFUNDS.replace("ten", "five")})
    assert client.post(f"/v1/proposals/{proposal['id']}/close", headers=writer).json()["status"] == "closed"
    assert_problem(client.post(f"/v1/proposals/{proposal['id']}/merge", headers=as_role(client, "reviewer")), 409)
    assert git(content_repo, "rev-parse", proposal["branch"]) == proposal["head_commit"]


@pytest.mark.parametrize("role", [None, "agent", "bot"])
def test_only_writers_propose(client: TestClient, role: str | None) -> None:
    headers = as_role(client, role) if role else {}
    body = {"title": "x", "files": [{"path": "en/x.md", "content": "x"}]}
    assert_problem(client.post("/v1/proposals", json=body, headers=headers), 403)


def test_only_reviewers_merge(client: TestClient) -> None:
    writer = as_role(client, "writer")
    proposal = propose(client, writer, {"en/refunds.md": REFUNDS.replace("ten", "five")})
    assert_problem(client.post(f"/v1/proposals/{proposal['id']}/merge", headers=writer), 403)


@pytest.mark.parametrize("path", ["../outside.md", ".kb/access.yml", "en/image.png", "/abs.md"])
def test_paths_outside_the_articles_are_refused_and_nothing_is_created(client: TestClient, content_repo: Path, path: str) -> None:
    writer = as_role(client, "writer")
    body = {"title": "x", "files": [{"path": path, "content": "x"}]}
    assert_problem(client.post("/v1/proposals", json=body, headers=writer), 422, field="files")
    assert client.get("/v1/proposals", headers=writer).json() == []
    assert git(content_repo, "branch", "--list", "proposals/*") == ""


def test_an_unknown_proposal_is_a_404(client: TestClient) -> None:
    assert_problem(client.get("/v1/proposals/999", headers=as_role(client, "agent")), 404)


def test_a_proposals_impact_reports_golden_queries(client: TestClient, content_repo: Path) -> None:
    commit_files(content_repo, {".kb/golden.yml": "queries:\n  - query: refund timing\n    expect: [refunds]\n"})
    served_kb(client).refresh()
    writer = as_role(client, "writer")
    proposal = propose(client, writer, {"en/refunds.md": None})
    report = client.get(f"/v1/proposals/{proposal['id']}/impact", headers=writer).json()
    assert report["summary"]["golden_failures"] == 1 and "refund timing" in report["markdown"]


@pytest.mark.parametrize(("base", "status"), [("--upload-pack=evil", 422), ("main..x", 422), ("no-such-branch", 422)])
def test_a_bad_base_is_refused_before_git(client: TestClient, content_repo: Path, base: str, status: int) -> None:
    body = {"title": "x", "base": base, "files": [{"path": "en/x.md", "content": "x"}]}
    assert_problem(client.post("/v1/proposals", json=body, headers=as_role(client, "writer")), status)
    assert git(content_repo, "branch", "--list", "proposals/*") == ""


def test_a_proposal_cannot_name_a_file_and_a_folder_alike(client: TestClient, content_repo: Path) -> None:
    body = {"title": "x", "files": [{"path": "en/refunds.md/inner.md", "content": "x"}]}
    assert_problem(client.post("/v1/proposals", json=body, headers=as_role(client, "writer")), 422, field="files")
    assert client.get("/v1/proposals", headers=as_role(client, "agent")).json() == []
    assert git(content_repo, "branch", "--list", "proposals/*") == ""


def test_a_proposal_against_a_tag_or_another_proposal_is_refused(client: TestClient, content_repo: Path) -> None:
    writer = as_role(client, "writer")
    first = propose(client, writer, {"en/refunds.md": REFUNDS.replace("ten", "five")})
    git(content_repo, "tag", "v1")
    for base in ("v1", first["branch"]):
        body = {"title": "x", "base": base, "files": [{"path": "en/x.md", "content": "x"}]}
        assert_problem(client.post("/v1/proposals", json=body, headers=writer), 422, field="base")


def test_proposals_are_off_when_kb_follows_a_remote(tmp_path: Path, make_client) -> None:
    remote = make_remote(tmp_path, {"en/refunds.md": REFUNDS})
    client = make_client(repo_path=tmp_path / "clone", repo_url=str(remote), sync_interval=0)
    body = {"title": "x", "files": [{"path": "en/refunds.md", "content": REFUNDS}]}
    problem = assert_problem(client.post("/v1/proposals", json=body, headers=as_role(client, "writer")), 409)
    assert "KB_REPO_URL" in problem["detail"]


def _branches(content_repo: Path) -> str:
    return git(content_repo, "branch", "--list", "proposals/*")


def test_deleting_a_file_that_does_not_exist_is_a_422_naming_it(client: TestClient, content_repo: Path) -> None:
    body = {"title": "Remove", "files": [{"path": "en/no-such-page.md", "content": None}]}
    refused = assert_problem(client.post("/v1/proposals", json=body, headers=as_role(client, "writer")), 422, field="files")
    assert "en/no-such-page.md" in refused["detail"] and "nothing to delete" in refused["detail"]
    assert _branches(content_repo) == ""


def test_a_path_listed_twice_is_a_422_naming_it(client: TestClient, content_repo: Path) -> None:
    files = [{"path": "en/refunds.md", "content": REFUNDS.replace("ten", "five")}, {"path": "en/refunds.md", "content": REFUNDS}]
    response = client.post("/v1/proposals", json={"title": "Twice", "files": files}, headers=as_role(client, "writer"))
    assert "'en/refunds.md' is listed twice (files 0 and 1)" in assert_problem(response, 422, field="files")["detail"]
    assert _branches(content_repo) == ""


def test_a_file_proposed_unchanged_is_a_422_naming_it(client: TestClient, content_repo: Path) -> None:
    body = {"title": "Same", "files": [{"path": "en/refunds.md", "content": REFUNDS}]}
    refused = assert_problem(client.post("/v1/proposals", json=body, headers=as_role(client, "writer")), 422, field="files")
    assert "en/refunds.md" in refused["detail"] and "the same as on main" in refused["detail"]
    assert _branches(content_repo) == ""


def test_a_recorded_proposal_that_changes_nothing_cannot_be_merged(client: TestClient, content_repo: Path) -> None:
    """A proposal recorded before empty ones were refused would merge as an empty commit: it is refused instead."""
    kb = served_kb(client)
    with kb.open_repo() as repo:
        base = repo.resolve("main")
        head = create_branch_with_commit(repo, branch="proposals/99-empty", base=base, files={}, message="Nothing",
                                         author=Identity("old writer", "kb@localhost"))  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    with Session(kb.engine) as session:
        session.add(ProposalRecord(id=99, title="Nothing", author="old writer", base="main", base_commit=base,
                                   branch="proposals/99-empty", head_commit=head, created_at=now, updated_at=now))  # fmt: skip
        session.commit()
    refused = assert_problem(client.post("/v1/proposals/99/merge", headers=as_role(client, "reviewer")), 422, field="files")
    assert "changes nothing" in refused["detail"]
    assert git(content_repo, "rev-parse", "main") == base


def test_a_merge_done_in_git_but_not_recorded_is_recorded_with_its_merge_commit_on_retry(
    client: TestClient, content_repo: Path
) -> None:
    writer, reviewer = as_role(client, "writer"), as_role(client, "reviewer")
    first = propose(client, writer, {"en/refunds.md": REFUNDS.replace("ten", "five")})
    second = propose(client, writer, {"en/invoices.md": INVOICES.replace("PDFs", "ZIP files")})
    assert client.post(f"/v1/proposals/{first['id']}/merge", headers=reviewer).status_code == 200
    with ContentRepo(content_repo) as repo:  # as if the database failed right after Git moved main
        done = merge_branch(repo, branch=second["branch"], into="main", message="Merge", author=Identity("r", "r@x"))
    commit_files(content_repo, {"en/other.md": article_text("other", "Other", "Later work.")})  # main moves on
    retried = client.post(f"/v1/proposals/{second['id']}/merge", headers=reviewer)
    assert retried.status_code == 200
    assert retried.json()["status"] == "merged" and retried.json()["merged_commit"] == done
