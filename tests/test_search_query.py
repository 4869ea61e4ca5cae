"""The one query path: a batch of searches, with different modes, languages and allow-lists, ranks each as it would alone."""

from __future__ import annotations

import pytest

from kb.access import PUBLIC, STAFF
from kb.core import SearchRequest
from search.fuse import CONVERSATION_SEMANTIC
from search.query import CONVERSATION_TOKENS, SPECIAL_TOKENS, SearchSpec, conversation_text
from tests.conftest import count_query_encodes

REQUESTS = [
    SearchRequest(query="I forgot my password", locale="en"),
    SearchRequest(query="download an invoice as PDF", mode="semantic"),
    SearchRequest(query="パスワードを忘れました", locale="ja"),
    SearchRequest(query="export", mode="keyword", category="integrations"),
    SearchRequest(query="refund playbook for agents", locale="en", limit=3, offset=1),
    SearchRequest(query="🙂", mode="hybrid"),
]


def ranked(response) -> list[tuple[str, str, float]]:
    return [(hit.article.id, hit.chunk.anchor, round(hit.score, 5)) for hit in response.results.hits]


@pytest.mark.parametrize("view", [PUBLIC, STAFF], ids=["public", "staff"])
def test_a_batch_of_searches_ranks_each_as_it_would_alone(sample_kb, view) -> None:
    batch = sample_kb.search_many(REQUESTS, view=view, observe_traffic=False)
    alone = [sample_kb.search_many([request], view=view, observe_traffic=False)[0] for request in REQUESTS]
    assert [ranked(response) for response in batch] == [ranked(response) for response in alone]
    assert [response.results.total for response in batch] == [response.results.total for response in alone]
    assert any(ranked(response) for response in batch)


def test_a_batch_encodes_its_new_queries_in_one_model_call(sample_kb, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = count_query_encodes(monkeypatch, sample_kb.encoder)
    texts = [f"how do I change plan number {n}" for n in range(4)]
    sample_kb.search_many([SearchRequest(query=text, locale="en") for text in texts], view=PUBLIC, observe_traffic=False)
    assert calls == [4]


def test_the_plan_names_the_language_weights_and_vector_a_query_needs(sample_kb) -> None:
    allowed = sample_kb.snapshot.visible_articles(PUBLIC)
    english = sample_kb.queries.plan(SearchSpec("reset my password", "hybrid", allowed), sample_kb.snapshot)
    keyword = sample_kb.queries.plan(SearchSpec("reset my password", "keyword", allowed), sample_kb.snapshot)
    emoji = sample_kb.queries.plan(SearchSpec("🙂", "hybrid", allowed), sample_kb.snapshot)
    assert english.language == "en" and english.vector_key == ("reset my password", False)
    assert keyword.vector_key is None and emoji.vector_key is None
    assert english.terms.content == ["reset", "password"]


def top_ids(sample_kb, request: SearchRequest) -> list[str]:
    return [hit.article.id for hit in sample_kb.search(request, view=PUBLIC).results.hits[:3]]


def test_a_turn_that_says_little_alone_is_read_with_the_conversation_before_it(sample_kb) -> None:
    conversation = ("I can't sign in any more, the app asks for a 2FA code.", "Do you still have the phone with your authenticator app?")
    last = "No, it was stolen last week. What can I do?"
    alone = top_ids(sample_kb, SearchRequest(query=last, locale="en"))
    read_with_it = top_ids(sample_kb, SearchRequest(query=last, locale="en", context=conversation))
    assert "recover-account-without-2fa" not in alone[:1]
    assert read_with_it[0] == "recover-account-without-2fa"


def test_a_bare_yes_is_read_as_the_conversation_it_answers(sample_kb) -> None:
    conversation = ("How do I get a copy of last month's invoice?", "Do you need it as a PDF?")
    assert "download-invoices" not in top_ids(sample_kb, SearchRequest(query="Yes.", locale="en"))
    assert top_ids(sample_kb, SearchRequest(query="Yes.", locale="en", context=conversation))[0] == "download-invoices"


def test_a_conversation_longer_than_the_model_reads_keeps_its_first_and_newest_turns(sample_kb) -> None:
    encoder = sample_kb.encoder
    middle = tuple(f"Filler turn number {n} about nothing in particular, repeated for length." for n in range(60))
    text = conversation_text(("My invoices are wrong.", *middle), "Can I get them again?", encoder)
    assert text.startswith("My invoices are wrong. Filler turn number")
    assert text.endswith("Filler turn number 59 about nothing in particular, repeated for length. Can I get them again?")
    assert "Filler turn number 0 " not in text
    assert encoder.count_tokens(text) <= CONVERSATION_TOKENS - SPECIAL_TOKENS


def test_a_long_first_turn_is_cut_and_the_newest_turn_is_kept_whole(sample_kb) -> None:
    encoder = sample_kb.encoder
    body = " ".join(f"word{n}" for n in range(600))
    text = conversation_text((body, "Sure, which file?"), "The invoice from March is empty.", encoder)
    assert text.startswith("word0 word1") and text.endswith("Sure, which file? The invoice from March is empty.")
    assert encoder.count_tokens(text) <= CONVERSATION_TOKENS - SPECIAL_TOKENS


def test_a_single_message_longer_than_the_window_is_read_from_its_opening(sample_kb) -> None:
    encoder = sample_kb.encoder
    message = "The invoice from March is empty. " + " ".join(f"word{n}" for n in range(600))
    text = conversation_text((), message, encoder)
    assert text.startswith("The invoice from March is empty. word0") and encoder.count_tokens(text) <= CONVERSATION_TOKENS - SPECIAL_TOKENS


def test_a_single_message_ticket_is_weighed_as_a_conversation(sample_kb) -> None:
    allowed = sample_kb.snapshot.visible_articles(PUBLIC)
    plan = sample_kb.queries.plan(SearchSpec("The invoice from March is empty.", "hybrid", allowed, ticket=True), sample_kb.snapshot)
    assert plan.conversation and plan.weights.adaptive is None and plan.weights.semantic == CONVERSATION_SEMANTIC


def test_a_conversation_is_weighed_by_its_own_fixed_mix_not_by_search_traffic(sample_kb) -> None:
    allowed = sample_kb.snapshot.visible_articles(PUBLIC)
    spec = SearchSpec("and on mobile?", "hybrid", allowed, context=("How do I turn on notifications?",))
    plan = sample_kb.queries.plan(spec, sample_kb.snapshot)
    assert plan.weights.adaptive is None and plan.weights.semantic == CONVERSATION_SEMANTIC
    assert plan.vector_key is not None and plan.vector_key[0] == "How do I turn on notifications? and on mobile?"
    assert plan.terms.content == ["mobil"]
