"""Possible contradictions: sections of two articles, or of an article and its translation, giving different figures."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from articles.model import Article
from articles.parse import parse_article
from kb.cli import app
from kb.writing import contradictions as module
from kb.writing.contradictions import Contradiction, contradictions
from search.encoder import Encoder
from tests.conftest import article_text
from tests.test_site_staff import sign_in


def article(path: str, title: str, body: str, *, article_id: str | None = None) -> Article:
    """An article parsed from Markdown; its locale is the path's first folder, its id the file name unless given."""
    return parse_article(path, article_text(article_id or path.rsplit("/", 1)[-1].removesuffix(".md"), title, body).encode())


def refunds(path: str, title: str, sentence: str, **kwargs: str) -> Article:
    return article(path, title, f"## Refunds\n\n{sentence}", **kwargs)


def kinds_and_figures(found: list[Contradiction]) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    return [(c.kind, c.first.figures, c.second.figures) for c in found]


def test_refunds_within_14_and_within_30_days_in_two_articles_are_a_possible_contradiction(model: Encoder) -> None:
    policy = refunds("en/refund-policy.md", "Refund policy", "Refunds are paid within 14 days.")
    cancel = refunds("en/cancel.md", "Cancel your subscription", "Refunds are paid within 30 days.")
    [found] = contradictions([policy, cancel], model)
    assert found.kind == "duration"
    assert (found.first.article, found.second.article) == (policy, cancel)
    assert "14 days" in found.first.text and "30 days" in found.second.text
    assert (found.first.figures, found.second.figures) == (("14 days",), ("30 days",))
    assert found.similarity >= module.SIMILAR_SECTION_COSINE


def test_a_passage_is_the_sentence_giving_the_figure_in_its_section(model: Encoder) -> None:
    policy = refunds("en/refund-policy.md", "Refund policy", "Email support to ask for one. Refunds are paid within 14 days.")
    cancel = refunds("en/cancel.md", "Cancel your subscription", "Refunds are paid within 30 days.")
    [found] = contradictions([policy, cancel], model)
    assert (found.first.anchor, found.first.heading, found.first.text) == ("refunds", "Refunds", "Refunds are paid within 14 days.")


def test_the_same_figure_in_both_articles_is_no_contradiction(model: Encoder) -> None:
    policy = refunds("en/refund-policy.md", "Refund policy", "Refunds are paid within 14 days.")
    cancel = refunds("en/cancel.md", "Cancel your subscription", "Refunds are paid within 14 days of the request.")
    assert contradictions([policy, cancel], model) == []


def test_different_figures_in_unrelated_sections_are_no_contradiction(model: Encoder) -> None:
    invite = article("en/invite.md", "Invite teammates", "## Invitations\n\nInvite up to 5 users. Invitations expire after 7 days.")
    export = article("en/export.md", "Export your data", "## Exports\n\nExports are kept for 30 days.")
    assert contradictions([invite, export], model) == []


def test_figures_in_different_units_are_no_contradiction(model: Encoder) -> None:
    users = article("en/free.md", "The Free plan", "## Limits\n\nThe Free plan includes 5 users.")
    storage = article("en/storage.md", "Storage on the Free plan", "## Limits\n\nThe Free plan includes 10 GB of storage.")
    assert contradictions([users, storage], model) == []


def test_a_section_listing_both_values_contradicts_neither(model: Encoder) -> None:
    yearly_sentence = "Yearly plans: refunds are paid within 14 days."
    yearly = refunds("en/yearly.md", "Refunds of yearly plans", yearly_sentence)
    both = refunds("en/policy.md", "Refund policy", f"{yearly_sentence} Monthly plans: refunds are paid within 30 days.")
    assert contradictions([yearly, both], model) == []


def test_japanese_articles_giving_different_refund_windows_are_a_possible_contradiction(model: Encoder) -> None:
    policy = article("ja/refund-policy.md", "返金ポリシー", "## 返金\n\n返金は14日以内に行われます。")
    cancel = article("ja/cancel.md", "解約", "## 返金\n\n返金は30日以内に行われます。")
    assert kinds_and_figures(contradictions([policy, cancel], model)) == [("duration", ("14日",), ("30日",))]


def test_full_width_digits_are_read_as_their_ascii_figures(model: Encoder) -> None:
    yearly = article("ja/yearly.md", "年払い", "## 割引\n\n年払いでは料金が２０％割引になります。")
    plans = article("ja/plans.md", "プラン", "## 割引\n\n年払いでは料金が15%割引になります。")
    assert kinds_and_figures(contradictions([yearly, plans], model)) == [("percent", ("20%",), ("15%",))]


def test_an_article_and_its_translation_giving_different_windows_are_a_possible_contradiction(model: Encoder) -> None:
    english = refunds("en/refund-policy.md", "Refund policy", "Refunds are paid within 14 days.", article_id="refund-policy")
    japanese = article("ja/refund-policy.md", "返金ポリシー", "## 返金\n\n返金は30日以内に行われます。", article_id="refund-policy")
    [found] = contradictions([english, japanese], model)
    assert (found.kind, found.first.figures, found.second.figures) == ("duration", ("14 days",), ("30日",))
    assert (found.first.anchor, found.second.heading) == ("refunds", "返金")


