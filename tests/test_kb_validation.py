"""Rules across files: one article per (id, locale), translations sharing an id, effective audiences."""

from __future__ import annotations

from articles.parse import parse_article
from kb.access.published import select_articles, with_audience
from kb.access.rules import AccessRules


def article(path: str, article_id: str, title: str = "Title", audience: str | None = None):
    front = f"id: {article_id}\ntitle: {title}" + (f"\naudience: {audience}" if audience else "")
    return parse_article(path, f"---\n{front}\n---\n\nBody.\n".encode())


def test_duplicate_id_and_locale_keeps_the_first_path_and_reports_the_second() -> None:
    active, rejected = select_articles([article("en/z-copy.md", "reset"), article("en/a-reset.md", "reset")], AccessRules())
    assert [a.path for a in active] == ["en/a-reset.md"]
    assert [(e.path, e.field) for e in rejected] == [("en/z-copy.md", "id")]
    assert "en/a-reset.md" in rejected[0].reason


def test_translations_share_an_id_without_being_duplicates() -> None:
    active, rejected = select_articles([article("en/reset.md", "reset"), article("ja/reset.md", "reset")], AccessRules())
    assert sorted(a.key for a in active) == [("reset", "en"), ("reset", "ja")] and rejected == []


def test_front_matter_audience_wins_over_the_folder_default() -> None:
    rules = AccessRules(defaults=(("en/agents/*", "agents"),))
    assert with_audience(article("en/agents/a.md", "a", audience="public"), rules).audience == "public"
    assert with_audience(article("en/agents/b.md", "b"), rules).audience == "agents"
    assert with_audience(article("en/other/c.md", "c"), rules).audience == "public"
