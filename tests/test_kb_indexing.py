"""Indexing a content repository: what is embedded, what is reused, what is skipped and why."""

from __future__ import annotations

import threading
from pathlib import Path

from kb.access.rules import PUBLIC
from kb.core.requests import SearchRequest
from search.fields import document_text
from tests.conftest import article_text
from tests.gitutil import commit_files

GUIDE = article_text(
    "guide",
    "Billing guide",
    """
Everything about invoices.

## Invoices

Download invoices from the billing page.

## Refunds

Refunds are processed within ten days.
""",
)
OTHER = article_text("other", "Team setup", "## Members\n\nInvite members by email.\n\n## Roles\n\nAdmins manage roles.")


def search_ids(kb, query: str, **options) -> list[str]:
    response = kb.search(SearchRequest(query=query, **options), view=PUBLIC)
    return [hit.article.id for hit in response.results.hits]


def test_first_index_embeds_every_chunk_and_each_article_of_several_chunks_whole_once(content_repo: Path, make_kb, encoder) -> None:
    one_section = article_text("short", "Short", "Just one paragraph.")
    commit_files(content_repo, {"en/guide.md": GUIDE, "en/short.md": one_section})
    kb = make_kb(content_repo)
    guide = kb.snapshot.article("guide", "en")
    assert len(encoder.inputs) == len(kb.snapshot.chunks) + 1  # the guide whole; the short article is its one chunk
    assert len(set(encoder.inputs)) == len(encoder.inputs)
    assert document_text(guide, kb.snapshot.entries[0].chunks) in encoder.inputs


def test_texts_to_embed_are_what_a_full_build_embeds_without_calling_the_model(
    content_repo: Path, make_kb, encoder
) -> None:
    commit_files(content_repo, {"en/guide.md": GUIDE, "en/other.md": OTHER, "en/broken.md": "no front matter"})
    kb = make_kb(content_repo)
    encoder.inputs.clear()
    texts = kb.indexer.texts_to_embed(kb.repo.resolve())
    assert encoder.inputs == []
    wholes = [document_text(entry.article, entry.chunks) for entry in kb.snapshot.entries]
    assert texts == [chunk.embed_text for chunk in kb.snapshot.chunks] + [text for text in wholes if text is not None]


def test_the_report_says_how_much_of_a_build_the_model_took(content_repo: Path, make_kb) -> None:
    commit_files(content_repo, {"en/guide.md": GUIDE})
    kb = make_kb(content_repo)
    first = kb.refresh(previous=None)  # every chunk from the cache: the model is not called
    assert first.model_seconds == 0 and first.embedded == 0
    commit_files(content_repo, {"en/guide.md": GUIDE.replace("ten days", "two weeks")})
    second = kb.refresh()
    assert second.embedded == 2 and 0 < second.model_seconds < second.seconds  # the section and the article whole


def test_editing_one_section_reembeds_only_that_chunk_and_its_article_whole(content_repo: Path, make_kb, encoder) -> None:
    commit_files(content_repo, {"en/guide.md": GUIDE, "en/other.md": OTHER})
    kb = make_kb(content_repo)
    encoder.inputs.clear()
    commit_files(content_repo, {"en/guide.md": GUIDE.replace("within ten days", "within five business days")})
    report = kb.refresh()
    assert report.incremental
    assert report.parsed == 1
    assert len(encoder.inputs) == 2 and all("five business days" in text for text in encoder.inputs)
    assert report.embedded == 2 and report.cached == len(kb.snapshot.article("guide", "en").sections) - 1


def test_edited_text_is_searchable_after_refresh(content_repo: Path, make_kb) -> None:
    commit_files(content_repo, {"en/guide.md": GUIDE})
    kb = make_kb(content_repo)
    commit_files(content_repo, {"en/guide.md": GUIDE.replace("ten days", "ten days via the quokka portal")})
    kb.refresh()
    assert search_ids(kb, "quokka", mode="keyword") == ["guide"]


def test_restart_reuses_the_saved_snapshot_without_embedding(content_repo: Path, make_kb, encoder) -> None:
    commit_files(content_repo, {"en/guide.md": GUIDE})
    first = make_kb(content_repo)
    encoder.inputs.clear()
    second = make_kb(content_repo)
    assert encoder.inputs == []
    assert second.snapshot.commit == first.snapshot.commit
    assert [c.text for c in second.snapshot.chunks] == [c.text for c in first.snapshot.chunks]


def test_restart_after_a_new_commit_updates_from_the_diff(content_repo: Path, make_kb, encoder) -> None:
    commit_files(content_repo, {"en/guide.md": GUIDE, "en/other.md": OTHER})
    make_kb(content_repo)
    commit_files(content_repo, {"en/other.md": OTHER.replace("by email", "by email or link")})
    encoder.inputs.clear()
    kb = make_kb(content_repo)
    other = kb.snapshot.entries[[e.article.id for e in kb.snapshot.entries].index("other")]
    changed = [c.embed_text for c in other.chunks if "or link" in c.text]
    assert sorted(encoder.inputs) == sorted([*changed, document_text(other.article, other.chunks)])


