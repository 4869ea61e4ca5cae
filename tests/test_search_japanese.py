"""Japanese character pairs held to their words: no result, score or highlight from a pair inside another word."""

from __future__ import annotations

import re

import numpy as np
import pytest

from kb.access.rules import PUBLIC
from kb.core.requests import MAX_LIMIT, SearchRequest
from search import pairs
from search.analyze import Analyzer, Word
from search.lexical import LexicalIndex
from search.pairs import Holders
from tests.conftest import article_text
from tests.gitutil import commit_files

ANALYZER = Analyzer()
MARK = re.compile(r"<mark>(.*?)</mark>")


def search(kb, query: str, **options):
    return kb.search(SearchRequest(query=query, locale="ja", limit=MAX_LIMIT, **options), view=PUBLIC).results


def whole_text(article) -> str:
    sections = (" ".join((*section.heading_path, section.text)) for section in article.sections)
    return " ".join((article.title, *article.front.keywords, *sections))


def test_searching_a_word_lists_no_article_that_holds_only_pieces_of_it(sample_kb) -> None:
    """ワー and ード of パスワード stand in ワークスペース and コード all over the sample: those articles are no results."""
    results = search(sample_kb, "パスワード")
    assert results.hits and results.total == len(results.hits)
    assert [hit.article.id for hit in results.hits if "パスワード" not in whole_text(hit.article)] == []


def test_no_snippet_marks_a_piece_of_another_word(sample_kb) -> None:
    marks = [mark for hit in search(sample_kb, "パスワード").hits for mark in MARK.findall(hit.snippet)]
    assert marks and set(marks) == {"パスワード"}


def test_a_query_whose_only_matches_are_pieces_of_words_gets_no_results(sample_kb) -> None:
    """"Working holiday": ワー stands in ワークスペース, ング in シングル; neither word is anywhere in the sample."""
    assert search(sample_kb, "ワーキングホリデー", mode="keyword").total == 0


def test_a_word_written_inside_a_longer_word_is_found_and_marked_whole(make_kb, content_repo) -> None:
    """セキュリティキー inside ハードウェアセキュリティキー (one word to Sudachi) is the query's word; セキュリティ
    and キー apart, in another article, are pieces of it."""
    commit_files(content_repo, {
        "ja/hardware.md": article_text("hardware", "鍵の登録", "ハードウェアセキュリティキーを登録します。", locale="ja"),
        "ja/keyboard.md": article_text("keyboard", "入力", "キーボードのセキュリティ設定を開きます。", locale="ja"),
    })  # fmt: skip
    results = search(make_kb(content_repo), "セキュリティキー")
    assert [hit.article.id for hit in results.hits] == ["hardware"]
    assert results.hits[0].snippet == "ハードウェア<mark>セキュリティキー</mark>を登録します。"


def index_of(*texts: str) -> LexicalIndex:
    return LexicalIndex([ANALYZER.analyze(text) for text in texts])


def test_a_document_holding_only_pieces_of_the_query_words_scores_nothing() -> None:
    index = index_of("パスワードを再設定します。", "ワークスペースのコードを確認します。", "請求書を開きます。")
    query = ANALYZER.query("パスワード")
    held = index.scores(query.terms, weights=query.weights, needs=query.needs)
    assert index.scores(query.terms)[1] > 0 and held[1] == 0 and held[0] > 0


def test_where_the_query_words_stand_their_pairs_score_as_plain_bm25() -> None:
    """The oracle: in a document holding every word of the query, holding pairs to words changes nothing
    (the pairs of grammar alone left out of both: they count nowhere, the next test)."""
    index = index_of("パスワードを忘れたら再設定します。", "パスワードを忘れた場合の手順", "ワークスペースのコード")
    query = ANALYZER.query("パスワードを忘れました")
    kept = [(term, weight) for term, weight, need in zip(query.terms, query.weights, query.needs, strict=True) if need != ()]
    plain = index.scores([term for term, _ in kept], weights=[weight for _, weight in kept])
    held = index.scores(query.terms, weights=query.weights, needs=query.needs)
    np.testing.assert_allclose(held[:2], plain[:2], rtol=1e-6)
    assert plain[2] > 0 and held[2] == 0


def test_a_pair_of_particles_and_auxiliaries_alone_scores_nothing() -> None:
    """した and まし of 忘れました lie across no word of the query: grammar is no evidence of a topic."""
    index = index_of("設定を確認しました", "請求書を開きます")
    query = ANALYZER.query("パスワードを忘れました")
    assert index.scores(query.terms)[0] > 0 and index.scores(query.terms, needs=query.needs)[0] == 0


def test_a_pair_across_two_words_counts_where_either_word_stands() -> None:
    """階認 of 段階|認証 tells that the two stand together; in a document with neither it is a piece of other words."""
    query = ANALYZER.query("段階認証")
    needs = {term: need for term, need in zip(query.terms, query.needs, strict=True) if need}
    assert [word.term for word in needs["階認"]] == ["段階", "認証"]
    index = index_of("二段階認証を有効にします", "認証アプリ", "位階認定の段位")
    across = index.scores(["階認"], needs=[needs["階認"]])
    assert across[0] > 0 and across[1] == 0 and across[2] == 0


@pytest.mark.parametrize("cells", [pairs.COUNT_CELLS, 4])
def test_a_document_holds_a_word_by_its_term_or_every_pair_of_its_spelling(monkeypatch, cells: int) -> None:
    """Against the definition, read off each document's terms; with room for one (word, document) count at a time too."""
    monkeypatch.setattr(pairs, "COUNT_CELLS", cells)
    texts = ["パスワードを再設定", "ワンタイムパスワード", "ワークスペースのコード", "スワップ領域のパス", "請求書"]
    index = index_of(*texts)
    words = [Word("パスワード", ("パス", "スワ", "ワー", "ード")), Word("請求", ("請求",)), Word("何", ())]
    holders = Holders.read(index._postings_of, words)
    for number, text in enumerate(texts):
        terms = set(ANALYZER.analyze(text))
        for word in words:
            expected = word.term in terms or (bool(word.pairs) and set(word.pairs) <= terms)
            assert holders.matrix[holders.row[word], number] == expected, (text, word.term)


@pytest.mark.parametrize("turns", [("パスワードを忘れました", "ワークスペースに入れない"), ("E1042 エラー", "同期トークン")])
def test_a_conversation_read_in_parts_holds_its_pairs_as_the_whole_text_would(turns: tuple[str, str]) -> None:
    """No word spans a space: the turns analysed one by one and joined are the whole conversation analysed at once."""
    parts, whole = ANALYZER.query(turns[0]).followed_by(ANALYZER.query(turns[1])), ANALYZER.query(" ".join(turns))
    assert (parts.terms, parts.weights, parts.needs, set(parts.words)) == (whole.terms, whole.weights, whole.needs, set(whole.words))
