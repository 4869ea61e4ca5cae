"""The `kb` command line, run in-process with its settings from the environment as a user would set them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kb.cli import app
from tests.conftest import article_text
from tests.gitutil import commit_files, git


@pytest.fixture
def env(tmp_path: Path, content_repo: Path, database_url: str) -> dict[str, str]:
    commit_files(content_repo, {
        "en/e1042.md": article_text("e1042", "E1042: Sync token expired", "## Fix\n\nReconnect the calendar."),
        "en/broken.md": "---\ntitle: No id\n---\n\nBody.\n",
    })
    return {"KB_DATA_DIR": str(tmp_path / "data"), "KB_REPO_PATH": str(content_repo), "KB_DATABASE_URL": database_url}


def test_index_reports_articles_skipped_files_and_embedding_counts(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["index"], env=env)
    assert result.exit_code == 0, result.output
    assert "articles indexed: 2" in result.output
    assert "en/broken.md: id" in result.output
    assert "embedded: 2" in result.output and "from cache: 0" in result.output


def test_second_index_takes_everything_from_the_saved_snapshot(env: dict[str, str]) -> None:
    CliRunner().invoke(app, ["index"], env=env)
    result = CliRunner().invoke(app, ["index"], env=env)
    assert "embedded: 0" in result.output and "files parsed: 0" in result.output


def test_full_index_rebuilds_but_takes_embeddings_from_the_cache(env: dict[str, str]) -> None:
    CliRunner().invoke(app, ["index"], env=env)
    result = CliRunner().invoke(app, ["index", "--full"], env=env)
    assert "(full)" in result.output and "embedded: 0" in result.output and "from cache: 2" in result.output


def test_search_prints_json_hits_with_the_commit(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["search", "E1042", "--json", "--mode", "keyword"], env=env)
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["hits"][0]["id"] == "e1042" and len(body["hits"][0]["commit"]) == 40


def test_search_prints_a_table_for_people(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["search", "sync token"], env=env)
    assert result.exit_code == 0 and "e1042" in result.output and "matching article(s)" in result.output


def test_search_with_a_bad_locale_exits_2_with_the_reason(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["search", "x", "--locale", "fr"], env=env)
    assert result.exit_code == 2 and "locale" in result.output


def test_history_prints_each_commit_that_changed_the_article(env: dict[str, str], content_repo: Path) -> None:
    commit_files(content_repo, {}, "Move E1042 under errors", renames={"en/e1042.md": "en/errors/e1042.md"})
    result = CliRunner().invoke(app, ["history", "e1042", "--json"], env=env)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["change"], r["path"]) for r in rows] == [("renamed", "en/errors/e1042.md"), ("added", "en/e1042.md")]
    assert rows[0]["message"] == "Move E1042 under errors"


def test_diff_prints_a_unified_diff_between_two_refs(env: dict[str, str], content_repo: Path) -> None:
    before = git(content_repo, "rev-parse", "HEAD")
    text = (content_repo / "en/e1042.md").read_text()
    commit_files(content_repo, {"en/e1042.md": text.replace("Reconnect the calendar.", "Sign in again.")}, "Clearer fix")
    result = CliRunner().invoke(app, ["diff", "e1042", before, "main"], env=env)
    assert result.exit_code == 0, result.output
    assert "-Reconnect the calendar.\n+Sign in again.\n" in result.stdout


def test_diff_with_a_malformed_ref_exits_2_naming_it(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["diff", "e1042", "--", "--upload-pack=evil", "main"], env=env)
    assert result.exit_code == 2
    assert "invalid ref '--upload-pack=evil'" in result.output


def test_history_of_an_unknown_article_exits_2(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["history", "no-such-article"], env=env)
    assert result.exit_code == 2 and "no article 'no-such-article'" in result.output
