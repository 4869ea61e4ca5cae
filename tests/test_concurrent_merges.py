"""Reviewers merging at the same moment: merges are serialised, unrelated ones all land, Git stays clean.

Several rounds of 2 and 4 proposals, each on its own file and all made from the same ``main``, are
merged at once through the API (one server, a thread per reviewer) and through two servers sharing
the repository and the database (the database lock). After every round ``git status`` is clean and
``main`` holds every change.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb.access.keys import create_key
from tests.conftest import article_text, served_kb
from tests.gitutil import git

FILES = [f"en/topic-{n}.md" for n in range(4)]


def topic(n: int, words: str) -> str:
    return article_text(f"topic-{n}", f"Topic {n}", f"## About\n\n{words}")


@pytest.fixture
def topics(make_client) -> TestClient:
    return make_client({path: topic(n, "Nothing yet.") for n, path in enumerate(FILES)})


def key(client: TestClient, role: str) -> dict[str, str]:
    secret = create_key(served_kb(client).engine, name=f"{role} {role}", role=role).secret
    return {"Authorization": f"Bearer {secret}"}


def propose_each(client: TestClient, writer: dict[str, str], count: int, round_: int) -> list[int]:
    """One proposal per file, all from the same ``main``."""
    ids = []
    for n in range(count):
        body = {"title": f"Round {round_} topic {n}",
                "files": [{"path": FILES[n], "content": topic(n, f"Written in round {round_}.")}]}
        response = client.post("/v1/proposals", json=body, headers=writer)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def merge_at_once(clients: list[TestClient], reviewer: list[dict[str, str]], ids: list[int]) -> list[int]:
    """Every merge request sent at the same moment (a barrier), one thread each; their status codes."""
    barrier = threading.Barrier(len(ids))
    statuses: list[int] = [0] * len(ids)

    def merge(slot: int) -> None:
        client = clients[slot % len(clients)]
        barrier.wait()
        statuses[slot] = client.post(f"/v1/proposals/{ids[slot]}/merge", headers=reviewer[slot % len(clients)]).status_code

    threads = [threading.Thread(target=merge, args=(slot,)) for slot in range(len(ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def assert_main_holds_round(content_repo: Path, count: int, round_: int) -> None:
    assert git(content_repo, "status", "--porcelain") == ""
    for n in range(count):
        assert f"Written in round {round_}." in git(content_repo, "show", f"main:{FILES[n]}")
        assert f"Written in round {round_}." in (content_repo / FILES[n]).read_text()


@pytest.mark.parametrize("count", [2, 4])
def test_unrelated_proposals_merged_at_once_all_land_and_the_working_copy_stays_clean(
    topics: TestClient, content_repo: Path, count: int
) -> None:
    writer, reviewer = key(topics, "writer"), key(topics, "reviewer")
    for round_ in range(3):
        ids = propose_each(topics, writer, count, round_)
        assert merge_at_once([topics], [reviewer], ids) == [200] * count
        assert_main_holds_round(content_repo, count, round_)
        statuses = {topics.get(f"/v1/proposals/{i}", headers=reviewer).json()["status"] for i in ids}
        assert statuses == {"merged"}


def test_two_servers_sharing_a_repository_and_database_serialise_their_merges(
    make_client, content_repo: Path
) -> None:
    first = make_client({path: topic(n, "Nothing yet.") for n, path in enumerate(FILES)})
    second = make_client()
    writer = key(first, "writer")
    reviewers = [key(first, "reviewer"), key(second, "reviewer")]
    for round_ in range(3):
        ids = propose_each(first, writer, 4, round_)
        assert merge_at_once([first, second], reviewers, ids) == [200] * 4
        assert_main_holds_round(content_repo, 4, round_)


def test_a_merge_refused_for_a_conflict_leaves_no_trace(topics: TestClient, content_repo: Path) -> None:
    writer, reviewer = key(topics, "writer"), key(topics, "reviewer")
    first, second = (
        topics.post("/v1/proposals", headers=writer, json={
            "title": title, "files": [{"path": FILES[0], "content": topic(0, words)}]}).json()["id"]
        for title, words in (("Mine", "Mine wins."), ("Theirs", "Theirs wins."))
    )
    before_second = git(content_repo, "rev-parse", "main")
    assert merge_at_once([topics], [reviewer], [first]) == [200]
    tip = git(content_repo, "rev-parse", "main")
    assert tip != before_second
    response = topics.post(f"/v1/proposals/{second}/merge", headers=reviewer)
    assert response.status_code == 409
    assert git(content_repo, "rev-parse", "main") == tip
    assert git(content_repo, "status", "--porcelain") == ""
    assert "Theirs" not in (content_repo / FILES[0]).read_text()
    assert topics.get(f"/v1/proposals/{second}", headers=reviewer).json()["status"] == "open"
