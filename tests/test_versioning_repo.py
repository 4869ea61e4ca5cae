"""ContentRepo against real Git repositories in temporary folders."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import git as gitpython
import pytest

from tests.gitutil import USER_EMAIL, USER_NAME, commit_files, git, init_repo
from versioning.gitoutput import Change
from versioning.refs import InvalidPath, InvalidRef
from versioning.repo import ContentRepo, RepositoryError, UnknownRef

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TOKYO = timezone(timedelta(hours=9))


def _three_commits(tmp_path: Path) -> tuple[Path, list[str]]:
    """Import a, b and README; edit a; add c and delete README — one day apart."""
    path = init_repo(tmp_path / "content")
    shas = [
        commit_files(path, {"en/a.md": "# A\n", "en/b.md": "# B\n", "README.md": "hi\n"}, "Import", date=T0),
        commit_files(path, {"en/a.md": "# A v2\n"}, "Edit A", date=T0 + timedelta(days=1)),
        commit_files(
            path, {"en/c.md": "# C\n", "README.md": None}, "Add C", date=(T0 + timedelta(days=2)).astimezone(TOKYO)
        ),
    ]
    return path, shas


def _merged_history(tmp_path: Path) -> Path:
    """main and feature both edit c.md (a conflict resolved by hand), then feature merges again cleanly."""
    path = init_repo(tmp_path / "content")
    commit_files(path, {"a.md": "a\n", "b.md": "b\n", "c.md": "c\n", "d.md": "d\n"}, "Import", date=T0)
    git(path, "switch", "--quiet", "-c", "feature")
    commit_files(path, {"b.md": "b feature\n", "c.md": "c feature\n"}, "Feature edits", date=T0 + timedelta(days=1))
    git(path, "switch", "--quiet", "main")
    commit_files(path, {"a.md": "a main\n", "c.md": "c main\n"}, "Main edits", date=T0 + timedelta(days=2))
    with pytest.raises(RuntimeError, match="merge"):
        git(path, "merge", "feature")
    commit_files(path, {"c.md": "c resolved\n"}, "Merge feature", date=T0 + timedelta(days=3))
    git(path, "switch", "--quiet", "feature")
    commit_files(path, {"d.md": "d feature\n"}, "More feature", date=T0 + timedelta(days=4))
    git(path, "switch", "--quiet", "main")
    day5 = (T0 + timedelta(days=5)).isoformat()
    dates = {"GIT_COMMITTER_DATE": day5, "GIT_AUTHOR_DATE": day5}
    git(path, "merge", "--no-ff", "-m", "Merge again", "feature", env=dates)
    return path


def _forbid_git(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"git was called: {args[1:]!r}")

    monkeypatch.setattr(gitpython.cmd.Git, "execute", refuse)


def _record_git(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    calls: list[list[str]] = []
    real = gitpython.cmd.Git.execute

    def record(self: gitpython.cmd.Git, command: list[str], *args: Any, **kwargs: Any) -> object:
        calls.append(list(command))
        return real(self, command, *args, **kwargs)

    monkeypatch.setattr(gitpython.cmd.Git, "execute", record)
    return calls


def test_a_folder_that_is_not_a_repository_raises_repository_error(tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="not a Git repository"):
        ContentRepo(tmp_path)


def test_a_missing_folder_raises_repository_error(tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="not a Git repository"):
        ContentRepo(tmp_path / "nowhere")


def test_a_subfolder_of_a_repository_is_not_taken_for_the_repository(tmp_path: Path) -> None:
    path, _ = _three_commits(tmp_path)
    with pytest.raises(RepositoryError):
        ContentRepo(path / "en")


def test_default_branch_is_the_branch_head_points_at(tmp_path: Path) -> None:
    path, _ = _three_commits(tmp_path)
    git(path, "switch", "--quiet", "-c", "docs/next")
    assert ContentRepo(path).default_branch() == "docs/next"


def test_default_branch_is_head_when_detached(tmp_path: Path) -> None:
    path, shas = _three_commits(tmp_path)
    git(path, "switch", "--quiet", "--detach", shas[0])
    assert ContentRepo(path).default_branch() == "HEAD"


def test_resolve_without_ref_gives_the_tip_of_the_default_branch(tmp_path: Path) -> None:
    path, shas = _three_commits(tmp_path)
    assert ContentRepo(path).resolve() == shas[-1]


def test_resolve_accepts_branches_tags_and_short_shas(tmp_path: Path) -> None:
    path, shas = _three_commits(tmp_path)
    git(path, "branch", "release/1.0", shas[1])
    git(path, "tag", "-a", "v1.0", "-m", "First release", shas[0])
    repo = ContentRepo(path)
    assert repo.resolve("release/1.0") == shas[1]
    assert repo.resolve("v1.0") == shas[0]  # the commit, not the annotated tag object
    assert repo.resolve(shas[1][:8]) == shas[1]
    assert repo.resolve(shas[2].upper()) == shas[2]


def test_unknown_ref_raises_unknown_ref_naming_it(tmp_path: Path) -> None:
    path, _ = _three_commits(tmp_path)
    repo = ContentRepo(path)
    for ref in ("no-such-branch", "deadbeefdeadbeef"):
        with pytest.raises(UnknownRef, match=ref):
            repo.resolve(ref)


def test_a_sha_that_names_a_tree_is_not_a_commit(tmp_path: Path) -> None:
    path, _ = _three_commits(tmp_path)
    tree = git(path, "rev-parse", "HEAD^{tree}")
    with pytest.raises(UnknownRef):
        ContentRepo(path).resolve(tree)


def test_resolve_in_a_repository_without_commits_raises_unknown_ref(tmp_path: Path) -> None:
    with pytest.raises(UnknownRef):
        ContentRepo(init_repo(tmp_path / "empty")).resolve()


@pytest.mark.parametrize("ref", ["--upload-pack=touch /tmp/pwned", "-x", "HEAD..main", "a b", "main@{1}", "--output=x"])
def test_option_like_refs_are_rejected_before_reaching_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ref: str
) -> None:
    path, shas = _three_commits(tmp_path)
    repo = ContentRepo(path)
    _forbid_git(monkeypatch)
    calls = [
        lambda: repo.resolve(ref),
        lambda: repo.commit_info(ref),
        lambda: repo.files_at(ref),
        lambda: repo.changes(ref, shas[0]),
        lambda: repo.changes(shas[0], ref),
        lambda: repo.read_blob(ref, "en/a.md"),
    ]
    for call in calls:
        with pytest.raises(InvalidRef, match="invalid ref"):
            call()


def test_an_upload_pack_ref_runs_no_command(tmp_path: Path) -> None:
    path, _ = _three_commits(tmp_path)
    marker = tmp_path / "pwned"
    with pytest.raises(InvalidRef):
        ContentRepo(path).files_at(f"--upload-pack=touch {marker}")
    assert not marker.exists()


def test_commit_info_reports_author_date_and_summary(tmp_path: Path) -> None:
    path = init_repo(tmp_path / "content")
    when = datetime(2026, 3, 1, 12, 30, tzinfo=TOKYO)
    sha = commit_files(path, {"a.md": "a\n"}, "Add A\n\nA longer body.", date=when)
    info = ContentRepo(path).commit_info(sha[:10])
    assert (info.sha, info.author_name, info.author_email, info.summary) == (sha, USER_NAME, USER_EMAIL, "Add A")
    assert info.committed_at == when
    assert info.committed_at.utcoffset() == timedelta(hours=9)


def test_files_at_reads_every_file_with_its_bytes_sorted_by_path(tmp_path: Path) -> None:
    path, shas = _three_commits(tmp_path)
    files = ContentRepo(path).files_at()
    assert [(f.path, f.data) for f in files] == [("en/a.md", b"# A v2\n"), ("en/b.md", b"# B\n"), ("en/c.md", b"# C\n")]
    assert files[0].blob_sha == git(path, "rev-parse", f"{shas[-1]}:en/a.md")


def test_files_at_reads_an_older_commit_without_touching_the_working_tree(tmp_path: Path) -> None:
    path, shas = _three_commits(tmp_path)
    (path / "en/a.md").write_text("uncommitted edit\n")
    (path / "draft.md").write_text("untracked\n")
    status_before = git(path, "status", "--porcelain")

    files = ContentRepo(path).files_at(shas[0])

    assert {f.path: f.data for f in files} == {"README.md": b"hi\n", "en/a.md": b"# A\n", "en/b.md": b"# B\n"}
    assert git(path, "status", "--porcelain") == status_before
    assert git(path, "rev-parse", "HEAD") == shas[-1]
    assert (path / "en/a.md").read_text() == "uncommitted edit\n"


def test_files_at_under_a_folder_reads_only_its_files_with_their_last_changes(tmp_path: Path) -> None:
    path, shas = _three_commits(tmp_path)
    files = ContentRepo(path).files_at(under="en")
    assert [(f.path, f.data, f.revision) for f in files] == [
        ("en/a.md", b"# A v2\n", shas[1]), ("en/b.md", b"# B\n", shas[0]), ("en/c.md", b"# C\n", shas[2])
    ]


@pytest.mark.parametrize("folder", ["fr", "README.md"])
def test_files_at_under_a_folder_there_is_none_of_reads_nothing(tmp_path: Path, folder: str) -> None:
    path, shas = _three_commits(tmp_path)
    assert ContentRepo(path).files_at(shas[0], under=folder) == []


def test_files_at_under_a_folder_refuses_a_path_out_of_the_repository(tmp_path: Path) -> None:
    path, _ = _three_commits(tmp_path)
    with pytest.raises(InvalidPath):
        ContentRepo(path).files_at(under="../outside")


def test_files_at_works_on_a_bare_clone(tmp_path: Path) -> None:
    path, shas = _three_commits(tmp_path)
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(path), str(bare))
    repo = ContentRepo(bare)
    assert repo.default_branch() == "main"
    assert [f.path for f in repo.files_at()] == ["en/a.md", "en/b.md", "en/c.md"]
    assert repo.files_at(shas[0])[0].path == "README.md"


def test_each_file_knows_the_commit_and_date_of_its_last_change(tmp_path: Path) -> None:
    path, shas = _three_commits(tmp_path)
    files = {f.path: f for f in ContentRepo(path).files_at()}
    assert (files["en/a.md"].revision, files["en/a.md"].updated_at) == (shas[1], T0 + timedelta(days=1))
    assert (files["en/b.md"].revision, files["en/b.md"].updated_at) == (shas[0], T0)
    assert files["en/c.md"].revision == shas[2]
    assert files["en/c.md"].updated_at.utcoffset() == timedelta(hours=9)


def test_last_change_at_an_older_ref_ignores_later_commits(tmp_path: Path) -> None:
    path, shas = _three_commits(tmp_path)
    assert {f.revision for f in ContentRepo(path).files_at(shas[0])} == {shas[0]}


def test_last_change_agrees_with_git_log_across_merges(tmp_path: Path) -> None:
    path = _merged_history(tmp_path)
    for f in ContentRepo(path).files_at():
        expected = git(path, "log", "-1", "--format=%H %cI", "main", "--", f.path)
        assert f"{f.revision} {f.updated_at.isoformat()}" == expected, f.path


def test_a_conflict_resolution_counts_as_a_change_by_the_merge(tmp_path: Path) -> None:
    path = _merged_history(tmp_path)
    files = {f.path: f for f in ContentRepo(path).files_at()}
    assert files["c.md"].updated_at == T0 + timedelta(days=3)
    assert files["b.md"].updated_at == T0 + timedelta(days=1)


def test_files_at_walks_history_once_for_all_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _merged_history(tmp_path)
    repo = ContentRepo(path)
    calls = _record_git(monkeypatch)
    assert len(repo.files_at()) == 4
    assert sum("log" in command for command in calls) == 1


def test_files_at_with_paths_reads_only_those_and_leaves_out_missing_ones(tmp_path: Path) -> None:
    path, shas = _three_commits(tmp_path)
    files = ContentRepo(path).files_at(shas[1], paths=["en/b.md", "en/c.md", "README.md", "en"])
    assert [(f.path, f.revision) for f in files] == [("README.md", shas[0]), ("en/b.md", shas[0])]


def test_files_at_with_paths_agrees_with_a_full_read(tmp_path: Path) -> None:
    path = _merged_history(tmp_path)
    repo = ContentRepo(path)
    everything = repo.files_at()
    for f in everything:
        assert repo.files_at(paths=[f.path]) == [f]
    assert repo.files_at(paths=[f.path for f in everything]) == everything


def test_files_at_with_a_dotdot_path_raises_invalid_path(tmp_path: Path) -> None:
    path, _ = _three_commits(tmp_path)
    with pytest.raises(InvalidPath):
        ContentRepo(path).files_at(paths=["en/../../secret.md"])


def test_files_at_skips_symlinks_and_submodules(tmp_path: Path) -> None:
    path, _ = _three_commits(tmp_path)
    os.symlink("/etc/passwd", path / "en/passwd.md")
    commit_files(path, {}, "Add a symlink")
    other = git(path, "rev-parse", "HEAD")
    git(path, "update-index", "--add", "--cacheinfo", f"160000,{other},vendor/lib")
    git(path, "commit", "--quiet", "-m", "Add a submodule")
    repo = ContentRepo(path)
    assert [f.path for f in repo.files_at()] == ["en/a.md", "en/b.md", "en/c.md"]
    assert repo.files_at(paths=["en/passwd.md", "vendor/lib"]) == []


def test_unusual_file_names_survive_the_history_walk(tmp_path: Path) -> None:
    path = init_repo(tmp_path / "content")
    names = ["ja/パスワード.md", "with space.md", ":colon.md", "line\nbreak.md", "a" * 40, "*.md"]
    first = commit_files(path, {name: name.encode() + b"\0binary" for name in names}, "Import")
    later = commit_files(path, {"other.md": "x\n"}, "Unrelated")
    files = ContentRepo(path).files_at()
    assert {f.path: f.revision for f in files} == {**{name: first for name in names}, "other.md": later}
    assert ContentRepo(path).files_at(paths=["*.md"])[0].data == b"*.md\0binary"


def test_changes_reports_added_modified_and_deleted(tmp_path: Path) -> None:
    path, shas = _three_commits(tmp_path)
    assert ContentRepo(path).changes(shas[0], shas[2]) == [
        Change("deleted", "README.md"),
        Change("modified", "en/a.md"),
        Change("added", "en/c.md"),
    ]


def test_changes_reports_a_rename_with_edits_as_renamed(tmp_path: Path) -> None:
    path = init_repo(tmp_path / "content")
    body = "".join(f"line {n}\n" for n in range(20))
    old = commit_files(path, {"en/reset.md": body})
    new = commit_files(
        path,
        {"en/account/reset-password.md": body + "one more line\n"},
        renames={"en/reset.md": "en/account/reset-password.md"},
    )
    assert ContentRepo(path).changes(old, new) == [Change("renamed", "en/account/reset-password.md", "en/reset.md")]


def test_changes_between_a_commit_and_itself_is_empty(tmp_path: Path) -> None:
    path, shas = _three_commits(tmp_path)
    assert ContentRepo(path).changes("main", shas[-1]) == []


def test_changes_sees_a_file_turned_into_a_symlink_as_deleted(tmp_path: Path) -> None:
    path, shas = _three_commits(tmp_path)
    (path / "en/b.md").unlink()
    os.symlink("a.md", path / "en/b.md")
    new = commit_files(path, {}, "Link b to a")
    assert ContentRepo(path).changes(shas[-1], new) == [Change("deleted", "en/b.md")]


def test_read_blob_returns_the_bytes_at_an_older_ref(tmp_path: Path) -> None:
    path, shas = _three_commits(tmp_path)
    repo = ContentRepo(path)
    assert repo.read_blob(shas[0], "en/a.md") == b"# A\n"
    assert repo.read_blob(None, "en/a.md") == b"# A v2\n"


def test_read_blob_of_a_missing_path_raises_file_not_found(tmp_path: Path) -> None:
    path, _ = _three_commits(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"README\.md"):
        ContentRepo(path).read_blob("main", "README.md")


def test_read_blob_rejects_dotdot_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = _three_commits(tmp_path)
    repo = ContentRepo(path)
    _forbid_git(monkeypatch)
    with pytest.raises(InvalidPath):
        repo.read_blob("main", "../content/en/a.md")