def test_deleted_article_leaves_search_and_lookup(content_repo: Path, make_kb) -> None:
    commit_files(content_repo, {"en/guide.md": GUIDE, "en/other.md": OTHER})
    kb = make_kb(content_repo)
    commit_files(content_repo, {"en/guide.md": None})
    kb.refresh()
    assert "guide" not in search_ids(kb, "invoices refunds", mode="keyword")
    assert kb.article("guide", locale="en", view=PUBLIC) is None


def test_renamed_article_keeps_its_id_and_is_not_reembedded(content_repo: Path, make_kb, encoder) -> None:
    commit_files(content_repo, {"en/guide.md": GUIDE})
    kb = make_kb(content_repo)
    encoder.inputs.clear()
    commit_files(content_repo, {}, renames={"en/guide.md": "en/billing/guide.md"})
    kb.refresh()
    assert kb.snapshot.article("guide", "en").path == "en/billing/guide.md"
    assert encoder.inputs == []


def test_every_article_knows_the_commit_that_last_changed_it(content_repo: Path, make_kb) -> None:
    first = commit_files(content_repo, {"en/guide.md": GUIDE})
    second = commit_files(content_repo, {"en/other.md": OTHER})
    kb = make_kb(content_repo)
    assert kb.snapshot.article("guide", "en").revision == first
    assert kb.snapshot.article("other", "en").revision == second
    assert kb.snapshot.commit == second


def test_deleting_the_first_of_two_duplicates_brings_in_the_second(content_repo: Path, make_kb) -> None:
    duplicate = GUIDE.replace("Billing guide", "Second billing guide")
    commit_files(content_repo, {"en/a.md": GUIDE, "en/b.md": duplicate})
    kb = make_kb(content_repo)
    assert kb.snapshot.article("guide", "en").path == "en/a.md"
    assert [(e.path, e.field) for e in kb.snapshot.errors] == [("en/b.md", "id")]
    commit_files(content_repo, {"en/a.md": None})
    kb.refresh()
    assert kb.snapshot.article("guide", "en").path == "en/b.md"
    assert kb.snapshot.errors == []


def test_searches_during_a_reindex_see_one_whole_snapshot(content_repo: Path, make_kb) -> None:
    commit_files(content_repo, {"en/guide.md": GUIDE})
    kb = make_kb(content_repo)
    old = kb.snapshot.commit
    new = commit_files(content_repo, {"en/other.md": OTHER})
    seen: list[tuple[str, list[str]]] = []
    failures: list[BaseException] = []

    def search_repeatedly() -> None:
        try:
            for _ in range(30):
                response = kb.search(SearchRequest(query="members", mode="keyword"), view=PUBLIC)
                seen.append((response.commit, [h.article.id for h in response.results.hits]))
        except BaseException as error:  # noqa: BLE001 - surfaced below: a thread's exception would otherwise vanish
            failures.append(error)

    searcher = threading.Thread(target=search_repeatedly)
    searcher.start()
    kb.refresh()
    searcher.join()
    assert failures == []
    assert {commit for commit, _ in seen} <= {old, new}
    assert all(ids == (["other"] if commit == new else []) for commit, ids in seen)


def test_a_repeated_query_is_not_encoded_again(content_repo: Path, make_kb, encoder) -> None:
    kb = make_kb(content_repo)
    encoder.inputs.clear()
    for _ in range(3):
        kb.search(SearchRequest(query="create a workspace"), view=PUBLIC)
    assert encoder.inputs == ["create a workspace"]


def test_query_cache_can_be_turned_off(content_repo: Path, make_kb, encoder) -> None:
    kb = make_kb(content_repo, query_cache_size=0)
    encoder.inputs.clear()
    for _ in range(2):
        kb.search(SearchRequest(query="create a workspace"), view=PUBLIC)
    assert encoder.inputs == ["create a workspace"] * 2


def test_keyword_search_never_calls_the_model(content_repo: Path, make_kb, encoder) -> None:
    kb = make_kb(content_repo)
    encoder.inputs.clear()
    kb.search(SearchRequest(query="workspace", mode="keyword"), view=PUBLIC)
    assert encoder.inputs == []


def test_japanese_hybrid_query_skips_the_english_only_model(content_repo: Path, make_kb, encoder) -> None:
    body = "## 請求書\n\n請求書は請求ページからダウンロードできます。"
    commit_files(content_repo, {"ja/guide.md": article_text("guide", "請求ガイド", body)})
    kb = make_kb(content_repo)
    encoder.inputs.clear()
    assert search_ids(kb, "請求書のダウンロード", locale="ja") == ["guide"]
    assert encoder.inputs == []
