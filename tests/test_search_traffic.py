"""The traffic mix: one semantic weight for a deployment's hybrid queries, read off its recent queries' signals."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import ValidationError

from kb.access.rules import PUBLIC
from kb.core.requests import SearchRequest
from kb.core.settings import Settings
from kb.writing.impact import impact
from search.fuse import FusionWeights, QuerySignals, Scored, adaptive_weights, hybrid
from search.query import SearchSpec, candidates
from search.snapshot import Hit
from search.traffic import TRAFFIC_LINE, WARMUP, TrafficLine, TrafficMix
from tests.conftest import article_text
from tests.gitutil import commit_files, git

FAQ_LIKE = QuerySignals(semantic_top=0.8, lexical_coverage=0.3)
"""A query the model matches well and whose words the articles barely share: paraphrased FAQ traffic."""
CHAT_LIKE = QuerySignals(semantic_top=0.45, lexical_coverage=0.9)
"""A query quoting an article's own rare words that the model matches loosely: chat turns."""


def warmed(mix: TrafficMix, signals: QuerySignals, *, language: str = "en") -> TrafficMix:
    for _ in range(mix.warmup):
        mix.weights(FusionWeights(), signals, language=language)
    return mix


def test_before_the_warm_up_each_query_is_weighed_by_its_own_signals() -> None:
    mix = TrafficMix(warmup=3)
    for _ in range(2):
        assert mix.weights(FusionWeights(), FAQ_LIKE, language="en") == adaptive_weights(FusionWeights(), FAQ_LIKE)
    assert mix.signal("en") is None


def test_after_the_warm_up_every_query_gets_the_lines_weight_for_the_mean_signals() -> None:
    mix = warmed(TrafficMix(warmup=4), FAQ_LIKE)
    weights = mix.weights(FusionWeights(), CHAT_LIKE, language="en")
    mean = (4 * (0.8 - 0.3) + (0.45 - 0.9)) / 5
    assert weights.semantic == pytest.approx(TRAFFIC_LINE.alpha(mean)) and weights.lexical == pytest.approx(1 - weights.semantic)


def test_traffic_the_model_matches_well_weighs_the_semantic_side_more_than_chat_traffic() -> None:
    faq, chat = warmed(TrafficMix(), FAQ_LIKE), warmed(TrafficMix(), CHAT_LIKE)
    query = QuerySignals(semantic_top=0.6, lexical_coverage=0.6)
    assert faq.weights(FusionWeights(), query, language="en").semantic > chat.weights(FusionWeights(), query, language="en").semantic


def test_the_weight_stays_within_the_lines_bounds() -> None:
    line = TrafficLine(slope=10.0, intercept=0.5, low=0.55, high=0.95)
    assert line.alpha(1.0) == 0.95 and line.alpha(-1.0) == 0.55 and line.alpha(0.01) == pytest.approx(0.6)


def test_only_the_window_of_recent_queries_counts() -> None:
    mix = warmed(TrafficMix(window=5, warmup=5), CHAT_LIKE)
    warmed(mix, FAQ_LIKE)
    assert mix.seen("en") == 5 and mix.signal("en") == pytest.approx(0.8 - 0.3)


def test_each_language_keeps_its_own_traffic() -> None:
    mix = warmed(TrafficMix(warmup=3), FAQ_LIKE, language="en")
    assert mix.signal("en") == pytest.approx(0.5) and mix.signal("ja") is None
    warmed(mix, CHAT_LIKE, language="ja")
    assert mix.signal("ja") == pytest.approx(0.45 - 0.9) and mix.signal("en") == pytest.approx(0.5)


def test_a_query_not_observed_is_weighed_by_the_traffic_without_moving_it() -> None:
    mix = warmed(TrafficMix(warmup=3), FAQ_LIKE)
    before = mix.weights(FusionWeights(), CHAT_LIKE, language="en", observe=False)
    assert mix.seen("en") == 3 and mix.weights(FusionWeights(), CHAT_LIKE, language="en", observe=False) == before


def test_weights_that_do_not_adapt_are_left_alone_and_not_counted() -> None:
    fixed = dataclasses.replace(FusionWeights(), lexical=0.5, semantic=0.5, adaptive=None)  # a query holding an identifier
    mix = warmed(TrafficMix(warmup=3), FAQ_LIKE)
    assert mix.weights(fixed, CHAT_LIKE, language="en") is fixed and mix.seen("en") == 3


