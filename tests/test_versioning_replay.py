"""A folder plus a written history becomes a repository whose commits are that history; a history that does not apply is refused."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.gitutil import git
from versioning import ContentRepo, RepositoryError
from versioning.bootstrap import create_repo_from_history
from versioning.replay import HistoryError, parse_history, read_folder, replay

AUTHORS = """
authors:
  ana: {name: Ana Lima, email: ana@example.com}
  ken: {name: Ken Ito, email: ken@example.com}
"""

# guide.md: added by the import with "ten days", edited to "five days", then moved under billing/
# with its link fixed; faq.md arrives in the second commit.
STORY = AUTHORS + """
commits:
  - date: 2026-04-01T09:00:00-07:00
    author: ana
    message: Import the articles
  - date: 2026-04-20T10:30:00+09:00
    author: ken
    message: |-
      Add the FAQ

      Asked for by the Tokyo team.
    add: [en/faq.md]
  - date: 2026-05-02T16:00:00+01:00
    author: ana
    message: "Refunds: five days, not ten"
    edit:
      en/guide.md:
        - before: take ten days
          after: take five days
  - date: 2026-06-10T11:15:00-07:00
    author: ana
    message: Move the guide under billing
    move: {en/guide.md: en/billing/guide.md}
    edit:
      en/billing/guide.md:
        - before: "[FAQ](faq.md)"
          after: "[FAQ](../faq.md)"
