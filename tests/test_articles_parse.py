"""Parsing article files: what validates, and what each kind of bad file is reported as."""

from __future__ import annotations

import datetime as dt

import pytest

from articles.model import ArticleError
from articles.parse import InvalidArticle, is_article_path, parse_article


def md(front: str, body: str = "Some text.\n") -> bytes:
    return f"---\n{front.strip()}\n---\n{body}".encode()


GOOD = md("id: reset-password\ntitle: Reset your password", "Lead.\n\n## Steps\n\nClick reset.\n")


def error_for(path: str, data: bytes) -> ArticleError:
    with pytest.raises(InvalidArticle) as raised:
        parse_article(path, data)
    return raised.value.error


# --- which paths are articles ---


@pytest.mark.parametrize("path", ["en/reset.md", "ja/account/reset.md", "faq.md", "en/README.md"])
def test_markdown_files_are_articles(path: str) -> None:
    assert is_article_path(path)


@pytest.mark.parametrize(
    "path",
    [".kb/notes.md", ".github/PULL_REQUEST_TEMPLATE.md", "en/.drafts/x.md", "README.md", "CONTRIBUTING.md",
     "CHANGELOG.md", "readme.md", "en/image.png", "en/notes.txt"],
)  # fmt: skip
def test_hidden_folders_root_docs_and_other_files_are_not_articles(path: str) -> None:
    assert not is_article_path(path)


# --- good files ---


def test_valid_article_has_front_matter_locale_from_path_sections_and_revision() -> None:
    updated = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    article = parse_article("en/account/reset.md", GOOD, revision="abc123", updated_at=updated)
    assert (article.id, article.title, article.locale) == ("reset-password", "Reset your password", "en")
    assert article.key == ("reset-password", "en")
    assert (article.revision, article.updated_at) == ("abc123", updated)
    assert [s.heading_path for s in article.sections] == [(), ("Steps",)]
    assert article.body.startswith("Lead.")


def test_locale_from_front_matter_is_used_outside_locale_folders() -> None:
    article = parse_article("account/reset.md", md("id: reset\ntitle: Reset\nlocale: ja"))
    assert article.locale == "ja"


def test_front_matter_locale_agreeing_with_path_is_accepted() -> None:
    assert parse_article("ja/reset.md", md("id: reset\ntitle: リセット\nlocale: ja")).locale == "ja"


def test_utf8_bom_and_crlf_line_endings_are_tolerated() -> None:
    data = b"\xef\xbb\xbf" + GOOD.replace(b"\n", b"\r\n")
    article = parse_article("en/reset.md", data)
    assert article.id == "reset-password"
    assert "\r" not in article.body


def test_yaml_dates_are_accepted_for_last_reviewed() -> None:
    article = parse_article("en/x.md", md("id: x\ntitle: X\nlast_reviewed: 2026-08-14"))
    assert article.front.last_reviewed == dt.date(2026, 8, 14)


def test_audience_from_front_matter_is_carried_on_the_article() -> None:
    article = parse_article("en/x.md", md("id: x\ntitle: X\naudience: [enterprise, beta]"))
    assert article.audience == ("enterprise", "beta")


# --- bad files, one kind each ---


def test_bad_yaml_is_reported_on_front_matter_with_file_line_and_column() -> None:
    error = error_for("en/x.md", md("id: x\ntitle: [unclosed"))
    assert error.field == "front matter"
    assert "line 3, column" in error.reason  # '---' is line 1, so 'title:' is line 3


def test_missing_front_matter_is_reported() -> None:
    error = error_for("en/x.md", b"# Just Markdown\n")
    assert error.field == "front matter"
    assert "---" in error.reason


def test_front_matter_after_other_text_does_not_count() -> None:
    assert error_for("en/x.md", b"\n" + GOOD).field == "front matter"


def test_unclosed_front_matter_is_reported() -> None:
    assert "not closed" in error_for("en/x.md", b"---\nid: x\ntitle: X\n").reason


def test_front_matter_that_is_not_a_mapping_is_reported() -> None:
    error = error_for("en/x.md", md("- id\n- title"))
    assert (error.field, error.reason) == ("front matter", "must be 'key: value' lines, not a list")


def test_repeated_key_is_reported_instead_of_the_last_one_silently_winning() -> None:
    error = error_for("en/x.md", md("id: x\ntitle: X\naudience: agents\naudience: public"))
    assert error.field == "front matter"
    assert "duplicate key 'audience'" in error.reason


def test_missing_id_is_reported_on_id() -> None:
    error = error_for("en/x.md", md("title: X"))
    assert error.field == "id"
    assert "required" in error.reason


def test_missing_title_is_reported_on_title() -> None:
    assert error_for("en/x.md", md("id: x")).field == "title"


def test_several_field_errors_are_reported_together_on_the_first_field() -> None:
    error = error_for("en/x.md", md("category: billing"))
    assert error.field == "id"
    assert "title: required" in error.reason


def test_unknown_audience_is_reported_on_audience() -> None:
    error = error_for("en/x.md", md("id: x\ntitle: X\naudience: everyone"))
    assert error.field == "audience"
    assert "everyone" in error.reason


def test_misspelt_field_is_reported_with_a_suggestion() -> None:
    error = error_for("en/x.md", md("id: x\ntitle: X\naudiance: agents"))
    assert error.field == "audiance"
    assert "did you mean 'audience'" in error.reason


def test_numeric_id_is_rejected_with_a_hint_to_quote_it() -> None:
    error = error_for("en/x.md", md("id: 404\ntitle: Not found"))
    assert error.field == "id"
    assert 'id: "404"' in error.reason


def test_list_item_error_names_its_index() -> None:
    error = error_for("en/x.md", md("id: x\ntitle: X\ntags: [login, 2]"))
    assert error.field == "tags.1"
    assert "quote" in error.reason


def test_unknown_locale_is_reported_on_locale() -> None:
    error = error_for("en/x.md", md("id: x\ntitle: X\nlocale: fr"))
    assert error.field == "locale"
    assert "fr" in error.reason


def test_locale_disagreeing_with_path_is_reported_on_locale() -> None:
    error = error_for("en/x.md", md("id: x\ntitle: X\nlocale: ja"))
    assert error.field == "locale"
    assert "'ja'" in error.reason and "en/" in error.reason


def test_no_locale_anywhere_is_reported_with_how_to_fix_it() -> None:
    error = error_for("billing/x.md", md("id: x\ntitle: X"))
    assert error.field == "locale"
    assert "locale: en" in error.reason and "en/" in error.reason


def test_non_utf8_file_is_reported_with_byte_offset() -> None:
    data = b"---\nid: x\ntitle: X\n---\nLatin-1 caf\xe9\n"
    offset = data.index(b"\xe9")
    error = error_for("en/x.md", data)
    assert error.field == "encoding"
    assert f"byte offset {offset}" in error.reason


def test_binary_file_named_md_is_reported_as_not_text() -> None:
    error = error_for("en/logo.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert (error.field, error.reason.split(" (")[0]) == ("content", "binary file, not Markdown text")


def test_utf16_file_is_reported_as_an_encoding_problem() -> None:
    assert error_for("en/x.md", GOOD.decode().encode("utf-16")).field == "encoding"


# --- many files ---


def test_revision_and_updated_at_are_kept_on_the_article() -> None:
    when = dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)
    article = parse_article("en/a.md", GOOD, revision="deadbeef", updated_at=when)
    assert (article.revision, article.updated_at) == ("deadbeef", when)


def test_audience_is_left_undecided_when_the_front_matter_has_none() -> None:
    assert parse_article("en/a.md", GOOD).audience is None
