"""Templates (.kb/templates/NAME.md): `kb new --template` starts an article from one; `kb check` holds articles to theirs."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from articles.parse import parse_article
from articles.templates import TEMPLATES_DIR, h2_headings, missing_sections, new_article, parse_template
from kb.cli import app
from kb.core.settings import SAMPLE_CONTENT
from kb.writing.checks import check_folder
from tests.conftest import article_text
from tests.test_kb_checks import write

HOW_TO = """---
description: One task, step by step.
required_sections: [Before you start, Steps]
front_matter:
  category: account
  review_every: 180d
---
What the reader will have done at the end, in one sentence.

## Before you start

What they need first.

## Steps

1. The first step.

## If it does not work

What to try next.
"""
HOW_TO_JA = """---
description: 手順を一つずつ。
---
この記事で何ができるようになるかを一文で。

## 始める前に

## 手順
"""


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return write(tmp_path, {".kb/templates/how-to.md": HOW_TO, ".kb/templates/how-to.ja.md": HOW_TO_JA})


def kb_new(content: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["new", *args, "--folder", str(content)])
    return result.exit_code, result.output


def test_kb_new_starts_a_draft_from_the_template_that_validates(content: Path) -> None:
    code, output = kb_new(content, "export-to-csv", "--title", "Export to CSV", "--template", "how-to")
    assert code == 0, output
    path = content / "en" / "export-to-csv.md"
    article = parse_article("en/export-to-csv.md", path.read_bytes())
    assert (article.front.template, article.front.status, article.front.category, article.front.review_every) == (
        "how-to", "draft", "account", "180d"
    )
    assert [s.heading_path for s in article.sections if s.heading_path] == [("Before you start",), ("Steps",), ("If it does not work",)]
    assert check_folder(content).errors == [] and check_folder(content).warnings == []


def test_kb_new_takes_the_templates_japanese_variant_for_a_japanese_article(content: Path) -> None:
    code, output = kb_new(content, "export-to-csv", "--title", "CSV へのエクスポート", "--template", "how-to", "--locale", "ja")
    assert code == 0, output
    text = (content / "ja" / "export-to-csv.md").read_text(encoding="utf-8")
    assert "## 始める前に" in text and "## Steps" not in text and "locale: ja" in text


def test_kb_new_puts_an_article_in_its_categorys_folder(content: Path) -> None:
    code, _ = kb_new(content, "invoices", "--title", "Invoices", "--category", "billing")
    article = parse_article("en/billing/invoices.md", (content / "en" / "billing" / "invoices.md").read_bytes())
    assert code == 0 and article.front.category == "billing" and article.front.template is None


def test_kb_new_names_the_templates_there_are_for_an_unknown_one(content: Path) -> None:
    code, output = kb_new(content, "export-to-csv", "--title", "Export", "--template", "how-too")
    assert code == 2 and "no such template" in output and "(there: how-to)" in output


def test_kb_new_never_overwrites_an_article(content: Path) -> None:
    write(content, {"en/export-to-csv.md": article_text("export-to-csv", "Mine", "Written by hand.")})
    code, output = kb_new(content, "export-to-csv", "--title", "Export", "--template", "how-to")
    assert code == 2 and "exists already" in output
    assert "Written by hand." in (content / "en" / "export-to-csv.md").read_text(encoding="utf-8")


def test_kb_new_refuses_an_id_that_is_no_slug(content: Path) -> None:
    code, output = kb_new(content, "Export To CSV", "--title", "Export")
    assert code == 2 and "error: id:" in output and not (content / "en").exists()


def test_an_article_lacking_a_required_section_of_its_template_is_a_warning(content: Path) -> None:
    write(content, {"en/sso.md": article_text("sso", "Set up SSO", "## Before you start\n\nAn admin account.", template="how-to")})
    report = check_folder(content)
    assert report.errors == []
    assert [str(w) for w in report.warnings] == [
        "en/sso.md: template: lacks the section(s) 'Steps' of template 'how-to' (.kb/templates/how-to.md)"
    ]
    result = CliRunner().invoke(app, ["check", str(content), "--no-near-duplicates", "--no-contradictions"])
    assert result.exit_code == 0 and "warning: en/sso.md: template: lacks the section(s) 'Steps'" in result.output


def test_a_section_not_required_may_be_left_out(content: Path) -> None:
    body = "## before you start\n\nAn admin account.\n\n## STEPS\n\n1. Open Settings."  # headings compared without case
    write(content, {"en/sso.md": article_text("sso", "Set up SSO", body, template="how-to")})
    assert check_folder(content).warnings == []


def test_an_article_naming_a_template_there_is_none_of_is_an_error(content: Path) -> None:
    write(content, {"en/sso.md": article_text("sso", "Set up SSO", "Steps.", template="howto")})
    assert [str(e) for e in check_folder(content).errors] == [
        "en/sso.md: template: no template 'howto' in .kb/templates/ (there: how-to)"
    ]


@pytest.mark.parametrize(
    "template, field",
    [
        ("---\nrequird_sections: [Steps]\n---\n## Steps\n", "requird_sections"),
        ("---\nrequired_sections: [Troubleshooting]\n---\n## Steps\n", "required_sections"),
        ("---\nfront_matter: {audiance: public}\n---\n## Steps\n", "front_matter.audiance"),
        ("---\nfront_matter: {id: fixed}\n---\n## Steps\n", "front_matter"),
        ("no front matter\n", "front matter"),
    ],
)
def test_a_broken_template_is_an_error_naming_its_field(content: Path, template: str, field: str) -> None:
    write(content, {".kb/templates/faq.md": template})
    assert [(e.path, e.field) for e in check_folder(content).errors] == [(".kb/templates/faq.md", field)]


SAMPLE_TEMPLATES = sorted(
    {"how-to.md", "how-to.ja.md", "troubleshooting.md", "troubleshooting.ja.md"}  # the ones README's examples name, in both languages
    | {file.name for file in (SAMPLE_CONTENT / TEMPLATES_DIR).glob("*.md")}  # and any other the sample ships
)


@pytest.mark.parametrize("name", SAMPLE_TEMPLATES)
def test_every_template_the_sample_ships_parses_and_starts_an_article_that_validates(name: str) -> None:
    path = f"{TEMPLATES_DIR}/{name}"
    template = parse_template(path, (SAMPLE_CONTENT / path).read_bytes())
    locale = template.locale or "en"
    text = new_article(template, article_id="new-article", title="New article", locale=locale, extra={"status": "draft"})
    article = parse_article(f"{locale}/new-article.md", text.encode())
    assert template.description and template.required and missing_sections(article, template) == []


@pytest.mark.parametrize("name", ["how-to", "troubleshooting"])
def test_kb_new_from_a_sample_template_writes_a_draft_that_validates(copy_of_sample: Path, name: str) -> None:
    code, output = kb_new(copy_of_sample, "test-article", "--title", "Test", "--template", name)
    assert code == 0, output
    report = check_folder(copy_of_sample)
    [draft] = [article for article in report.articles if article.path == "en/test-article.md"]
    assert (draft.front.template, draft.front.status) == (name, "draft")
    assert report.errors == [] and [str(w) for w in report.warnings if w.path == draft.path] == []


@pytest.mark.parametrize("name", ["how-to", "troubleshooting"])
def test_kb_new_from_a_sample_template_in_japanese_writes_a_draft_with_japanese_headings_that_validates(
    copy_of_sample: Path, name: str
) -> None:
    code, output = kb_new(copy_of_sample, "test-article", "--title", "テスト", "--template", name, "--locale", "ja")
    assert code == 0, output
    report = check_folder(copy_of_sample)
    [draft] = [article for article in report.articles if article.path == "ja/test-article.md"]
    headings = h2_headings(draft.body)
    assert headings and not any(heading.isascii() for heading in headings), headings
    assert report.errors == [] and [str(w) for w in report.warnings if w.path == draft.path] == []