"""

GUIDE = "# Refunds\n\nRefunds take five days.\n\nSee the [FAQ](../faq.md).\n"


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "source"
    (folder / "en" / "billing").mkdir(parents=True)
    (folder / "en" / "billing" / "guide.md").write_text(GUIDE)
    (folder / "en" / "faq.md").write_text("# FAQ\n\nアカウントについて。\n")
    (folder / ".kb").mkdir()
    (folder / ".kb" / "access.yml").write_text("defaults: []\n")
    return folder


def _history(tmp_path: Path, text: str = STORY) -> Path:
    path = tmp_path / "history.yml"
    path.write_text(textwrap.dedent(text))
    return path


def _build(tmp_path: Path, text: str = STORY) -> ContentRepo:
    return create_repo_from_history(_folder(tmp_path), tmp_path / "content", history=_history(tmp_path, text))


def _log(repo: ContentRepo, fmt: str) -> list[str]:
    return git(repo.path, "log", "--reverse", f"--format={fmt}").splitlines()


def _error(tmp_path: Path, text: str) -> str:
    dest = tmp_path / "content"
    with pytest.raises(HistoryError) as raised:
        create_repo_from_history(_folder(tmp_path), dest, history=_history(tmp_path, text))
    assert not dest.exists()
    return str(raised.value)


def test_each_commit_carries_its_writer_as_author_and_committer(tmp_path: Path) -> None:
    repo = _build(tmp_path)
    assert _log(repo, "%an <%ae>") == ["Ana Lima <ana@example.com>", "Ken Ito <ken@example.com>"] + ["Ana Lima <ana@example.com>"] * 2
    assert _log(repo, "%an %ae") == _log(repo, "%cn %ce")


def test_each_commit_keeps_its_date_and_utc_offset(tmp_path: Path) -> None:
    repo = _build(tmp_path)
    dates = ["2026-04-01T09:00:00-07:00", "2026-04-20T10:30:00+09:00", "2026-05-02T16:00:00+01:00", "2026-06-10T11:15:00-07:00"]
    assert _log(repo, "%aI") == dates
    assert _log(repo, "%cI") == dates


def test_the_commit_message_is_kept_whole(tmp_path: Path) -> None:
    repo = _build(tmp_path)
    assert [r.message for r in repo.history("en/faq.md")] == ["Add the FAQ\n\nAsked for by the Tokyo team."]


def test_the_last_commit_is_the_folder_byte_for_byte(tmp_path: Path) -> None:
    repo = _build(tmp_path)
    assert {f.path: f.data for f in repo.files_at("main")} == read_folder(tmp_path / "source")
    assert git(repo.path, "status", "--porcelain") == ""


def test_files_no_commit_adds_arrive_with_the_first_commit(tmp_path: Path) -> None:
    repo = _build(tmp_path)
    assert [f.path for f in repo.files_at(repo.first_commit())] == [".kb/access.yml", "en/guide.md"]


def test_an_added_file_appears_in_its_commit(tmp_path: Path) -> None:
    repo = _build(tmp_path)
    first, second = git(repo.path, "rev-list", "--reverse", "main").split()[:2]
    assert [c.path for c in repo.changes(first, second)] == ["en/faq.md"]


def test_earlier_commits_hold_the_text_before_each_edit(tmp_path: Path) -> None:
    repo = _build(tmp_path)
    first = repo.first_commit()
    assert repo.read_blob(first, "en/guide.md").decode() == "# Refunds\n\nRefunds take ten days.\n\nSee the [FAQ](faq.md).\n"


def test_a_move_with_an_edit_is_followed_as_a_rename(tmp_path: Path) -> None:
    repo = _build(tmp_path)
    history = list(repo.history("en/billing/guide.md"))
    assert [(r.kind, r.path) for r in history] == [
        ("renamed", "en/billing/guide.md"), ("modified", "en/guide.md"), ("added", "en/guide.md")
    ]


def test_replay_needs_no_git_identity_and_ignores_global_hooks_and_signing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "pre-commit").write_text("#!/bin/sh\nexit 1\n")
    (hooks / "pre-commit").chmod(0o755)
    config = tmp_path / "gitconfig"
    config.write_text(f"[core]\n\thooksPath = {hooks}\n[commit]\n\tgpgSign = true\n[gpg]\n\tprogram = /bin/false\n")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    assert len(_log(_build(tmp_path), "%H")) == 4


def test_replay_refuses_a_non_empty_destination_and_leaves_it_alone(tmp_path: Path) -> None:
    dest = tmp_path / "content"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine\n")
    with pytest.raises(FileExistsError, match="not an empty folder"):
        create_repo_from_history(_folder(tmp_path), dest, history=_history(tmp_path))
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]


def test_an_edit_whose_text_is_not_in_the_file_names_the_commit_and_file(tmp_path: Path) -> None:
    message = _error(tmp_path, STORY.replace("after: take five days", "after: take six days"))
    assert "commit 3 (2026-05-02T16:00:00+01:00, 'Refunds: five days, not ten')" in message
    assert "en/guide.md: edit 1: the text after it, 'take six days', is not in the file" in message


def test_an_edit_whose_before_text_is_ambiguous_names_the_commit_and_file(tmp_path: Path) -> None:
    # Undone, "Refunds take" becomes "Refunds"; read forward, "Refunds" is then in the file twice.
    text = STORY.replace("before: take ten days\n          after: take five days", "before: Refunds\n          after: Refunds take")
    message = _error(tmp_path, text.replace("Refunds: five days, not ten", "Reword"))
    assert "commit 3 (2026-05-02T16:00:00+01:00, 'Reword')" in message
    assert "en/guide.md: edit 1: the text before it, 'Refunds', occurs 2 times in the file before this commit" in message


def test_an_edit_of_a_file_that_does_not_exist_names_the_commit_and_file(tmp_path: Path) -> None:
    message = _error(tmp_path, STORY.replace("      en/guide.md:\n", "      en/gide.md:\n"))
    assert "commit 3 (2026-05-02T16:00:00+01:00, 'Refunds: five days, not ten'): edited en/gide.md: no such file" in message


def test_adding_a_file_the_folder_does_not_have_names_the_commit_and_file(tmp_path: Path) -> None:
    message = _error(tmp_path, STORY.replace("add: [en/faq.md]", "add: [en/faq.md, en/missing.md]"))
    assert "commit 2 (2026-04-20T10:30:00+09:00, 'Add the FAQ'): added en/missing.md: no such file" in message


def test_a_date_out_of_order_names_the_commit(tmp_path: Path) -> None:
    message = _error(tmp_path, STORY.replace("2026-05-02T16:00:00+01:00", "2026-04-20T01:00:00+00:00"))
    assert message.startswith("commit 3 (2026-04-20T01:00:00+00:00, 'Refunds: five days, not ten'): its date is not after")
    assert "commit 2's (2026-04-20T10:30:00+09:00)" in message


def test_a_date_without_a_utc_offset_is_refused_where_it_is(tmp_path: Path) -> None:
    message = _error(tmp_path, STORY.replace("2026-05-02T16:00:00+01:00", "2026-05-02T16:00:00"))
    assert "commit 3 (2026-05-02T16:00:00, 'Refunds: five days, not ten') › date: Input should have timezone info" in message


def test_a_malformed_history_lists_every_problem_with_its_place(tmp_path: Path) -> None:
    text = STORY.replace("          after: take five days\n", "").replace("author: ken\n", "author: ken\n    reviewer: ana\n")
    message = _error(tmp_path, text)
    assert "2 problem(s)" in message
    assert "commit 2 (2026-04-20T10:30:00+09:00, 'Add the FAQ') › reviewer: Extra inputs are not permitted" in message
    assert "commit 3 (2026-05-02T16:00:00+01:00, 'Refunds: five days, not ten') › edit › en/guide.md › 1 › after: Field required" in message


def test_an_unknown_author_is_named(tmp_path: Path) -> None:
    message = _error(tmp_path, STORY.replace("author: ken", "author: kenji"))
    assert "commit 2 (2026-04-20T10:30:00+09:00, 'Add the FAQ'): author 'kenji' is not among the authors (ana, ken)" in message


@pytest.mark.parametrize("path", ["../outside.md", "/etc/passwd", "en/./faq.md", ".git/config", "en\\faq.md"])
def test_a_path_that_could_leave_the_repository_is_refused(tmp_path: Path, path: str) -> None:
    message = _error(tmp_path, STORY.replace("add: [en/faq.md]", f"add: ['{path}']"))
    assert "commit 2 (2026-04-20T10:30:00+09:00, 'Add the FAQ') › add › 1: Value error, invalid path" in message


def test_a_first_commit_with_edits_is_refused(tmp_path: Path) -> None:
    text = STORY.replace("message: Import the articles\n", "message: Import the articles\n    edit: {en/faq.md: [{before: a, after: b}]}\n")
    assert "commit 1 (2026-04-01T09:00:00-07:00, 'Import the articles'): the first commit can only add files" in _error(tmp_path, text)


def test_a_commit_git_refuses_leaves_no_half_made_repository(tmp_path: Path) -> None:
    # Git takes dates up to 2099 only: the first commits are made, then the last one fails.
    folder, history = _folder(tmp_path), _history(tmp_path, STORY.replace("2026-06-10T11:15:00-07:00", "2206-06-10T11:15:00-07:00"))
    for existed in (False, True):
        dest = tmp_path / f"content-{existed}"
        if existed:
            dest.mkdir()
        with pytest.raises(RepositoryError, match=r"could not make commit 4 \(2206-06-10T11:15:00-07:00, 'Move the guide under billing'\)"):
            create_repo_from_history(folder, dest, history=history)
        assert dest.exists() == existed and not (existed and any(dest.iterdir()))


def test_a_path_that_is_both_a_file_and_a_folder_names_the_commit(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "notes.md").write_text("notes\n")
    text = STORY + """
  - date: 2026-07-01T09:00:00Z
    author: ken
    message: Rename the notes
    move: {en: notes.md}
