"""kb killed at each named failure point (``kb.core.failpoints``), then started again, as an operator would.

Every test runs `kb serve` as a real process over the bundled sample (copied into Git on first start)
and a real database, makes it exit abruptly at one point, starts it again, and asserts that it
starts, serves the commit its branch points at, answers as a fresh build does, and left nothing
behind: no staging folder, no working-copy edits, no proposal row without its branch or branch
without its row.
"""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
import sqlalchemy
from sqlmodel import Session, select

from kb.access.keys import create_key
from kb.core.db import EmbeddingRecord, ProposalRecord, make_engine
from kb.core.failpoints import EXIT_STATUS
from tests.conftest import _database, article_text
from tests.gitutil import USER_EMAIL, USER_NAME, commit_files, git, make_remote
from tests.processes import KbProcess, Server

ARTICLE = "en/account/reset-password.md"
T = TypeVar("T")
QUERIES = ["reset my password", "refund", "two-factor authentication", "パスワード"]
LEFTOVER_PREFIXES = (".staging-", ".content-", ".export-", ".latest-")


@pytest.fixture
def kb_process(tmp_path: Path) -> Iterator[KbProcess]:
    for url in _database("crash", tmp_path):
        yield KbProcess(data_dir=tmp_path / "data", database_url=url)


@pytest.fixture(scope="module")
def fresh_answers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, list[tuple[str, float]]]]:
    """What a kb built from scratch, never interrupted, answers: the reference every restart must match."""
    folder = tmp_path_factory.mktemp("fresh")
    for url in _database("fresh", folder):
        with KbProcess(data_dir=folder / "data", database_url=url).serving() as server:
            yield answers(server)


def answers(server: Server) -> dict[str, list[tuple[str, float]]]:
    found = {}
    for query in QUERIES:
        hits = server.get("/v1/search", params={"q": query}).json()["hits"]
        found[query] = [(hit["id"], round(hit["score"], 4)) for hit in hits]
    return found


def content(process: KbProcess) -> Path:
    return process.data_dir / "content"


def assert_nothing_left(process: KbProcess) -> None:
    left = [path for path in process.data_dir.rglob("*") if path.name.startswith(LEFTOVER_PREFIXES)]
    assert left == []
    assert git(content(process), "status", "--porcelain") == ""
    engine = make_engine(process.database_url)
    with Session(engine) as session:
        rows = {record.branch: record for record in session.exec(select(ProposalRecord))}
    engine.dispose()
    branches = git(content(process), "for-each-ref", "--format=%(refname:strip=2)", "refs/heads/proposals/").split()
    assert sorted(branches) == sorted(rows)


def assert_serves_main(server: Server, process: KbProcess) -> None:
    assert server.get("/readyz").json()["commit"] == git(content(process), "rev-parse", "main")


def what_the_kill_left(data: Path, point: str) -> bool:
    """The state each point leaves, to show the process really stopped there."""
    snapshots = data / "snapshots"
    return {
        "first-start": lambda: not (data / "content").exists() and any(data.glob(".content-*/content/.git")),
        "embedding": lambda: not snapshots.exists() or not any(snapshots.iterdir()),
        "snapshot-save": lambda: any(snapshots.glob(".staging-*/snapshot.pickle")) and not (snapshots / "latest").exists(),
        "snapshot-swap": lambda: (snapshots / "latest").exists(),
    }[point]()


def keys(process: KbProcess) -> tuple[dict[str, str], dict[str, str]]:
    """A writer's and a reviewer's Authorization headers, made in the database the server reads."""
    engine = make_engine(process.database_url)
    writer, reviewer = ({"Authorization": f"Bearer {create_key(engine, name=role, role=role).secret}"}
                        for role in ("writer", "reviewer"))
    engine.dispose()
    return writer, reviewer


def propose(server: Server, process: KbProcess, writer: dict[str, str]) -> httpx.Response:
    text = git(content(process), "show", f"main:{ARTICLE}") + "\nAsk the wombat.\n"
    body = {"title": "Mention the wombat", "files": [{"path": ARTICLE, "content": text}]}
    return server.post("/v1/proposals", json=body, headers=writer)


