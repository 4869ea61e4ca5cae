"""`kb access audit`: the leak probes against a live server and its content repository, from the command line."""

from __future__ import annotations

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import Session, select
from typer.testing import CliRunner

from api.app import create_app
from kb.cli import app as cli
from kb.core.db import ApiKeyRecord
from kb.core.settings import Settings
from tests.conftest import JWT_SECRET, serve_in_thread, served_kb


def test_the_audit_probes_a_live_server_as_each_reader_and_finds_no_leak(
    client: TestClient, sample_settings: Settings, model
) -> None:
    settings = sample_settings.model_copy(update={"jwt_secret": SecretStr(JWT_SECRET)})
    env = {"KB_REPO_PATH": str(settings.content_path), "KB_DATA_DIR": str(settings.data_dir),
           "KB_DATABASE_URL": settings.database, "KB_JWT_SECRET": JWT_SECRET}  # fmt: skip
    with serve_in_thread(create_app(settings, encoder=model)) as url:
        args = ["access", "audit", "--url", url, "--as", "anonymous", "--as", "customer:enterprise", "--as", "bot"]
        result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    assert "no leaks found" in result.output
    assert "as 3 readers: anonymous, customer:enterprise, bot" in result.output
    for surface in ("search", "autocomplete", "site search", "article page", "history", "change feed"):
        assert surface in result.output
    probes = int(result.output.split(" probes as ")[0].split()[-1])
    assert probes > 1000


def test_the_audit_revokes_the_keys_it_made(client: TestClient, sample_settings: Settings, live_server: str) -> None:
    env = {"KB_REPO_PATH": str(sample_settings.content_path), "KB_DATA_DIR": str(sample_settings.data_dir),
           "KB_DATABASE_URL": sample_settings.database}  # fmt: skip
    result = CliRunner().invoke(cli, ["access", "audit", "--url", live_server, "--as", "agent"], env=env)
    assert result.exit_code == 0, result.output
    with Session(served_kb(client).engine) as session:
        made = session.exec(select(ApiKeyRecord).where(ApiKeyRecord.name == "kb access audit")).all()
    assert made and all(record.revoked_at is not None for record in made)


def test_a_customer_reader_without_a_jwt_secret_is_refused_up_front(sample_settings: Settings) -> None:
    env = {"KB_REPO_PATH": str(sample_settings.content_path), "KB_DATA_DIR": str(sample_settings.data_dir)}
    result = CliRunner().invoke(cli, ["access", "audit", "--as", "customer:enterprise"], env=env)
    assert result.exit_code == 2 and "KB_JWT_SECRET" in result.output
