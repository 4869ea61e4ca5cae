"""Snippets: the best window of a section, HTML-escaped, with the query's terms marked."""

from __future__ import annotations

import pytest

from search.analyze import Analyzer
from search.snippets import _merged, snippet

ANALYZER = Analyzer()


def marked(text: str, query: str) -> str:
    """As kb highlights: the query's content words."""
    return snippet(text, ANALYZER.matcher(ANALYZER.query(query).content))


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


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("Reset your passwords quickly. Password rules apply to resets.", "reset password"),
        ("パスワードを再設定するには、設定画面を開きます。", "パスワード 再設定"),
        ("Ｅ１０４２ エラーが出たら、カレンダーを再接続します。", "E1042 カレンダー"),
        ("本を読む前に本棚を整理する", "本"),
    ],
)
def test_fast_matching_marks_everything_full_analysis_would(text: str, query: str) -> None:
    """It may mark a little more (本 inside the compound 本棚), never less."""
    wanted = set(ANALYZER.analyze(query))
    fast = _merged(ANALYZER.matcher(wanted).find(text))
    for start, end in _merged([t for t in ANALYZER.tokens(text) if t.term in wanted]):
        assert any(s <= start and end <= e for s, e in fast), (start, end, fast)
