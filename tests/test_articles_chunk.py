"""Chunking articles: one chunk per section, long sections split into overlapping windows that fit."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest

from articles.chunk import approximate_tokens, chunk_article
from articles.model import Article
from articles.parse import parse_article


def article(body: str, *, title: str = "Reset your password", path: str = "en/reset.md") -> Article:
    data = f"---\nid: reset\ntitle: {title}\n---\n{body}".encode()
    return parse_article(path, data, revision="rev1")


def sentences(count: int, prefix: str = "Step") -> str:
    return " ".join(f"{prefix} {i} is a sentence of eight words." for i in range(count))


JAPANESE = "".join(f"手順{i}ではパスワードの再設定方法を説明します。" for i in range(40))


def test_approximate_tokens_counts_words_punctuation_and_each_cjk_character() -> None:
    assert approximate_tokens("Reset your password.") == 4
    assert approximate_tokens("パスワード再設定") == 8
    assert approximate_tokens("Error E1234 が出る") == 5


def test_each_non_empty_section_becomes_one_chunk_with_its_anchor_and_path() -> None:
    chunks = chunk_article(article("Lead.\n\n## Steps\n\nClick.\n\n### Email\n\nCheck mail.\n\n## Empty\n"))
    assert [(c.anchor, c.heading_path, c.text) for c in chunks] == [
        ("", (), "Lead."),
        ("steps", ("Steps",), "Click."),
        ("email", ("Steps", "Email"), "Check mail."),
    ]


def test_chunks_carry_article_id_locale_title_and_revision() -> None:
    (chunk,) = chunk_article(article("Text.", path="ja/reset.md"))
    assert (chunk.article_id, chunk.locale, chunk.revision) == ("reset", "ja", "rev1")
    assert chunk.title == "Reset your password"


def test_article_without_text_gets_one_chunk_holding_its_title() -> None:
    (chunk,) = chunk_article(article("## Only a heading\n"))
    assert (chunk.anchor, chunk.heading_path, chunk.text) == ("", (), "")
    assert chunk.embed_text == "Reset your password"


def test_long_section_is_split_into_windows_that_fit_counted_on_embed_text() -> None:
    chunks = chunk_article(article(f"## Steps\n\n{sentences(30)}\n"), max_tokens=40, overlap_tokens=10)
    assert len(chunks) > 3
    assert all(approximate_tokens(c.embed_text) <= 40 for c in chunks)


def test_every_window_keeps_the_section_anchor_and_heading_path() -> None:
    chunks = chunk_article(article(f"## Steps\n\n### Email\n\n{sentences(30)}\n"), max_tokens=40, overlap_tokens=10)
    assert {(c.anchor, c.heading_path) for c in chunks} == {("email", ("Steps", "Email"))}


def test_consecutive_windows_overlap_by_whole_sentences() -> None:
    chunks = chunk_article(article(f"## Steps\n\n{sentences(30)}\n"), max_tokens=40, overlap_tokens=10)
    for previous, following in pairwise(chunks):
        first_sentence = following.text.split(". ")[0] + "."
        assert previous.text.endswith(first_sentence)
        assert following.text.startswith("Step ")


def test_windows_cover_all_the_text_in_order() -> None:
    text = sentences(30)
    chunks = chunk_article(article(f"## Steps\n\n{text}\n"), max_tokens=40, overlap_tokens=10)
    seen = [int(n) for c in chunks for n in re.findall(r"Step (\d+)", c.text)]
    assert sorted(set(seen)) == list(range(30))
    assert seen == sorted(seen)


def test_paragraphs_that_fit_are_kept_whole() -> None:
    paragraphs = [sentences(3, prefix=f"P{p}") for p in range(6)]
    chunks = chunk_article(article("## Steps\n\n" + "\n\n".join(paragraphs)), max_tokens=60, overlap_tokens=8)
    assert len(chunks) > 1
    for chunk in chunks:
        for paragraph in paragraphs:
            if paragraph[:20] in chunk.text:
                assert paragraph in chunk.text, "a window cut a paragraph that fits"


def test_japanese_long_text_is_split_on_sentence_ends() -> None:
    chunks = chunk_article(article(f"## 再設定\n\n{JAPANESE}\n", path="ja/reset.md"), max_tokens=80, overlap_tokens=25)
    assert len(chunks) > 3
    assert all(c.text.startswith("手順") and c.text.endswith("。") for c in chunks)
    assert all(approximate_tokens(c.embed_text) <= 80 for c in chunks)


def test_japanese_windows_overlap_by_a_sentence() -> None:
    chunks = chunk_article(article(f"## 再設定\n\n{JAPANESE}\n", path="ja/reset.md"), max_tokens=80, overlap_tokens=25)
    for previous, following in pairwise(chunks):
        first_sentence = following.text.split("。")[0] + "。"
        assert previous.text.endswith(first_sentence)


def test_text_without_any_boundary_is_split_hard() -> None:
    chunks = chunk_article(article("## Key\n\n" + "x" * 500), max_tokens=60, overlap_tokens=10, count_tokens=len)
    assert len(chunks) > 5
    assert all(len(c.embed_text) <= 60 for c in chunks)
    assert "".join(c.text for c in chunks).count("x") >= 500


def test_given_token_counter_is_the_one_that_decides() -> None:
    body = f"## Steps\n\n{sentences(4)}\n"
    assert len(chunk_article(article(body), max_tokens=200)) == 1
    assert len(chunk_article(article(body), max_tokens=200, count_tokens=lambda text: 4 * len(text))) > 1


def test_overlap_must_be_smaller_than_the_window() -> None:
    with pytest.raises(ValueError, match="overlap_tokens"):
        chunk_article(article("Text."), max_tokens=32, overlap_tokens=32)
