"""Fuzzing the API from its own OpenAPI schema: no 5xx, every error is problem+json, responses match the schema.

Schemathesis generates requests for every operation, valid and not, a bounded number per operation,
once as an anonymous reader and once as an admin (who reaches proposals and explain).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from api.app import create_app
from kb.keys import create_key
from kb.settings import Settings
from tests.conftest import JWT_SECRET, article_text, make_settings, served_app, served_kb
from tests.gitutil import commit_files, init_repo

EXAMPLES_PER_OPERATION = 25


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory, module_database_url: str, model) -> Iterator[TestClient]:
    root: Path = tmp_path_factory.mktemp("fuzz")
    repo = init_repo(root / "content")
    commit_files(repo, {
        "en/start.md": article_text("start", "Getting started", "## First steps\n\nCreate a workspace."),
        "ja/start.md": article_text("start", "はじめに", "## 最初の手順\n\nワークスペースを作成します。"),
        "en/internal.md": article_text("refunds", "Refund playbook", "Approve small refunds.", audience="agents"),
    })  # fmt: skip
    settings = make_settings(data_dir=root / "data", repo_path=repo, database_url=module_database_url, jwt_secret=JWT_SECRET)
    with TestClient(create_app(settings, encoder=model)) as client:
        yield client


@pytest.fixture(scope="module")
def admin(fuzzed: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(served_kb(fuzzed).engine, name='fuzz', role='admin').secret}"}


# The schema is read at collection from an app that is never started (the routes alone make it), and
# each case is sent to the started one: schemathesis' lazy fixture loader does not run on pytest 9.
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(Settings.model_construct()))
bounded = settings(
    max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def check(case: schemathesis.Case, app: FastAPI, headers: dict[str, str]) -> None:
    response = case.call(app=app, headers=headers)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
    if response.status_code >= 400:
        assert response.headers["content-type"][0].startswith("application/problem+json"), response.text
        assert response.json()["detail"]


@schema.parametrize()
@bounded
def test_no_anonymous_request_breaks_the_api_or_its_schema(case: schemathesis.Case, fuzzed: TestClient) -> None:
    check(case, served_app(fuzzed), {})


@schema.parametrize()
@bounded
def test_no_admin_request_breaks_the_api_or_its_schema(
    case: schemathesis.Case, fuzzed: TestClient, admin: dict[str, str]
) -> None:
    check(case, served_app(fuzzed), admin)
