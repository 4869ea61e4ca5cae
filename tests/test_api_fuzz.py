"""Fuzzing the API from its own OpenAPI schema: no 5xx, every error is problem+json, responses match the schema.

Schemathesis generates requests for every operation, valid and not, a bounded number per operation,
once as an anonymous reader and once as an admin (who reaches proposals and explain).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from api.app import create_app
from kb.access.keys import create_key
from kb.core.settings import Settings
from tests.conftest import JWT_SECRET, article_text, make_settings, served_app, served_kb, started
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
    with started(create_app(settings, encoder=model)) as client:
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


# --- text kb refuses, tried in every string an operation takes ---

HOSTILE_TEXT = {
    "lone surrogate": "\ud800 pass",
    "NUL": "pass\x00word",
    "escape sequence": "\x1b[31mpass",
    "C1 control": "pass\x85word",
    "DEL": "pass\x7f",
    "combining marks": "a" + "\u0301" * 2000,
    "combining marks alone": "\u0308" * 900,
}
"""Strings a broken or hostile client sends; none may cost a 500 anywhere."""

VALID_VALUES = {
    "q": "password", "article_id": "start", "article": "start", "from": "HEAD", "as": "anonymous", "proposal_id": "1",
    "locale": "en", "revision": "0" * 40, "quote": "Create a workspace.", "name": "top-queries",
    "topic_id": "0123456789ab",
}  # fmt: skip
"""A valid value for each required parameter, so only the field under test is hostile."""

TICKET: dict[str, object] = {
    "subject": "Refund", "body": "Can I get a refund?", "messages": [{"role": "customer", "text": "For the annual plan."}],
    "locale": "en", "tags": ["billing"], "exclude": ["cancel-subscription"], "requester": {"segments": ["enterprise"]},
    "customer_token": "a.b.c",
}  # fmt: skip
VALID_BODIES: dict[str, dict[str, object]] = {
    "/v1/search": {"q": "password", "tags": ["billing"]},
    "/v1/events/click": {"article_id": "reset-password", "locale": "en", "search_id": "0" * 32, "position": 1},
    "/v1/suggestions": TICKET,
    "/v1/suggestions:batch": {"tickets": [TICKET]},
    "/v1/answers": {"question": "How do I reset my password?", "conversation": [{"role": "customer", "text": "Hi"}], "locale": "en"},
    "/v1/answers:batch": {"questions": [{"question": "How do I reset my password?", "conversation": [{"role": "customer", "text": "Hi"}],
                                         "locale": "en", "customer_token": "a.b.c"}]},
    "/v1/retrieve": {"query": "password", "conversation": [{"role": "customer", "text": "Hi"}], "locale": "en", "tokenizer": "model"},
    "/v1/feedback": {"outcome": "helpful", "interaction_id": "0" * 32, "article_id": "reset-password", "locale": "en",
                     "anchor": "", "reason": "unclear", "comment": "Clear enough."},
    "/v1/proposals": {"title": "Add a page", "message": "Why", "base": "main",
                      "files": [{"path": "en/new-page.md", "content": "---\nid: new-page\ntitle: New\n---\n\nBody.\n"}]},
    "/v1/articles/{article_id}/restore": {"revision": "HEAD~1", "locale": "en"},
    "/v1/gaps/{topic_id}/proposal": {"locale": "en", "template": "how-to", "id": "new-page"},
}  # fmt: skip


def _resolve(schema: dict, spec: dict) -> dict:
    return spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema


def _string_fields(schema: dict, spec: dict, prefix: str = "") -> list[str]:
    """Dotted paths of every string in a JSON schema: `q`, `tags.0`, `files.0.path`."""
    found = []
    for option in _resolve(schema, spec).get("anyOf", [_resolve(schema, spec)]):
        option = _resolve(option, spec)
        if option.get("type") == "string" and "enum" not in option:
            found.append(prefix)
        elif option.get("type") == "array":
            found += _string_fields(option["items"], spec, f"{prefix}.0")
        for name, field in option.get("properties", {}).items():
            found += _string_fields(field, spec, f"{prefix}.{name}" if prefix else name)
    return found


def _hostile_cases() -> list[tuple[str, str, str, str]]:
    """(method, path, field, kind of hostile text) for every string every operation takes; body fields start `body.`."""
    spec = schema.raw_schema
    cases = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            fields = [p["name"] for p in operation.get("parameters", []) for _ in _string_fields(p["schema"], spec)[:1]]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            fields += [f"body.{name}" for name in _string_fields(body, spec)] if body else []
            cases += [(method.upper(), path, field, kind) for field in fields for kind in HOSTILE_TEXT]
    return cases


def _percent(value: str) -> str:
    """How a client puts text in a URL; a lone surrogate goes as the UTF-8 bytes a broken encoder writes for it."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def _with(body: dict, dotted: str, value: str) -> dict:
    """A copy of ``body`` with the field at ``dotted`` (`files.0.path`) set to ``value``."""
    copy = json.loads(json.dumps(body))
    *parents, last = dotted.split(".")
    target = copy
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[int(last) if last.isdigit() else last] = value
    return copy


