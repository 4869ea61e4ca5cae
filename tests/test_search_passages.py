"""Passages: whole sentences holding the query's rarest words, widened to a size an agent can paste."""

from __future__ import annotations

import numpy as np

from search.passages import best_passage, sentence_spans
from search.snapshot import Matches

TEXT = (
    "Orbitly keeps every invoice for seven years. Open Billing › Invoices to see them. "
    "Each invoice downloads as a PDF. Receipts for card payments arrive by email."
)


def matches_of(text: str, words: dict[str, float]) -> Matches:
    """Every occurrence of ``words`` in ``text``, each word its own term id with the given IDF."""
    spans, ids, idf = [], [], []
    for number, (word, weight) in enumerate(words.items()):
        start = text.find(word)
        while start >= 0:
            spans.append((start, start + len(word)))
            ids.append(number)
            idf.append(weight)
            start = text.find(word, start + 1)
    order = np.argsort([s for s, _ in spans], kind="stable")
    return Matches(np.array(spans, dtype=np.int64).reshape(-1, 2)[order], np.array(ids)[order], np.array(idf)[order])


def test_sentences_end_at_stops_japanese_stops_and_line_breaks() -> None:
    text = "First one. Second one!\n- a list item\n請求書を開きます。PDFで保存できます。"
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "First one.", "Second one!", "- a list item", "請求書を開きます。", "PDFで保存できます。",
    ]  # fmt: skip


def test_the_passage_is_the_sentence_with_the_rarest_words_of_the_query() -> None:
    passage = best_passage(TEXT, matches_of(TEXT, {"invoice": 0.5, "PDF": 3.0}), max_chars=40)
    assert passage.text == "Each invoice downloads as a PDF."
    assert passage.matched == ("invoice", "PDF")


def test_a_passage_widens_to_the_following_sentences_first_within_its_size() -> None:
    passage = best_passage(TEXT, matches_of(TEXT, {"PDF": 3.0}), max_chars=90)
    assert passage.text == "Each invoice downloads as a PDF. Receipts for card payments arrive by email."


def test_a_hit_without_matched_words_offers_the_opening_of_its_section() -> None:
    passage = best_passage(TEXT, matches_of(TEXT, {}), max_chars=50)
    assert passage.text == "Orbitly keeps every invoice for seven years." and passage.matched == ()


def test_a_sentence_longer_than_a_passage_is_cut_at_a_word() -> None:
    text = "word " * 200
    passage = best_passage(text, matches_of(text, {}), max_chars=60)
    assert len(passage.text) <= 60 and passage.text.endswith("word")
