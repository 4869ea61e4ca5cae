"""Rendering article Markdown to HTML: nothing executable survives, anchors match the sections."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from articles.anchors import slugify
from articles.render import render_html
from articles.sections import split_sections


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """Every start tag with its attributes, as a browser would see them."""
    parser = _Elements()
    parser.feed(html)
    return parser.elements


def heading_ids(html: str) -> list[str | None]:
    return [attrs.get("id") for tag, attrs in elements(html) if tag in ("h2", "h3", "h4")]


def hrefs(html: str) -> list[str | None]:
    return [attrs.get("href") for tag, attrs in elements(html) if tag == "a"]


def assert_inert(html: str) -> None:
    """No script-capable element, no event handler, no javascript: URL anywhere."""
    for tag, attrs in elements(html):
        assert tag not in {"script", "svg", "iframe", "object", "embed", "style", "div", "math"}, html
        for name, value in attrs.items():
            assert not name.startswith("on"), html
            assert "javascript:" not in (value or "").lower(), html


# --- nothing executable survives ---


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        "Text <script>alert(1)</script> inline.",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "<div onclick=alert(1)>\n\nraw *html* block\n\n</div>",
        '<svg onload="alert(1)"><circle r="1"/></svg>',
        "Inline <svg><script>alert(1)</script></svg> svg.",
        "![x](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src=https://evil.example></iframe>",
        "<style>body{display:none}</style>",
    ],
)
def test_raw_html_and_script_urls_do_not_survive(markdown: str) -> None:
    assert_inert(render_html(markdown))


def test_raw_html_is_shown_as_text_not_dropped() -> None:
    assert "&lt;script&gt;" in render_html("<script>alert(1)</script>")


def test_data_urls_are_stripped_from_links_and_images() -> None:
    html = render_html("[x](data:text/html,hi) ![y](data:image/png;base64,AAAA) ![z](pic.png)")
    urls = [attrs.get("href") or attrs.get("src") for _, attrs in elements(html)]
    assert [url for url in urls if url] == ["pic.png"]


def test_code_class_is_limited_to_language_names() -> None:
    html = render_html('```python\nx = 1\n```\n\n```"><script>alert(1)</script>\nx\n```\n')
    classes = [attrs.get("class") for tag, attrs in elements(html) if tag == "code"]
    assert classes == ["language-python", None]


def test_tables_and_strikethrough_render() -> None:
    html = render_html("| a | b |\n|:--|--:|\n| 1 | ~~2~~ |\n")
    tags = [tag for tag, _ in elements(html)]
    assert {"table", "thead", "tbody", "tr", "th", "td", "s"} <= set(tags)
    assert 'class="align-left"' in html


def test_table_alignment_is_a_class_not_an_inline_style() -> None:
    html = render_html('| a | b |\n|:-:|--:|\n| x | <td style="text-align:left"> |\n')
    assert '<th class="align-center">a</th>' in html
    assert '<td class="align-right">&lt;td style="text-align:left"&gt;</td>' in html  # text stays text
    assert "style=" not in html.replace("&lt;td style", "")


# --- links ---


def test_external_links_get_noopener_noreferrer() -> None:
    (link,) = [attrs for tag, attrs in elements(render_html("[x](https://example.com)")) if tag == "a"]
    assert link == {"href": "https://example.com", "rel": "noopener noreferrer"}


def test_relative_and_mailto_links_are_kept_without_rel() -> None:
    html = render_html("[a](../billing/refunds.md) [b](#steps) [c](mailto:help@example.com)")
    assert hrefs(html) == ["../billing/refunds.md", "#steps", "mailto:help@example.com"]
    assert "rel=" not in html


def test_resolve_link_rewrites_relative_links_to_markdown_files() -> None:
    html = render_html(
        "[a](../billing/refunds.md#limits) [b](https://x.example/a.md) [c](image.png)",
        resolve_link=lambda href: "/en/articles/refunds#limits" if href == "../billing/refunds.md#limits" else None,
    )
    assert hrefs(html) == ["/en/articles/refunds#limits", "https://x.example/a.md", "image.png"]


def test_resolve_link_returning_none_leaves_the_link_as_written() -> None:
    assert hrefs(render_html("[a](other.md)", resolve_link=lambda href: None)) == ["other.md"]


def test_resolve_link_gets_non_ascii_paths_decoded() -> None:
    seen: list[str] = []
    render_html("[a](パスワード.md)", resolve_link=lambda href: seen.append(href))
    assert seen == ["パスワード.md"]


# --- anchors ---


def test_h2_to_h4_get_ids_and_h1_does_not() -> None:
    html = render_html("# Title\n\n## Install\n\n### On macOS\n\n#### Homebrew\n\n##### Tiny\n")
    assert heading_ids(html) == ["install", "on-macos", "homebrew"]
    assert "<h1>" in html and "<h5>" in html


def test_japanese_headings_get_stable_non_empty_anchors() -> None:
    body = "## パスワードを再設定する\n\n本文。\n\n## よくある質問（FAQ）\n"
    first, second = heading_ids(render_html(body)), heading_ids(render_html(body))
    assert first == second == ["パスワードを再設定する", "よくある質問-faq"]


def test_japanese_anchors_match_split_sections() -> None:
    body = "前文。\n\n## ログインできない\n\n### 二段階認証\n\n#### 詳細\n\n## ログインできない\n"
    section_anchors = [s.anchor for s in split_sections(body) if s.anchor]
    assert section_anchors == ["ログインできない", "二段階認証", "ログインできない-1"]
    assert set(section_anchors) <= set(heading_ids(render_html(body)))


def test_duplicate_headings_get_distinct_anchors() -> None:
    ids = heading_ids(render_html("## Steps\n\n## Steps\n\n### Steps\n\n## Steps 1\n"))
    assert ids == ["steps", "steps-1", "steps-2", "steps-1-1"]


def test_heading_with_only_punctuation_gets_the_section_anchor() -> None:
    assert heading_ids(render_html("## !!!\n\n## ???\n")) == ["section", "section-1"]


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("Reset your password", "reset-your-password"),
        ("  What's new in v2.1?  ", "what-s-new-in-v2-1"),
        ("Use `kb check`", "use-kb-check"),
        ("ＡＢＣ　全角", "abc-全角"),
        ("ｶﾀｶﾅ", "カタカナ"),
        ("Ошибка входа", "ошибка-входа"),
        ("E_1234 error", "e-1234-error"),
    ],
)
def test_slugs_lowercase_keep_any_script_and_turn_the_rest_into_dashes(heading: str, slug: str) -> None:
    assert slugify(heading) == slug


def test_heading_markup_does_not_leak_into_the_anchor() -> None:
    assert heading_ids(render_html("## Use **`kb check`** [now](https://x.example)\n")) == ["use-kb-check-now"]