def test_every_operation_has_its_string_fields_tried() -> None:
    tried = {(method, path) for method, path, _, _ in _hostile_cases()}
    assert ("GET", "/v1/search") in tried and ("POST", "/v1/proposals") in tried and ("GET", "/v1/changes") in tried
    assert {field for _, path, field, _ in _hostile_cases() if path == "/v1/proposals"} >= {
        "body.title", "body.message", "body.base", "body.files.0.path", "body.files.0.content"
    }


@pytest.mark.parametrize(("method", "path", "field", "kind"), _hostile_cases())
def test_hostile_text_in_any_string_field_is_a_4xx_naming_it_or_served_never_a_500(
    fuzzed: TestClient, admin: dict[str, str], method: str, path: str, field: str, kind: str
) -> None:
    value = HOSTILE_TEXT[kind]
    operation = schema.raw_schema["paths"][path][method.lower()]
    params = {p["name"]: VALID_VALUES[p["name"]] for p in operation.get("parameters", []) if p.get("required")}
    headers, content = dict(admin), None
    if field.startswith("body."):
        content = json.dumps(_with(VALID_BODIES[path], field.removeprefix("body."), value))  # a lone surrogate goes as \ud800
        headers["Content-Type"] = "application/json"
    else:
        params[field] = value
    url = path
    for name in re.findall(r"{(\w+)}", path):
        url = url.replace(f"{{{name}}}", _percent(params.pop(name)))
    query = "&".join(f"{name}={_percent(text)}" for name, text in params.items())
    response = fuzzed.request(method, url + (f"?{query}" if query else ""), content=content, headers=headers)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json"), response.text
    refused = kind not in ("combining marks", "combining marks alone")
    if refused and not (kind == "lone surrogate" and not field.startswith("body.")):  # URLs decode it to U+FFFD
        assert response.status_code in (400, 422), response.text
        assert field.removeprefix("body.").split(".")[0] in response.json()["detail"], response.text


@pytest.mark.parametrize("name", ["Authorization", "X-KB-Customer-Token"])
@pytest.mark.parametrize("kind", ["NUL", "escape sequence", "C1 control"])
def test_control_characters_in_a_header_kb_reads_are_a_400_naming_it(
    fuzzed: TestClient, admin: dict[str, str], name: str, kind: str
) -> None:
    # As bytes: httpx sends a str header as ASCII only.
    hostile = ("Bearer " + HOSTILE_TEXT[kind]).encode("latin-1")
    headers = {key.encode(): value.encode() for key, value in admin.items()} | {name.encode(): hostile}
    response = fuzzed.get("/v1/articles", headers=headers)
    assert response.status_code == 400, response.text
    assert name in response.json()["detail"]
