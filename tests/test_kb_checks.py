"""kb check across articles: links that do not resolve, required translations, near-duplicate articles."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from kb.cli import app
from kb.writing.checks import NEAR_DUPLICATE_COSINE, check_folder, near_duplicates
from tests.conftest import article_text


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def errors_of(root: Path) -> list[str]:
    return [str(error) for error in check_folder(root).errors]


def test_a_link_to_a_missing_article_is_reported_with_the_linking_file(tmp_path: Path) -> None:
    write(tmp_path, {"en/a.md": article_text("a", "A", "See [the guide](../en/guide.md) and [B](b.md#setup)."),
                     "en/b.md": article_text("b", "B", "## Setup\n\nDone.")})
    assert errors_of(tmp_path) == ["en/a.md: links: links to '../en/guide.md', which is not an article here "
                                   "(missing, invalid or outside the repository)"]


def test_a_link_to_an_invalid_article_is_broken_too(tmp_path: Path) -> None:
    write(tmp_path, {"en/a.md": article_text("a", "A", "See [B](b.md)."), "en/b.md": "---\ntitle: no id\n---\n\nB\n"})
    assert any(error.startswith("en/a.md: links: links to 'b.md'") for error in errors_of(tmp_path))


def test_a_link_out_of_the_repository_is_broken(tmp_path: Path) -> None:
    write(tmp_path, {"en/a.md": article_text("a", "A", "See [secrets](../../etc/passwd.md).")})
    assert [error.split(":")[1].strip() for error in errors_of(tmp_path)] == ["links"]


def test_a_required_translation_that_is_missing_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, {
        ".kb/translations.yml": "required:\n  - path: 'en/account/*'\n    locales: [ja]\n",
        "en/account/reset.md": article_text("reset", "Reset", "Steps."),
        "en/account/close.md": article_text("close", "Close", "Steps."),
        "ja/account/reset.md": article_text("reset", "リセット", "手順。"),
        "en/billing/invoices.md": article_text("invoices", "Invoices", "Steps."),
    })
    assert errors_of(tmp_path) == ["en/account/close.md: translations: needs a translation in ja "
                                   "(.kb/translations.yml: 'en/account/*')"]


def test_a_translations_file_naming_an_unknown_locale_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, {".kb/translations.yml": "required:\n  - path: '*'\n    locales: [fr]\n"})
    assert errors_of(tmp_path) == [".kb/translations.yml: required.locales: unknown locale 'fr'; kb has en, ja"]


def test_near_duplicate_articles_are_paired_and_distinct_ones_are_not(tmp_path: Path, model) -> None:
    text = "## Steps\n\nOpen Settings, choose Security, then click Reset password and follow the email link."
    root = write(tmp_path, {
        "en/reset.md": article_text("reset", "Reset your password", text),
        "en/reset-copy.md": article_text("reset-copy", "How to reset your password", text.replace("then", "and then")),
        "en/invoices.md": article_text("invoices", "Download invoices", "Invoices are PDFs on the billing page."),
        "ja/reset.md": article_text("reset", "Reset your password", text),  # a translation is not a duplicate
    })
    pairs = near_duplicates(check_folder(root).articles, model)
    assert [(p.first.path, p.second.path) for p in pairs] == [("en/reset-copy.md", "en/reset.md")]
    assert pairs[0].cosine >= NEAR_DUPLICATE_COSINE


def test_kb_check_warns_about_near_duplicates_without_failing(tmp_path: Path, model) -> None:
    text = "## Steps\n\nOpen Settings, choose Security, then click Reset password and follow the email link."
    root = write(tmp_path, {"en/reset.md": article_text("reset", "Reset your password", text),
                            "en/again.md": article_text("again", "Reset your password", text)})
    result = CliRunner().invoke(app, ["check", str(root)])
    assert result.exit_code == 0, result.output
    assert "warning: en/again.md and en/reset.md are near-duplicates" in result.output


def test_kb_check_fails_on_a_broken_link(tmp_path: Path) -> None:
    root = write(tmp_path, {"en/a.md": article_text("a", "A", "See [gone](gone.md).")})
    result = CliRunner().invoke(app, ["check", "--no-near-duplicates", "--no-contradictions", str(root)])
    assert result.exit_code == 1 and "en/a.md: links" in result.output
