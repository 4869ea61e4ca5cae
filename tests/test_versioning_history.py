"""ContentRepo.history and diff_texts: an article file's commits across renames, and line diffs of two versions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.gitutil import USER_EMAIL, USER_NAME, commit_files, init_repo
from versioning import ContentRepo, InvalidPath, InvalidRef
from versioning.diff import diff_texts


@pytest.fixture
def renamed(tmp_path: Path) -> tuple[Path, list[str]]:
    """guide.md added, edited, then moved to billing/guide.md with an edit, beside an unrelated commit."""
    repo = init_repo(tmp_path / "content")
    shas = [
        commit_files(repo, {"en/guide.md": "line one\nline two\n"}, "Add the guide\n\nFirst draft.",
                     date=datetime(2026, 1, 2, 10, 0, tzinfo=UTC)),
        commit_files(repo, {"en/guide.md": "line one\nline two, edited\n"}, "Edit the guide"),
        commit_files(repo, {"en/other.md": "unrelated\n"}, "Add another file"),
        commit_files(repo, {"en/billing/guide.md": "line one\nline two, edited\nline three\n"}, "Move the guide",
                     renames={"en/guide.md": "en/billing/guide.md"}),
    ]
    return repo, shas


def test_history_follows_a_rename_with_edits_newest_first(renamed) -> None:
    path, shas = renamed
    with ContentRepo(path) as repo:
        history = list(repo.history("en/billing/guide.md"))
    assert [r.sha for r in history] == [shas[3], shas[1], shas[0]]
    assert [(r.kind, r.path) for r in history] == [
        ("renamed", "en/billing/guide.md"), ("modified", "en/guide.md"), ("added", "en/guide.md")
    ]


def test_history_carries_author_date_and_the_whole_message(renamed) -> None:
    path, _ = renamed
    with ContentRepo(path) as repo:
        first = list(repo.history("en/billing/guide.md"))[-1]
    assert (first.author_name, first.author_email) == (USER_NAME, USER_EMAIL)
    assert first.committed_at == datetime(2026, 1, 2, 10, 0, tzinfo=UTC)
    assert first.message == "Add the guide\n\nFirst draft."


def test_history_at_an_older_ref_stops_there(renamed) -> None:
    path, shas = renamed
    with ContentRepo(path) as repo:
        assert [r.sha for r in repo.history("en/guide.md", shas[1])] == [shas[1], shas[0]]


def test_stopping_early_reads_only_what_was_asked(renamed) -> None:
    path, shas = renamed
    with ContentRepo(path) as repo:
        revisions = repo.history("en/billing/guide.md")
        assert next(revisions).sha == shas[3]
        revisions.close()  # stops git; the handle stays usable
        assert repo.resolve() == shas[3]


def test_history_of_a_path_that_never_existed_is_empty(renamed) -> None:
    path, _ = renamed
    with ContentRepo(path) as repo:
        assert list(repo.history("en/nothing.md")) == []


@pytest.mark.parametrize("ref", ["--output=/tmp/x", "HEAD~1", "main..other", "@{1}"])
def test_history_refuses_refs_off_the_allow_list(renamed, ref: str) -> None:
    path, _ = renamed
    with ContentRepo(path) as repo, pytest.raises(InvalidRef):
        list(repo.history("en/guide.md", ref))


@pytest.mark.parametrize("bad_path", ["../outside.md", "/etc/passwd", "-p"])
def test_history_refuses_paths_off_the_allow_list(renamed, bad_path: str) -> None:
    path, _ = renamed
    with ContentRepo(path) as repo, pytest.raises(InvalidPath):
        list(repo.history(bad_path))


def test_diff_has_git_labels_and_a_hunk_header() -> None:
    diff = diff_texts("a\nb\nc\n", "a\nB\nc\n", old_path="en/x.md", new_path="en/y.md")
    assert diff.unified.splitlines()[:3] == ["--- a/en/x.md", "+++ b/en/y.md", "@@ -1,3 +1,3 @@"]
    assert "-b" in diff.unified.splitlines() and "+B" in diff.unified.splitlines()


def test_diff_rows_pair_a_replaced_line_with_its_replacement() -> None:
    diff = diff_texts("a\nb\nc\n", "a\nB\nextra\nc\n", old_path="x.md", new_path="x.md")
    rows = [(r.kind, r.old and (r.old.number, r.old.text), r.new and (r.new.number, r.new.text)) for r in diff.hunks[0].rows]
    assert rows == [
        ("context", (1, "a"), (1, "a")),
        ("changed", (2, "b"), (2, "B")),
        ("added", None, (3, "extra")),
        ("context", (3, "c"), (4, "c")),
    ]


def test_diff_against_an_absent_version_is_all_added() -> None:
    diff = diff_texts(None, "new\nfile\n", old_path=None, new_path="en/new.md")
    assert diff.unified.startswith("--- /dev/null\n+++ b/en/new.md\n")
    assert [r.kind for r in diff.hunks[0].rows] == ["added", "added"]


def test_identical_versions_have_no_hunks() -> None:
    diff = diff_texts("same\n", "same\n", old_path="x.md", new_path="x.md")
    assert diff.unified == "" and diff.hunks == []


def test_far_apart_changes_are_separate_hunks_with_three_lines_of_context() -> None:
    old = "".join(f"line {n}\n" for n in range(1, 21))
    new = old.replace("line 2\n", "line two\n").replace("line 19\n", "line nineteen\n")
    hunks = diff_texts(old, new, old_path="x.md", new_path="x.md").hunks
    assert [(h.old_start, h.old_count) for h in hunks] == [(1, 5), (16, 5)]


def test_a_change_to_the_final_newline_alone_is_shown_as_git_shows_it() -> None:
    diff = diff_texts("a\nb\n", "a\nb", old_path="x.md", new_path="x.md")
    assert diff.unified.endswith("-b\n+b\n\\ No newline at end of file\n")
    assert [r.kind for r in diff.hunks[0].rows] == ["context", "changed"]
