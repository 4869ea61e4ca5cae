"""Creating the content repository from a plain folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.gitutil import commit_files, git, init_repo
from versioning.bootstrap import create_repo_from_folder


def _sample(tmp_path: Path) -> Path:
    source = tmp_path / "sample"
    (source / "en").mkdir(parents=True)
    (source / ".kb").mkdir()
    (source / "en/reset-password.md").write_text("---\nid: reset-password\n---\n# Reset\n")
    (source / ".kb/access.yml").write_text("default: public\n")
    return source


def test_bootstrap_creates_a_repository_with_one_commit_on_main(tmp_path: Path) -> None:
    repo = create_repo_from_folder(_sample(tmp_path), tmp_path / "content")
    assert repo.default_branch() == "main"
    assert git(repo.path, "rev-list", "--count", "main") == "1"
    assert [f.path for f in repo.files_at()] == [".kb/access.yml", "en/reset-password.md"]
    info = repo.commit_info("main")
    assert (info.author_name, info.author_email, info.summary) == ("kb", "kb@localhost", "Import sample help center")
    assert git(repo.path, "log", "-1", "--format=%cn <%ce>") == "kb <kb@localhost>"


def test_bootstrap_needs_no_git_identity_from_the_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    repo = create_repo_from_folder(_sample(tmp_path), tmp_path / "content", message="First import")
    assert repo.commit_info("main").summary == "First import"


def test_bootstrap_refuses_a_non_empty_destination_and_leaves_it_alone(tmp_path: Path) -> None:
    dest = tmp_path / "content"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine\n")
    with pytest.raises(FileExistsError, match="not an empty folder"):
        create_repo_from_folder(_sample(tmp_path), dest)
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]


def test_bootstrap_accepts_an_existing_empty_destination(tmp_path: Path) -> None:
    dest = tmp_path / "content"
    dest.mkdir()
    repo = create_repo_from_folder(_sample(tmp_path), dest)
    assert len(repo.files_at()) == 2


def test_bootstrap_leaves_out_the_source_git_folder(tmp_path: Path) -> None:
    source = _sample(tmp_path)
    init_repo(source)
    commit_files(source, {"old.md": "history that must not come along\n"}, "Source history")
    repo = create_repo_from_folder(source, tmp_path / "content")
    assert git(repo.path, "rev-list", "--count", "main") == "1"
    assert not any(f.path.startswith(".git/") for f in repo.files_at())
    assert "old.md" in {f.path for f in repo.files_at()}


def test_bootstrap_refuses_a_source_that_is_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        create_repo_from_folder(tmp_path / "missing", tmp_path / "content")
    assert not (tmp_path / "content").exists()