def test_queries_observed_from_many_threads_are_each_counted_once() -> None:
    mix = TrafficMix(window=10_000, warmup=1)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda n: mix.weights(FusionWeights(), FAQ_LIKE if n % 2 else CHAT_LIKE, language="en"), range(4000)))
    assert mix.seen("en") == 4000 and mix.signal("en") == pytest.approx(((0.8 - 0.3) + (0.45 - 0.9)) / 2)


@pytest.fixture
def help_center(content_repo: Path) -> Path:
    invoices = "## Invoices\n\nAnnual plans can be paid by bank transfer against an invoice."
    cards = "## Card\n\nChange the card we charge on the billing page."
    commit_files(content_repo, {"en/invoices.md": article_text("invoices", "Pay by invoice", invoices)})
    commit_files(content_repo, {"en/cards.md": article_text("cards", "Update your card", cards)})
    return content_repo


QUERY = "can I pay by invoice instead of card"


Sides = tuple[Scored, Scored]


def searched_after_warm_up(kb) -> tuple[Hit, Sides, QuerySignals]:
    """The top hit of :data:`QUERY` after the warm-up's worth of the same query; the query's candidate lists and signals."""
    for _ in range(WARMUP):
        kb.search(SearchRequest(query=QUERY, locale="en"), view=PUBLIC)
    top = kb.search(SearchRequest(query=QUERY, locale="en"), view=PUBLIC).results.hits[0]
    snapshot = kb.snapshot
    plan = kb.queries.plan(SearchSpec(QUERY, "hybrid", snapshot.visible_articles(PUBLIC), locale="en"), kb.snapshot)
    sides = candidates(snapshot, plan, kb.encoder.encode_queries([QUERY])[0], depth=kb.settings.search_depth)
    return top, sides, snapshot.signals(*sides, content_terms=plan.terms.content)


def assert_fused_with(kb, top: Hit, sides: Sides, weights: FusionWeights) -> None:
    ids, scores = hybrid(*sides, weights)
    assert top.chunk == kb.snapshot.chunks[ids[0]] and top.score == pytest.approx(float(scores[0]), rel=1e-5)


def test_after_the_warm_up_a_hybrid_search_fuses_with_its_traffics_weight(help_center: Path, make_kb) -> None:
    kb = make_kb(help_center)
    top, sides, signals = searched_after_warm_up(kb)
    traffic = TRAFFIC_LINE.alpha(signals.semantic_top - signals.lexical_coverage)
    assert traffic != pytest.approx(adaptive_weights(FusionWeights(), signals).semantic, abs=0.01)
    assert_fused_with(kb, top, sides, dataclasses.replace(FusionWeights(), semantic=traffic, lexical=1 - traffic))


def test_with_a_fusion_window_of_zero_each_query_is_weighed_by_its_own_signals(help_center: Path, make_kb) -> None:
    kb = make_kb(help_center, fusion_window=0)
    top, sides, signals = searched_after_warm_up(kb)
    assert kb.traffic is None
    assert_fused_with(kb, top, sides, adaptive_weights(FusionWeights(), signals))


def test_keyword_and_semantic_searches_are_not_counted_as_hybrid_traffic(help_center: Path, make_kb) -> None:
    kb = make_kb(help_center)
    for mode in ("keyword", "semantic", "hybrid"):
        kb.search(SearchRequest(query="pay by invoice", mode=mode, locale="en"), view=PUBLIC)
    assert kb.traffic.seen("en") == 1


def test_an_impact_report_does_not_move_the_traffic_mix(help_center: Path, make_kb) -> None:
    commit_files(help_center, {".kb/golden.yml": "queries:\n  - query: pay by invoice\n    expect: [invoices]\n"})
    git(help_center, "checkout", "--quiet", "-b", "wording")
    commit_files(help_center, {"en/cards.md": article_text("cards", "Update your card", "## Card\n\nChange it on the billing page.")})
    kb = make_kb(help_center)
    impact(kb, "main", "wording", view=PUBLIC)
    assert kb.traffic.seen("en") == 0


def test_a_negative_fusion_window_is_refused_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KB_FUSION_WINDOW", "-1")
    with pytest.raises(ValidationError, match="fusion_window"):
        Settings()