@pytest.mark.parametrize("point", ["first-start", "embedding", "snapshot-save", "snapshot-swap"])
def test_killed_while_starting_it_starts_again_and_answers_as_a_fresh_build(
    kb_process: KbProcess, fresh_answers: dict, point: str
) -> None:
    assert kb_process.exit_status(failpoint=point) == EXIT_STATUS, kb_process.output()
    assert what_the_kill_left(kb_process.data_dir, point)
    with kb_process.serving() as server:
        assert_serves_main(server, kb_process)
        assert answers(server) == fresh_answers
    assert_nothing_left(kb_process)


def test_killed_while_cloning_its_remote_it_clones_again_on_the_next_start(kb_process: KbProcess, tmp_path: Path) -> None:
    remote = make_remote(tmp_path / "remote", {"en/start.md": article_text("start", "Getting started", "Create a workspace.")})
    kb_process.env |= {"KB_REPO_URL": str(remote), "KB_SYNC_INTERVAL": "0"}
    assert kb_process.exit_status(failpoint="first-start") == EXIT_STATUS, kb_process.output()
    assert not content(kb_process).exists() and list(kb_process.data_dir.glob(".content-*/content/HEAD"))
    with kb_process.serving() as server:
        assert server.get("/readyz").json()["commit"] == git(remote, "rev-parse", "main")
    assert list(kb_process.data_dir.glob(".content-*")) == []


def test_killed_after_a_batch_was_embedded_the_restart_reuses_it(kb_process: KbProcess) -> None:
    assert kb_process.exit_status(failpoint="embedding") == EXIT_STATUS
    engine = make_engine(kb_process.database_url)
    with Session(engine) as session:
        cached = session.exec(select(sqlalchemy.func.count()).select_from(EmbeddingRecord)).one()
    engine.dispose()
    assert cached > 0
    with kb_process.serving():
        pass
    restart = re.search(r"\((\d+) embedded, (\d+) cached\)", kb_process.output().split("--- start 2")[1])
    assert restart is not None and int(restart.group(2)) == cached  # what the killed start embedded, not again


@pytest.mark.parametrize("point", ["proposal-row", "proposal-branch"])
def test_killed_while_creating_a_proposal_it_leaves_neither_row_nor_branch(kb_process: KbProcess, point: str) -> None:
    with kb_process.serving(failpoint=point) as server:
        writer, reviewer = keys(kb_process)
        with pytest.raises(httpx.TransportError):
            propose(server, kb_process, writer)
        assert server.process.wait(timeout=60) == EXIT_STATUS
    with kb_process.serving() as server:
        assert server.get("/v1/proposals", headers=reviewer).json() == []
        assert propose(server, kb_process, writer).status_code == 201  # and proposing works again
    assert_nothing_left(kb_process)
    set_aside = git(content(kb_process), "for-each-ref", "--format=%(refname)", "refs/kb/set-aside/")
    assert bool(set_aside) == (point == "proposal-branch")  # a branch written is kept out of the way, not lost


def test_killed_between_a_merge_and_its_record_the_restart_records_it(kb_process: KbProcess) -> None:
    with kb_process.serving(failpoint="merge") as server:
        writer, reviewer = keys(kb_process)
        proposal = propose(server, kb_process, writer).json()
        with pytest.raises(httpx.TransportError):
            server.post(f"/v1/proposals/{proposal['id']}/merge", headers=reviewer)
        assert server.process.wait(timeout=60) == EXIT_STATUS
    with kb_process.serving() as server:
        detail = server.get(f"/v1/proposals/{proposal['id']}", headers=reviewer).json()
        assert detail["status"] == "merged"
        assert detail["merged_commit"] == git(content(kb_process), "rev-parse", "main")
        assert_serves_main(server, kb_process)
        hits = server.get("/v1/search", params={"q": "wombat", "mode": "keyword"}).json()["hits"]
        assert [hit["id"] for hit in hits] == ["reset-password"]
    assert_nothing_left(kb_process)


