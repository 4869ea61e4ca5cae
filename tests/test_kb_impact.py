"""kb impact: golden queries searched at two refs, what moved, and a failing exit when an expected article drops."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kb.access.rules import PUBLIC
from kb.cli import app
from kb.writing.impact import impact
from tests.conftest import article_text
from tests.gitutil import commit_files, git

RESET = article_text("reset-password", "Reset your password", "## Steps\n\nOpen Settings › Security and click Reset password.")
INVOICES = article_text("invoices", "Download invoices", "## PDF\n\nInvoices are PDFs on the billing page.")
GOLDEN = """queries:
  - query: how do I reset my password
    locale: en
    expect: [reset-password]
  - query: download my invoice as pdf
    expect: [invoices]
"""


@pytest.fixture
def repo(content_repo: Path) -> Path:
    """main with two articles and golden queries; `rename` changes reset-password's id; `typo` fixes a word."""
    commit_files(content_repo, {"en/reset.md": RESET, "en/invoices.md": INVOICES, ".kb/golden.yml": GOLDEN})
    git(content_repo, "checkout", "--quiet", "-b", "rename")
    commit_files(content_repo, {"en/reset.md": RESET.replace("id: reset-password", "id: password-reset")}, "New id")
    git(content_repo, "checkout", "--quiet", "main")
    git(content_repo, "checkout", "--quiet", "-b", "typo")
    commit_files(content_repo, {"en/invoices.md": INVOICES.replace("Invoices are", "Invoices are always")}, "Wording")
    git(content_repo, "checkout", "--quiet", "main")
    return content_repo


def test_a_golden_query_whose_article_was_renamed_away_fails(repo: Path, make_kb) -> None:
    report = impact(make_kb(repo), "main", "rename", view=PUBLIC)
    [failed] = report.failed
    assert failed.query == "how do I reset my password" and failed.missing == ["reset-password"]
    assert failed.before[0] == "reset-password" and failed.after[0] == "password-reset"
    assert failed.first_changed and failed.entered == ["password-reset"] and "reset-password" in failed.left


def test_a_harmless_change_passes_and_reports_nothing_moved(repo: Path, make_kb) -> None:
    report = impact(make_kb(repo), "main", "typo", view=PUBLIC)
    assert report.failed == [] and report.first_changed == [] and report.lost_all == []
    assert len(report.queries) == 2 and report.head == git(repo, "rev-parse", "typo")


def test_only_the_changed_chunk_is_embedded_for_the_head(repo: Path, make_kb, encoder) -> None:
    kb = make_kb(repo)
    encoder.inputs.clear()
    impact(kb, "main", "typo", view=PUBLIC)
    queries = {"how do I reset my password", "download my invoice as pdf"}
    chunks = [text for text in encoder.inputs if text not in queries]
    assert len(chunks) == 1 and "Invoices are always PDFs" in chunks[0]
    assert kb.snapshot.commit == git(repo, "rev-parse", "main")  # previews are never served


def test_a_malformed_golden_file_is_reported_not_skipped(repo: Path, make_kb) -> None:
    git(repo, "checkout", "--quiet", "-b", "broken")
    commit_files(repo, {".kb/golden.yml": "queries:\n  - querry: typo in the key\n"}, "Broken golden file")
    git(repo, "checkout", "--quiet", "main")
    report = impact(make_kb(repo), "main", "broken", view=PUBLIC)
    assert [error.path for error in report.errors] == [".kb/golden.yml"]
    assert "querry" in str(report.errors[0])


def test_the_command_prints_markdown_and_exits_1_on_a_failing_golden_query(
    repo: Path, tmp_path: Path, database_url: str
) -> None:
    env = {"KB_DATA_DIR": str(tmp_path / "cli-data"), "KB_REPO_PATH": str(repo), "KB_DATABASE_URL": database_url}
    result = CliRunner().invoke(app, ["impact", "--base", "main", "--head", "rename"], env=env)
    assert result.exit_code == 1, result.output
    assert "golden queries failing: **1**" in result.stdout and "expected reset-password not in the top 3" in result.stdout
    passing = CliRunner().invoke(app, ["impact", "--head", "typo", "--json"], env=env)
    assert passing.exit_code == 0, passing.output
    assert json.loads(passing.stdout)["summary"]["golden_failures"] == 0


def test_an_unknown_head_is_a_clear_error(repo: Path, tmp_path: Path, database_url: str) -> None:
    env = {"KB_DATA_DIR": str(tmp_path / "cli-data"), "KB_REPO_PATH": str(repo), "KB_DATABASE_URL": database_url}
    result = CliRunner().invoke(app, ["impact", "--head", "no-such-branch"], env=env)
    assert result.exit_code == 2 and "unknown ref 'no-such-branch'" in result.output
