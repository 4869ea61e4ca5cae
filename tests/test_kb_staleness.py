"""Staleness: articles due for review, and translations whose original changed after the commit they were made from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kb.cli import app
from kb.writing.checks import check_folder
from tests.conftest import article_text, served_kb
from tests.gitutil import commit_files, init_repo
from tests.test_analytics_gaps import failed
from tests.test_site_staff import sign_in

ORIGINAL = "Refunds are paid within 14 days to the card you paid with."
CHANGED = "Refunds are paid within 30 days to the card you paid with."
LONG_AGO = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)


def translated(revision: str, text: str = "返金は14日以内に、支払いに使ったカードへ行われます。") -> str:
    return article_text("refunds", "返金", text, locale="ja", translated_from=revision)


def repo_with_translation(root: Path) -> tuple[str, str]:
    """A repository where the Japanese translation was made from the first commit, then the original changed."""
    init_repo(root)
    made_from = commit_files(root, {"en/refunds.md": article_text("refunds", "Refunds", ORIGINAL)}, "Refunds")
    commit_files(root, {"ja/refunds.md": translated(made_from)}, "Translate refunds")
    changed = commit_files(root, {"en/refunds.md": article_text("refunds", "Refunds", CHANGED)}, "Refunds now take 30 days")
    return made_from, changed


def test_a_translation_made_from_an_older_revision_of_its_original_is_flagged_with_the_diff(tmp_path: Path) -> None:
    made_from, _ = repo_with_translation(tmp_path)
    report = check_folder(tmp_path)
    assert [(w.path, w.field) for w in report.warnings] == [("ja/refunds.md", "translated_from")]
    assert f"translated from {made_from[:12]}" in report.warnings[0].reason
    [behind] = report.behind
    assert "-Refunds are paid within 14 days" in behind.diff and "+Refunds are paid within 30 days" in behind.diff


def test_a_translation_stops_being_flagged_once_updated_from_the_new_original(tmp_path: Path) -> None:
    _, changed = repo_with_translation(tmp_path)
    commit_files(tmp_path, {"ja/refunds.md": translated(changed, "返金は30日以内に行われます。")}, "Update the translation")
    report = check_folder(tmp_path)
    assert report.warnings == [] and report.behind == []


def test_a_commit_that_left_the_original_alone_counts_as_up_to_date(tmp_path: Path) -> None:
    repo_with_translation(tmp_path)
    later = commit_files(tmp_path, {"en/other.md": article_text("other", "Other", "Unrelated.")}, "Another article")
    commit_files(tmp_path, {"ja/refunds.md": translated(later, "返金は30日以内に行われます。")}, "Translate from a later commit")
    assert check_folder(tmp_path).behind == []


def test_kb_check_prints_the_originals_diff_for_the_translator(tmp_path: Path) -> None:
    repo_with_translation(tmp_path)
    result = CliRunner().invoke(app, ["check", str(tmp_path), "--no-near-duplicates", "--no-contradictions"])
    assert result.exit_code == 0, result.output
    assert "warning: ja/refunds.md: translated_from: translated from" in result.output
    assert "    +Refunds are paid within 30 days" in result.output


def test_a_translated_from_that_is_no_commit_here_is_an_error(tmp_path: Path) -> None:
    init_repo(tmp_path)
    commit_files(tmp_path, {"en/refunds.md": article_text("refunds", "Refunds", ORIGINAL), "ja/refunds.md": translated("abcdef1")})
    assert [str(e) for e in check_folder(tmp_path).errors] == [
        "ja/refunds.md: translated_from: 'abcdef1' is no commit of this repository"
    ]


def test_translated_from_must_look_like_a_commit(tmp_path: Path) -> None:
    init_repo(tmp_path)
    commit_files(tmp_path, {"ja/refunds.md": translated("last week")})
    [error] = check_folder(tmp_path).errors
    assert error.field == "translated_from" and "7 to 40 hexadecimal characters" in error.reason


def test_an_article_is_due_when_review_every_has_run_out_since_its_last_review_or_change(tmp_path: Path) -> None:
    init_repo(tmp_path)
    text = article_text("refunds", "Refunds", ORIGINAL, review_every="26w", last_reviewed="2025-02-01")
    commit_files(tmp_path, {"en/refunds.md": text}, "Refunds", date=LONG_AGO)
    [warning] = check_folder(tmp_path, today=dt.date(2025, 9, 1)).warnings
    assert str(warning) == (
        "en/refunds.md: review_every: review due since 2025-08-02 (review_every 26w; last reviewed or changed 2025-02-01)"
    )


def test_a_change_in_git_after_the_last_review_counts_as_a_look(tmp_path: Path) -> None:
    init_repo(tmp_path)
    text = article_text("refunds", "Refunds", ORIGINAL, review_every="30d", last_reviewed="2025-01-01")
    commit_files(tmp_path, {"en/refunds.md": text}, "Refunds", date=dt.datetime(2025, 3, 1, tzinfo=dt.UTC))
    assert check_folder(tmp_path, today=dt.date(2025, 3, 20)).warnings == []
    assert [w.field for w in check_folder(tmp_path, today=dt.date(2025, 4, 1)).warnings] == ["review_every"]


def test_the_site_notes_a_translation_behind_its_original_even_when_edited_after_it(
    make_client: Callable[..., TestClient], content_repo: Path
) -> None:
    made_from = commit_files(content_repo, {"en/refunds.md": article_text("refunds", "Refunds", ORIGINAL)}, "Refunds")
    commit_files(content_repo, {"en/refunds.md": article_text("refunds", "Refunds", CHANGED)}, "Refunds now take 30 days")
    commit_files(content_repo, {"ja/refunds.md": translated(made_from)}, "Translate refunds (from the older text)")
    client = make_client()
    assert "この翻訳は最新ではない可能性があります" in client.get("/hc/ja/articles/refunds").text


def test_the_site_has_no_note_for_a_translation_made_from_the_current_original(
    make_client: Callable[..., TestClient], content_repo: Path
) -> None:
    made_from = commit_files(content_repo, {"en/refunds.md": article_text("refunds", "Refunds", ORIGINAL)}, "Refunds")
    commit_files(content_repo, {"ja/refunds.md": translated(made_from)}, "Translate refunds", date=LONG_AGO)
    client = make_client()
    assert "この翻訳は最新ではない可能性があります" not in client.get("/hc/ja/articles/refunds").text


def test_the_dashboard_lists_articles_due_for_review_most_read_first(make_client: Callable[..., TestClient], content_repo: Path) -> None:
    stale = {"review_every": "30d", "last_reviewed": "2025-01-01"}
    commit_files(content_repo, {
        "en/refunds.md": article_text("refunds", "Refunds", ORIGINAL, **stale),
        "en/invoices.md": article_text("invoices", "Invoices", "Invoices are PDFs.", **stale),
        "en/fresh.md": article_text("fresh", "Fresh", "Reviewed lately.", review_every="3650d"),
    }, "Articles", date=LONG_AGO)  # fmt: skip
    client = make_client(follow_redirects=False)
    for _ in range(2):
        client.get("/hc/en/articles/refunds")
    served_kb(client).events.writer.flush()
    sign_in(client, "writer")
    page = client.get("/hc/en/staff/dashboard").text
    due = page[page.index("Due for review, most read or missed first") :]
    assert due.index(">Refunds</a>") < due.index(">Invoices</a>") and ">Fresh</a>" not in due


def test_the_dashboard_ranks_an_article_due_for_review_by_the_failed_searches_near_it_too(
    make_client: Callable[..., TestClient], content_repo: Path
) -> None:
    stale = {"review_every": "30d", "last_reviewed": "2025-01-01"}
    commit_files(content_repo, {
        "en/refunds.md": article_text("refunds", "Refunds", ORIGINAL, **stale),
        "en/invoices.md": article_text("invoices", "Invoices", "Invoices are PDFs you download from Billing.", **stale),
    }, "Articles", date=LONG_AGO)  # fmt: skip
    client = make_client(follow_redirects=False)
    client.get("/hc/en/articles/invoices")
    served_kb(client).events.writer.flush()
    failed(client, {"refund paid to my card within days": 3})
    sign_in(client, "writer")
    due = client.get("/hc/en/staff/dashboard").text
    due = due[due.index("Due for review, most read or missed first") :]
    assert due.index(">Refunds</a>") < due.index(">Invoices</a>")
    assert '<td class="dash-count">0</td><td class="dash-count">3</td>' in due, "no views, three failed searches near it"


def test_the_dashboard_lists_a_translation_behind_with_the_originals_diff(
    make_client: Callable[..., TestClient], content_repo: Path
) -> None:
    made_from = commit_files(content_repo, {"en/refunds.md": article_text("refunds", "Refunds", ORIGINAL)}, "Refunds")
    commit_files(content_repo, {"ja/refunds.md": translated(made_from)}, "Translate refunds")
    commit_files(content_repo, {"en/refunds.md": article_text("refunds", "Refunds", CHANGED)}, "Refunds now take 30 days")
    client = make_client(follow_redirects=False)
    sign_in(client, "writer")
    page = client.get("/hc/en/staff/dashboard").text
    behind = page[page.index("Translations behind their original") :]
    assert f"<code>{made_from[:12]}</code>" in behind and "+Refunds are paid within 30 days" in behind