def test_an_article_and_its_translation_giving_the_same_window_agree(model: Encoder) -> None:
    english = refunds("en/refund-policy.md", "Refund policy", "Refunds are paid within two weeks.", article_id="refund-policy")
    japanese = article("ja/refund-policy.md", "返金ポリシー", "## 返金\n\n返金は14日以内に行われます。", article_id="refund-policy")
    assert contradictions([english, japanese], model) == []


def test_two_weeks_and_14_days_are_the_same_duration(model: Encoder) -> None:
    policy = refunds("en/refund-policy.md", "Refund policy", "Refunds are paid within two weeks.")
    cancel = refunds("en/cancel.md", "Cancel your subscription", "Refunds are paid within 14 days.")
    assert contradictions([policy, cancel], model) == []


def test_different_error_codes_for_the_same_failure_are_a_possible_contradiction(model: Encoder) -> None:
    calendar = article("en/calendar.md", "Google Calendar sync", "## Sync errors\n\nIf sync fails you see error E1042.")
    codes = article("en/codes.md", "Error codes", "## Sync errors\n\nIf sync fails you see error E1043.")
    assert kinds_and_figures(contradictions([calendar, codes], model)) == [("error code", ("E1042",), ("E1043",))]


def test_different_prices_per_user_are_a_possible_contradiction(model: Encoder) -> None:
    plans = article("en/plans.md", "Plans and pricing", "## Team\n\nThe Team plan costs $10 per user per month.")
    change = article("en/change.md", "Change your plan", "## Team\n\nThe Team plan costs $12 per user per month.")
    assert kinds_and_figures(contradictions([plans, change], model)) == [("money", ("$10",), ("$12",))]


def test_each_pair_is_reported_once_the_most_similar_first(model: Encoder) -> None:
    policy = refunds("en/refund-policy.md", "Refund policy", "Refunds are paid within 14 days.")
    cancel = refunds("en/cancel.md", "Refund policy for cancellations", "Refunds are paid within 30 days.")
    faq = refunds("en/faq.md", "Billing questions", "Refunds are paid within 30 days.")
    found = contradictions([policy, cancel, faq], model)
    assert sorted((c.first.article.path, c.second.article.path) for c in found) == [
        ("en/refund-policy.md", "en/cancel.md"),
        ("en/refund-policy.md", "en/faq.md"),
    ]
    assert [c.similarity for c in found] == sorted((c.similarity for c in found), reverse=True)


def test_similar_pairs_computed_in_blocks_are_those_of_a_brute_force_comparison(monkeypatch: pytest.MonkeyPatch) -> None:
    """The matrix products over blocks of rows against every pair compared one by one."""
    texts = ["Refunds are paid within 14 days.", "Invite up to 5 users.", "Exports are kept for 30 days."]
    articles = [article(f"{locale}/a{n}.md", f"A{n}", f"## S\n\n{texts[n % 3]}") for n in range(12) for locale in ("en", "ja")]
    sections = module._figured_sections(articles, module.Analyzer())
    vectors = np.random.default_rng(0).normal(size=(len(sections), 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    monkeypatch.setattr(module, "_ROWS_PER_PRODUCT", 5)
    expected = [
        (i, j)
        for i, j in itertools.combinations(range(len(sections)), 2)
        if vectors[i] @ vectors[j] >= 0.2
        and sections[i].article.locale == sections[j].article.locale
        and set(sections[i].values) & set(sections[j].values)
    ]
    assert sorted(module._similar_pairs(sections, vectors, 0.2)) == expected


def test_kb_check_lists_a_possible_contradiction_with_both_passages(tmp_path: Path) -> None:
    for path, title, days in (("en/refund-policy.md", "Refund policy", 14), ("en/cancel.md", "Cancel your subscription", 30)):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        body = f"## Refunds\n\nRefunds are paid within {days} days."
        (tmp_path / path).write_text(article_text(path.split("/")[1].removesuffix(".md"), title, body), encoding="utf-8")
    result = CliRunner().invoke(app, ["check", "--no-near-duplicates", str(tmp_path)])
    assert result.exit_code == 0, result.output
    [warning] = [line for line in result.output.splitlines() if "may contradict each other (duration:" in line]
    assert "en/cancel.md#refunds" in warning and "en/refund-policy.md#refunds" in warning
    assert "“Refunds are paid within 14 days.”" in result.output and "“Refunds are paid within 30 days.”" in result.output


def test_the_dashboard_lists_a_possible_contradiction(make_client: Callable[..., TestClient]) -> None:
    client = make_client({
        "en/refund-policy.md": article_text("refund-policy", "Refund policy", "## Refunds\n\nRefunds are paid within 14 days."),
        "en/cancel.md": article_text("cancel", "Cancel your subscription", "## Refunds\n\nRefunds are paid within 30 days."),
    }, follow_redirects=False)  # fmt: skip
    sign_in(client, "writer")
    page = client.get("/hc/en/staff/dashboard").text
    listed = page[page.index("Possible contradictions") :]
    assert "<q>Refunds are paid within 14 days.</q>" in listed and "<q>Refunds are paid within 30 days.</q>" in listed
