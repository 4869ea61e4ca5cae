"""Shared fixtures: the real model (loaded once), real databases, real Git repositories, a real server."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pytest
import sqlalchemy
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from kb.core.bootstrap import load_encoder, onnx_export_dir
from kb.core.db import normalise_url
from kb.core.knowledge_base import KnowledgeBase
from kb.core.settings import SAMPLE_CONTENT, SAMPLE_HISTORY, Settings
from search.encoder import Encoder, SentenceTransformerEncoder
from versioning.bootstrap import create_repo_from_history

TEST_DATABASE_ENV = "KB_TEST_DATABASE_URL"


class CountingEncoder:
    """The real encoder, recording every text it is asked to embed (to prove what was re-embedded)."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.model_name = inner.model_name
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self.max_tokens = inner.max_tokens
        self.inputs: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.inputs.extend(texts)
        return self.inner.encode(texts)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.inputs.extend(texts)
        return self.inner.encode_queries(texts)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)


def count_query_encodes(monkeypatch: pytest.MonkeyPatch, encoder: Encoder) -> list[int]:
    """How many texts each of ``encoder``'s query-encoding calls gets from now on (the calls still run)."""
    calls: list[int] = []
    encode_queries = encoder.encode_queries

    def counted(texts: Sequence[str]) -> np.ndarray:
        calls.append(len(texts))
        return encode_queries(texts)

    monkeypatch.setattr(encoder, "encode_queries", counted)
    return calls


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One ONNX export of the model for the whole session, found by every Settings (the CLI's included)."""
    folder = tmp_path_factory.mktemp("models")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KB_MODEL_CACHE_DIR", str(folder))
        yield folder


@pytest.fixture(scope="session")
def model(model_cache: Path) -> Encoder:
    """The packaged all-MiniLM-L6-v2 on the default backend, exported and loaded once per test session."""
    return load_encoder(Settings())


@pytest.fixture(scope="session")
def torch_model() -> SentenceTransformerEncoder:
    """The same model run by sentence-transformers: the reference the ONNX exports are held to."""
    return SentenceTransformerEncoder()


@pytest.fixture(scope="session")
def onnx_export(model: Encoder) -> Path:
    """The folder of the session's export (fp32 and int8), made when ``model`` loaded."""
    return onnx_export_dir(Settings())


@pytest.fixture
def encoder(model: Encoder) -> CountingEncoder:
    return CountingEncoder(model)


def _database(name: str, folder: Path) -> Iterator[str]:
    """SQLite in ``folder``, or a fresh schema of KB_TEST_DATABASE_URL's PostgreSQL, dropped afterwards."""
    server = os.environ.get(TEST_DATABASE_ENV)
    if not server:
        yield f"sqlite:///{folder / 'kb.sqlite3'}"
        return
    schema = f"kb_test_{name}_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(normalise_url(server), pool_pre_ping=True)  # survives a restart of PostgreSQL by a test
    with admin.begin() as connection:
        connection.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in server else "?"
    try:
        yield f"{server}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as connection:
            connection.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    yield from _database("t", tmp_path)


@pytest.fixture(scope="module")
def module_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _database("m", tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def session_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _database("s", tmp_path_factory.mktemp("db"))


JWT_SECRET = secrets.token_urlsafe(32)
"""The secret a test's "company login" signs customer tokens with (KB_JWT_SECRET)."""
UNLIMITED = "1000000/minute"
"""Rate limits out of the way of tests that send thousands of requests; their own tests set real ones."""


def make_settings(*, data_dir: Path, repo_path: Path | None, database_url: str, **overrides: Any) -> Settings:
    """Settings for a test, never read from the developer's environment."""
    options = {"rate_limit_anonymous": UNLIMITED, "rate_limit_keys": UNLIMITED} | overrides
    return Settings(data_dir=data_dir, repo_path=repo_path, database_url=database_url, **options)


@pytest.fixture
def content_repo(tmp_path: Path) -> Path:
    """A Git repository with a small public article, ready for a test to commit more."""
    from tests.gitutil import commit_files, init_repo

    repo = init_repo(tmp_path / "content")
    commit_files(repo, {"en/start.md": article_text("start", "Getting started", "## First steps\n\nCreate a workspace.")})
    return repo


def article_text(article_id: str, title: str, body: str, **front: object) -> str:
    """A Markdown article with front matter; extra keyword arguments become front matter fields."""
    lines = [f"id: {article_id}", f"title: {json.dumps(title)}"]  # quoted: titles often contain colons
    lines += [f"{key}: {value}" for key, value in front.items()]
    return "---\n" + "\n".join(lines) + "\n---\n\n" + body.strip() + "\n"


@pytest.fixture
def make_kb(tmp_path: Path, encoder: CountingEncoder, database_url: str):
    """Open a KnowledgeBase over a repository, as the server would (data directory kept per test)."""
    from kb.core.bootstrap import open_knowledge_base

    opened: list[KnowledgeBase] = []

    def make(repo: Path, *, data_dir: Path | None = None, **overrides: Any) -> KnowledgeBase:
        folder = data_dir or tmp_path / "data"
        settings = make_settings(data_dir=folder, repo_path=repo, database_url=database_url, **overrides)
        kb = open_knowledge_base(settings, encoder=encoder)
        opened.append(kb)
        return kb

    yield make
    for kb in opened:
        kb.close()


@pytest.fixture
def make_client(tmp_path: Path, content_repo: Path, database_url: str, model: Encoder) -> Iterator:
    """Open the app over ``content_repo`` (after committing ``files``), as `kb serve` would; closed after the test.

    Keyword arguments override settings (``repo_url=…``, ``repo_path=…``); ``follow_redirects`` is the client's.
    """
    from tests.gitutil import commit_files

    with contextlib.ExitStack() as stack:

        def make(files: dict[str, str] | None = None, *, follow_redirects: bool = True, **overrides: Any) -> TestClient:
            if files:
                commit_files(content_repo, files)
            folder = tmp_path / f"app-data-{uuid.uuid4().hex[:8]}"
            options: dict[str, Any] = {"data_dir": folder, "repo_path": content_repo, "database_url": database_url} | overrides
            settings = make_settings(**options)
            return stack.enter_context(started(create_app(settings, encoder=model), follow_redirects=follow_redirects))

        yield make


@pytest.fixture(scope="session")
def sample_settings(tmp_path_factory: pytest.TempPathFactory, session_database_url: str) -> Settings:
    """The bundled sample help center as a Git repository of its own, with its history, as `make serve` sets it up."""
    root = tmp_path_factory.mktemp("sample")
    create_repo_from_history(SAMPLE_CONTENT, root / "content", history=SAMPLE_HISTORY).close()
    return make_settings(data_dir=root / "data", repo_path=root / "content", database_url=session_database_url)


@pytest.fixture(scope="session")
def client(sample_settings: Settings, model: Encoder) -> Iterator[TestClient]:
    """An in-process client of the app over the sample help center (indexed once per session)."""
    with started(create_app(sample_settings, encoder=model)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def sample_kb(client: TestClient) -> KnowledgeBase:
    return served_kb(client)


@contextlib.contextmanager
def started(app: FastAPI, **options: Any) -> Iterator[TestClient]:
    """A client of ``app`` once its start-up indexing is done, as a test expects to find it (`kb serve` answers sooner)."""
    with TestClient(app, **options) as client:
        caught_up(app)
        yield client


def caught_up(app: FastAPI) -> None:
    """Wait for the app's start-up indexing (it runs behind the saved snapshot); fail if it failed."""
    catch_up = app.state.catch_up
    assert catch_up.done.wait(timeout=600), "start-up indexing did not finish"
    assert catch_up.error is None, catch_up.error


def served_app(client: TestClient) -> FastAPI:
    """The app a test client drives (TestClient types it as any ASGI callable)."""
    assert isinstance(client.app, FastAPI)
    return client.app


def served_kb(client: TestClient) -> KnowledgeBase:
    """The KnowledgeBase behind a test client's app, as its lifespan opened it."""
    return served_app(client).state.kb


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve_in_thread(app) -> Iterator[str]:
    """Serve ``app`` with a real uvicorn on a free port in a thread; yields its base URL."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    caught_up(app)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(client: TestClient, sample_settings: Settings, model: Encoder) -> Iterator[str]:
    """A real uvicorn server over the sample (it reuses the snapshot the in-process client saved)."""
    with serve_in_thread(create_app(sample_settings, encoder=model)) as url:
        yield url


@pytest.fixture
def copy_of_sample(tmp_path: Path) -> Path:
    """A writable copy of the sample content folder (not a repository), for `kb check` tests."""
    destination = tmp_path / "helpcenter"
    shutil.copytree(SAMPLE_CONTENT, destination)
    return destination
