"""The bundled sample help center is what the README promises, and it validates cleanly."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from kb.cli import app
from kb.core.settings import SAMPLE_CONTENT
from kb.writing.checks import check_folder


def test_sample_validates_without_errors() -> None:
    assert check_folder(SAMPLE_CONTENT).errors == []


def test_sample_has_the_promised_shape() -> None:
    articles = check_folder(SAMPLE_CONTENT).articles
    english = [a for a in articles if a.locale == "en"]
    japanese = [a for a in articles if a.locale == "ja"]
    assert len([a for a in english if a.audience == "public"]) >= 40
    assert len({a.front.category for a in english if a.audience == "public"}) >= 5
    assert len({a.id for a in japanese} & {a.id for a in english}) >= 20
    assert sum(a.audience == "agents" for a in english) >= 4
    assert sum(isinstance(a.audience, tuple) for a in english) >= 2
    assert sum(a.front.status == "draft" for a in articles) >= 1
    assert Counter(len(a.sections) for a in english).most_common(1)[0][0] >= 4


def test_kb_check_exits_zero_on_the_sample() -> None:
    result = CliRunner().invoke(app, ["check", str(SAMPLE_CONTENT)])
    assert result.exit_code == 0, result.output
    assert "may contradict" not in result.output  # the sample's figures agree wherever two sections state one fact


def test_kb_check_exits_non_zero_and_names_the_broken_file(copy_of_sample: Path) -> None:
    (copy_of_sample / "en" / "account" / "broken.md").write_text("---\nid: broken\n---\n\nNo title.\n")
    result = CliRunner().invoke(app, ["check", "--no-near-duplicates", "--no-contradictions", str(copy_of_sample)])
    assert result.exit_code == 1
    assert "en/account/broken.md: title" in result.output


def test_kb_check_refuses_a_path_that_is_not_a_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "not a folder" in result.output
