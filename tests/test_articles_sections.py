"""Splitting an article body into plain-text heading sections."""

from __future__ import annotations

from articles.sections import split_sections

BODY = """\
Lead with *emphasis* and a [link](https://example.com).

## Install

Run `pip install kb`:

```sh
pip install kb
```

- first item
- second **item**

| Plan | Price |
|------|-------|
| Free | 0 |

#### Troubleshooting

Deep text stays here.

### On macOS

Use Homebrew.

## Empty
"""


def test_lead_comes_first_with_empty_anchor_and_path() -> None:
    lead = split_sections(BODY)[0]
    assert (lead.anchor, lead.heading_path) == ("", ())
    assert lead.text == "Lead with emphasis and a link."


def test_h2_and_h3_start_sections_with_their_heading_paths() -> None:
    paths = [(s.anchor, s.heading_path) for s in split_sections(BODY)]
    assert paths == [("", ()), ("install", ("Install",)), ("on-macos", ("Install", "On macOS")), ("empty", ("Empty",))]


def test_plain_text_drops_markup_keeps_code_and_puts_items_and_cells_on_lines() -> None:
    install = split_sections(BODY)[1]
    assert install.text == (
        "Run pip install kb:\n\npip install kb\n\nfirst item\nsecond item\n\nPlan\nPrice\nFree\n0"
        "\n\nTroubleshooting\n\nDeep text stays here."
    )


def test_empty_sections_are_still_returned() -> None:
    assert split_sections(BODY)[-1].text == ""


def test_h3_before_any_h2_has_a_one_level_path() -> None:
    sections = split_sections("### Early\n\ntext\n\n## Later\n\n### Child\n")
    assert [s.heading_path for s in sections] == [(), ("Early",), ("Later",), ("Later", "Child")]


def test_headings_inside_lists_or_quotes_do_not_split_sections() -> None:
    sections = split_sections("## Real\n\n> ## Quoted\n> text\n")
    assert [s.heading_path for s in sections] == [(), ("Real",)]
    assert sections[1].text == "Quoted\n\ntext"


def test_body_without_headings_is_all_lead() -> None:
    (lead,) = split_sections("Just one paragraph.\n")
    assert lead.text == "Just one paragraph."
