"""The similarity rule on real edits: citations taken before the sample help center's own history changed them."""

from __future__ import annotations

from pathlib import Path

import pytest

from articles.parse import parse_article
from kb.access import STAFF
from kb.assist import CitationRef, resolve_citation
from kb.assist.citations import CHANGED_MIN_SIMILARITY
from kb.core import KnowledgeBase, Settings
from tests.gitutil import git
from versioning import ContentRepo


def cited_before_it_went(repo_path: Path, quote: str) -> CitationRef:
    """A citation of ``quote`` as kb gave it just before the commit that edited it away (found with ``git log -S``)."""
    edit = git(repo_path, "log", "-1", "--format=%H", "-S", quote)
    path = git(repo_path, "log", "-1", "--format=", "--name-only", "-S", quote)
    revision = git(repo_path, "log", "-1", "--format=%H", f"{edit}~1", "--", path)
    with ContentRepo(repo_path) as repo:
        article = parse_article(path, repo.read_blob(revision, path))
    anchor = next(section.anchor for section in article.sections if quote in section.text)
    return CitationRef(article_id=article.id, locale=article.locale, anchor=anchor, revision=revision, quote=quote)


@pytest.mark.parametrize(("quote", "now"), [
    ("Reset links are valid for 24 hours and can be used once.", "Reset links are valid for 60 minutes and can be used once."),
    ("古い URL は 90 日間、新しい URL にリダイレクトされますが、"
     "その後はブックマークや古いアドレスを使っている連携が動作しなくなるため、早めに更新してください。",
     "古い URL は 90 日間は新しい URL に転送されますが、"
     "その後はブックマークや古いアドレスを使っている連携が動作しなくなるため、早めに更新してください。"),
])  # fmt: skip
def test_a_sentence_the_sample_history_edited_is_changed_to_its_new_text(
    sample_kb: KnowledgeBase, sample_settings: Settings, quote: str, now: str
) -> None:
    ref = cited_before_it_went(sample_settings.content_path, quote)
    resolution = resolve_citation(sample_kb, ref, view=STAFF)
    assert resolution is not None and resolution.place is not None
    assert (resolution.status, resolution.verified, resolution.place.text) == ("changed", True, now)
    assert CHANGED_MIN_SIMILARITY <= resolution.place.similarity < 1


def test_a_sentence_the_sample_history_removed_is_gone(sample_kb: KnowledgeBase, sample_settings: Settings) -> None:
    """2FA lost its SMS row; the nearest new text ("Orbitly does not send codes by SMS.") is not its edit."""
    ref = cited_before_it_went(sample_settings.content_path, "A phone number that can receive texts")
    resolution = resolve_citation(sample_kb, ref, view=STAFF)
    assert resolution is not None
    assert (resolution.status, resolution.verified, resolution.place) == ("gone", True, None)
