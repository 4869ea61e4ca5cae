"""Snippets: the best window of a section, HTML-escaped, with the query's content words marked."""

from __future__ import annotations

import numpy as np

from search.analyze import Analyzer
from search.snippets import SnippetText

ANALYZER = Analyzer()


def marked(text: str, query: str) -> str:
    """As kb highlights: the query's content words, among the text's own tokens as indexing analysed them."""
    tokens = ANALYZER.tokens(text)
    spans = np.array([(t.start, t.end) for t in tokens], dtype=np.int32).reshape(-1, 2)
    wanted = set(ANALYZER.query(query).content)
    return SnippetText(text).snippet(spans[[t.term in wanted for t in tokens]])


def test_inflected_words_are_marked_for_their_stem() -> None:
    assert marked("Reset all passwords now.", "password") == "Reset all <mark>passwords</mark> now."


def test_a_japanese_word_is_marked_once_not_bigram_by_bigram() -> None:
    assert marked("パスワードを再設定します。", "パスワード") == "<mark>パスワード</mark>を再設定します。"


def test_text_is_html_escaped_around_the_marks() -> None:
    assert marked('Use <b>bold</b> & "quotes" in E1042 notes', "E1042") == (
        "Use &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quotes&quot; in <mark>E1042</mark> notes"
    )


def test_long_text_is_cut_around_the_matches_with_ellipses() -> None:
    text = "filler words here " * 40 + "the refund window is thirty days " + "more filler text " * 40
    result = marked(text, "refund window")
    assert result.startswith("… ") and result.endswith(" …")
    assert "<mark>refund</mark> <mark>window</mark>" in result and len(result) < 300


def test_function_words_are_not_marked_but_the_words_around_them_are() -> None:
    assert marked("Reset the password from the sign-in page.", "how do I reset the password") == (
        "<mark>Reset</mark> the <mark>password</mark> from the sign-in page."
    )


def test_a_japanese_particle_or_light_verb_is_not_marked() -> None:
    assert marked("請求書をダウンロードすることができます。", "請求書をダウンロードする") == (
        "<mark>請求書</mark>を<mark>ダウンロード</mark>することができます。"
    )


def test_without_a_match_the_snippet_is_the_start_of_the_text() -> None:
    assert marked("Invite teammates by email.", "calendar") == "Invite teammates by email."


def test_whitespace_inside_the_text_is_squashed_to_single_spaces() -> None:
    assert marked("Open **Settings**.\n\nThen   choose\tSecurity.", "security") == "Open **Settings**. Then choose <mark>Security</mark>."


def test_full_width_identifiers_are_marked_where_they_stand() -> None:
    assert marked("Ｅ１０４２ エラーが出たら再接続します。", "E1042") == "<mark>Ｅ１０４２</mark> エラーが出たら再接続します。"


def test_a_window_edge_inside_a_long_run_of_whitespace_leaves_no_stray_space() -> None:
    text = "alpha " * 30 + " " * 60 + "the refund window" + " " * 60 + "omega " * 30
    result = marked(text, "refund")
    assert "<mark>refund</mark> window" in result
    assert "  " not in result and not result.removeprefix("… ").startswith(" ") and not result.removesuffix(" …").endswith(" ")
