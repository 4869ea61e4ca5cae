"""The database failing under a running kb: 503 with Retry-After while it cannot answer, recovery without a restart.

SQLite is made unwritable (``chattr +i`` as root, where file modes do not bind, else ``chmod``);
PostgreSQL is stopped and started again, as ``.ci/run`` can, and only when the suite runs against it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from kb.access.audit import Response
from kb.access.keys import create_key
from kb.core.db import DatabaseVectorStore, make_engine
from tests.conftest import TEST_DATABASE_ENV, article_text, served_kb
from tests.gitutil import git

START = article_text("start", "Getting started", "## First steps\n\nCreate a workspace.")


def writer_key(client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(served_kb(client).engine, name='writer', role='writer').secret}"}


def propose(client: TestClient, writer: dict[str, str], words: str) -> Response:
    body = {"title": words, "files": [{"path": "en/start.md", "content": START.replace("Create a workspace.", words)}]}
    return client.post("/v1/proposals", json=body, headers=writer)


@contextmanager
def unwritable(path: Path) -> Iterator[None]:
    """``path`` cannot be written, even by root, until the block ends."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(path)], check=True)
    else:
        path.chmod(0o444)
    try:
        yield
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        else:
            path.chmod(0o644)


@pytest.fixture
def sqlite_client(make_client, tmp_path: Path) -> TestClient:
    return make_client(database_url=f"sqlite:///{tmp_path / 'faults.sqlite3'}")


def test_sqlite_made_unwritable_answers_503_with_retry_after_and_recovers_by_itself(
    sqlite_client: TestClient, tmp_path: Path, content_repo: Path
) -> None:
    writer = writer_key(sqlite_client)
    assert propose(sqlite_client, writer, "First words.").status_code == 201
    with unwritable(tmp_path / "faults.sqlite3"):
        served_kb(sqlite_client).engine.dispose()  # connections now opened while the file is unwritable: read-only
        refused = propose(sqlite_client, writer, "Second words.")
        assert refused.status_code == 503, refused.text
        assert refused.headers["Retry-After"].isdigit()
        assert "database" in refused.json()["detail"]
        assert sqlite_client.get("/v1/search", params={"q": "workspace"}).status_code == 200
    assert git(content_repo, "for-each-ref", "--format=%(refname)", "refs/heads/proposals/").count("\n") == 0
    assert propose(sqlite_client, writer, "Third words.").status_code == 201
    listed = sqlite_client.get("/v1/proposals", headers=writer_key(sqlite_client)).json()
    assert [proposal["title"] for proposal in listed] == ["Third words.", "First words."]


stoppable_postgres = pytest.mark.skipif(
    not os.environ.get(TEST_DATABASE_ENV) or shutil.which("pg_ctlcluster") is None,
    reason=f"stops and starts the local PostgreSQL: needs {TEST_DATABASE_ENV} (.ci/run sets it) and Debian's pg_ctlcluster",
)


def pg_cluster(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action, *(["-m", "fast"] * (action == "stop"))],
                   check=True, capture_output=True)
    if action == "start":
        for _ in range(100):
            if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"]).returncode == 0:
                return
            time.sleep(0.1)
        raise AssertionError("PostgreSQL did not come back")


@contextmanager
def postgres_stopped() -> Iterator[None]:
    pg_cluster("stop")
    try:
        yield
    finally:
        pg_cluster("start")


@stoppable_postgres
def test_postgresql_stopped_answers_503_then_recovers_without_a_restart(make_client) -> None:
    client = make_client()
    writer = writer_key(client)
    assert propose(client, writer, "Before the outage.").status_code == 201
    with postgres_stopped():
        assert client.get("/v1/search", params={"q": "workspace"}).status_code == 200  # anonymous: no database
        for response in (client.get("/v1/search", params={"q": "workspace"}, headers=writer),
                         propose(client, writer, "During the outage.")):
            assert response.status_code == 503, response.text
            assert response.headers["Retry-After"].isdigit()
    assert client.get("/v1/search", params={"q": "workspace"}, headers=writer).status_code == 200
    assert propose(client, writer, "After the outage.").status_code == 201


@stoppable_postgres
def test_the_cli_says_in_one_line_that_postgresql_cannot_be_reached(tmp_path: Path, database_url: str) -> None:
    env = {**os.environ, "KB_DATA_DIR": str(tmp_path / "data"), "KB_DATABASE_URL": database_url}
    with postgres_stopped():
        result = subprocess.run([sys.executable, "-m", "kb", "keys", "create", "--name", "ops", "--role", "admin"],
                                env=env, capture_output=True, text=True)
    assert result.returncode == 3
    assert result.stderr.count("\n") <= 2 and "Traceback" not in result.stderr
    assert "database" in result.stderr and "try again" in result.stderr


@pytest.mark.parametrize("offset", [0, 4096], ids=["header", "pages"])
def test_a_damaged_sqlite_file_is_refused_at_start_saying_what_to_do(content_repo: Path, tmp_path: Path, offset: int) -> None:
    path = tmp_path / "damaged.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    DatabaseVectorStore(engine).put_many({f"text {n}": np.full(384, n, dtype=np.float32) for n in range(200)})
    engine.dispose()
    with path.open("r+b") as file:  # 64 KiB zeroed in place, as a bad disk or a torn copy would
        file.seek(offset)
        file.write(bytes(min(65536, path.stat().st_size - offset)))
    env = {**os.environ, "KB_DATA_DIR": str(tmp_path / "data"), "KB_REPO_PATH": str(content_repo),
           "KB_DATABASE_URL": f"sqlite:///{path}"}
    for command in (["keys", "list"], ["serve", "--port", "1"]):
        result = subprocess.run([sys.executable, "-m", "kb", *command], env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 3, result.stderr
        assert "Traceback" not in result.stderr
        assert f"the SQLite database {path} is damaged" in result.stderr and "move the file aside" in result.stderr