def test_killed_during_the_model_export_the_child_dies_too_and_the_next_start_cleans_up(
    kb_process: KbProcess, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    kb_process.env["KB_MODEL_CACHE_DIR"] = str(models)
    process, _ = kb_process.start()
    staging = wait_for(lambda: next(models.glob(".export-*"), None), timeout=300)
    child = int(staging.name.split("-")[1])
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    wait_for(lambda: not Path(f"/proc/{child}").exists() or None, timeout=30)
    assert staging.exists()  # what the next start must clean
    with kb_process.serving() as server:
        assert_serves_main(server, kb_process)
    assert not staging.exists() and list(models.glob(".export-*")) == []
    assert_nothing_left(kb_process)


def wait_for(found: Callable[[], T | None], *, timeout: float) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value is not None:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not seen within {timeout} s")


def commit_as_writer(repo: Path, files: dict[str, str]) -> str:
    """A writer's commit in kb's own copy of the sample (which has no identity configured)."""
    git(repo, "config", "user.name", USER_NAME)
    git(repo, "config", "user.email", USER_EMAIL)
    return commit_files(repo, files, "Add widget guides")


def many_articles(count: int) -> dict[str, str]:
    """New articles of several sections each: enough new text that indexing them takes a while."""
    sections = "\n\n".join(f"## Step {n}\n\nOpen the settings page and follow instruction {n} for the widget." for n in range(4))
    return {f"en/bulk/widget-{n}.md": article_text(f"widget-{n}", f"Widget guide {n}", sections) for n in range(count)}


def test_a_restarted_kb_serves_its_last_snapshot_while_it_catches_up(kb_process: KbProcess) -> None:
    with kb_process.serving() as server:
        served = server.get("/readyz").json()["commit"]
    head = commit_as_writer(content(kb_process), many_articles(60))
    process, base = kb_process.start()
    try:
        early = Server(process, base)
        ready = wait_for(lambda: ready_body(early), timeout=120)
        assert ready["status"] == "catching-up" and ready["catching_up"] is True and ready["commit"] == served
        assert early.get("/v1/search", params={"q": "reset my password"}).json()["hits"] != []
        done = wait_for(lambda: body if (body := ready_body(early)) and body["status"] == "ready" else None, timeout=600)
        assert done["commit"] == head
        assert early.get("/v1/search", params={"q": "widget guide 7", "mode": "keyword"}).json()["hits"] != []
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def test_sigterm_during_start_up_indexing_stops_kb_within_a_batch(kb_process: KbProcess) -> None:
    with kb_process.serving():
        pass
    commit_as_writer(content(kb_process), many_articles(400))
    process, base = kb_process.start()
    assert wait_for(lambda: ready_body(Server(process, base)), timeout=120)["status"] == "catching-up"
    time.sleep(2)  # well into the build
    process.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises the signal it caught: exit status -SIGTERM
    assert process.wait(timeout=20) == -signal.SIGTERM  # 1,600 new sections would take about a minute to embed here
    assert "stopped while" in kb_process.output().split("--- start 2")[1]
    with kb_process.serving() as server:  # and the next start finishes the job
        assert server.get("/readyz").json()["commit"] == git(content(kb_process), "rev-parse", "main")
    assert_nothing_left(kb_process)


def ready_body(server: Server) -> dict | None:
    try:
        answer = server.get("/readyz")
    except httpx.TransportError:
        return None
    return answer.json() if answer.status_code == 200 else None


def test_a_git_process_killed_in_kbs_working_copy_is_cleaned_up_at_the_next_start(kb_process: KbProcess) -> None:
    with kb_process.serving():
        pass
    repo = content(kb_process)
    (repo / ".git" / "index.lock").write_text("")  # what `git merge` killed half-way leaves: its lock, files half
    (repo / ARTICLE).write_text((repo / ARTICLE).read_text() + "\nHalf of a merge.\n")  # updated, the branch not
    with kb_process.serving() as server:
        assert_serves_main(server, kb_process)
    assert_nothing_left(kb_process)
    assert not (repo / ".git" / "index.lock").exists()
    assert "Half of a merge." in git(repo, "stash", "show", "-p", "stash@{0}")  # kept, not deleted
    assert "stashed" in kb_process.output()
