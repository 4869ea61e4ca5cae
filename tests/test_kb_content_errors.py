"""Broken content is reported with path, field and reason, and never stops the rest from being indexed."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.access.rules import PUBLIC
from tests.conftest import article_text
from tests.gitutil import commit_files

GOOD = article_text("good", "Working article", "## Steps\n\nThis one is fine.")

BROKEN: dict[str, tuple[str | bytes, str]] = {
    "en/bad-yaml.md": ("---\nid: bad-yaml\ntitle: [unclosed\n---\n\nBody.\n", "front matter"),
    "en/no-id.md": ("---\ntitle: No id here\n---\n\nBody.\n", "id"),
    "en/no-title.md": ("---\nid: no-title\n---\n\nBody.\n", "title"),
    "en/bad-audience.md": (article_text("bad-audience", "Bad audience", "Body.", audience="everyone"), "audience"),
    "en/latin1.md": ("---\nid: latin1\ntitle: Caf\xe9\n---\n\nBody.\n".encode("latin-1"), "encoding"),
    "en/binary.md": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "content"),
    "en/zz-duplicate.md": (article_text("good", "Same id again", "Body."), "id"),
}


@pytest.mark.parametrize("path", sorted(BROKEN))
def test_broken_article_is_reported_with_its_path_and_field(content_repo: Path, make_kb, path: str) -> None:
    content, field = BROKEN[path]
    commit_files(content_repo, {"en/good.md": GOOD, path: content})
    kb = make_kb(content_repo)
    errors = {error.path: error for error in kb.snapshot.errors}
    assert errors[path].field == field
    assert errors[path].reason


def test_every_valid_article_is_indexed_beside_broken_ones(content_repo: Path, make_kb) -> None:
    commit_files(content_repo, {"en/good.md": GOOD, **{path: content for path, (content, _) in BROKEN.items()}})
    kb = make_kb(content_repo)
    assert {e.path for e in kb.snapshot.errors} == set(BROKEN)
    assert {a.id for a in kb.snapshot.articles} == {"good", "start"}


def test_fixing_a_broken_article_brings_it_in_on_the_next_refresh(content_repo: Path, make_kb) -> None:
    commit_files(content_repo, {"en/no-id.md": BROKEN["en/no-id.md"][0]})
    kb = make_kb(content_repo)
    commit_files(content_repo, {"en/no-id.md": article_text("now-valid", "No id here", "Body.")})
    kb.refresh()
    assert kb.snapshot.errors == []
    assert kb.article("now-valid", locale="en", view=PUBLIC) is not None


def test_folder_default_from_access_file_hides_internal_articles(content_repo: Path, make_kb) -> None:
    commit_files(content_repo, {
        ".kb/access.yml": 'defaults:\n  - path: "en/internal/*"\n    audience: agents\n',
        "en/internal/playbook.md": article_text("playbook", "Refund playbook", "Approve up to 500."),
    })
    kb = make_kb(content_repo)
    assert kb.snapshot.article("playbook", "en").audience == "agents"
    assert kb.article("playbook", locale="en", view=PUBLIC) is None


def test_broken_access_file_fails_closed_and_is_reported(content_repo: Path, make_kb) -> None:
    commit_files(content_repo, {
        ".kb/access.yml": "defaults: [unclosed\n",
        "en/internal/playbook.md": article_text("playbook", "Refund playbook", "Approve up to 500."),
    })
    kb = make_kb(content_repo)
    assert [e.path for e in kb.snapshot.errors] == [".kb/access.yml"]
    assert kb.article("playbook", locale="en", view=PUBLIC) is None
    assert kb.article("start", locale="en", view=PUBLIC) is None


def test_changing_the_access_file_reapplies_audiences_without_reembedding(content_repo: Path, make_kb, encoder) -> None:
    commit_files(content_repo, {"en/internal/playbook.md": article_text("playbook", "Refund playbook", "Approve.")})
    kb = make_kb(content_repo)
    assert kb.article("playbook", locale="en", view=PUBLIC) is not None
    encoder.inputs.clear()
    commit_files(content_repo, {".kb/access.yml": 'defaults:\n  - path: "en/internal/*"\n    audience: agents\n'})
    kb.refresh()
    assert kb.article("playbook", locale="en", view=PUBLIC) is None
    assert encoder.inputs == []


def test_article_restricted_to_an_undeclared_segment_is_reported(content_repo: Path, make_kb) -> None:
    commit_files(content_repo, {
        ".kb/access.yml": "segments:\n  enterprise: Enterprise plan\n",
        "en/vip.md": article_text("vip", "VIP desk", "Call us.", audience="[enterprize]"),
    })
    kb = make_kb(content_repo)
    assert [(e.path, e.field) for e in kb.snapshot.errors] == [("en/vip.md", "audience")]
    assert "enterprize" in kb.snapshot.errors[0].reason