"""
    dest = tmp_path / "content"
    expected = r"commit 5 \(2026-07-01T09:00:00\+00:00, 'Rename the notes'\): en would be both a file and a folder before this commit"
    with pytest.raises(HistoryError, match=expected):
        create_repo_from_history(folder, dest, history=_history(tmp_path, text))
    assert not dest.exists()


def test_replaying_in_memory_gives_every_commits_tree(tmp_path: Path) -> None:
    steps = replay(parse_history(textwrap.dedent(STORY)), read_folder(_folder(tmp_path)))
    assert [sorted(step.tree) for step in steps] == [
        [".kb/access.yml", "en/guide.md"],
        [".kb/access.yml", "en/faq.md", "en/guide.md"],
        [".kb/access.yml", "en/faq.md", "en/guide.md"],
        [".kb/access.yml", "en/billing/guide.md", "en/faq.md"],
    ]
    assert steps[-1].commit.date - steps[0].commit.date == timedelta(days=70, hours=2, minutes=15)
    assert steps[1].commit.date.utcoffset() == timedelta(hours=9) and steps[1].author.name == "Ken Ito"
    assert steps[0].commit.date.astimezone(UTC) == datetime(2026, 4, 1, 16, 0, tzinfo=UTC)


def test_environment_of_the_caller_does_not_change_the_commits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2000-01-01T00:00:00Z")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Someone Else")
    repo = _build(tmp_path)
    assert _log(repo, "%cn")[0] == "Ana Lima" and _log(repo, "%aI")[0] == "2026-04-01T09:00:00-07:00"


def test_a_folder_with_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "en" / "shared").symlink_to(tmp_path)
    with pytest.raises(HistoryError, match="en/shared is not a regular file"):
        create_repo_from_history(folder, tmp_path / "content", history=_history(tmp_path))
    assert not (tmp_path / "content").exists()
