"""Typo tolerance: a word the help center does not hold is read as its words within a Meilisearch-style budget."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from kb.access.rules import PUBLIC
from kb.core import KnowledgeBase
from search.analyze import english_terms
from search.query import SearchSpec
from search.typos import Lexicon, corrections, is_identifier, typo_budget
from tests.conftest import article_text

TEXTS = [
    "Reset your password from the sign-in page. Passwords expire after a year.",
    "Cancel your subscription at any time; the subscription ends with the billing period.",
    "Change the billing address on an invoice. The invoice shows the address.",
    "Error E4290 means too many requests; wait and retry. Passport photos are not accepted.",
    "Notifications on mobile: turn notifications on in the settings.",
    "Forgot your password? Reset it.",
    "Items in stock ship today.",
]


COUNTS = Counter(term for text in TEXTS for term in set(english_terms(re.findall(r"[a-z]+", text.lower()))))


def frequency(term: str) -> int:
    """In how many of TEXTS a term stands: every text visible."""
    return COUNTS[term]


@pytest.fixture
def lexicon() -> Lexicon:
    return Lexicon.of(TEXTS, stem=english_terms)


def test_words_under_five_letters_are_matched_exactly_and_longer_ones_tolerate_one_typo_then_two_from_nine() -> None:
    assert [typo_budget(word) for word in ("bill", "email", "password", "subscript", "notifications")] == [0, 1, 1, 2, 2]


def test_a_mistyped_word_is_read_as_the_word_one_edit_away(lexicon: Lexicon) -> None:
    for typed in ("pasword", "passwrod", "passsword", "passwosd"):
        assert [reading.word for reading in lexicon.readings(typed, frequency)] == ["password"], typed


def test_a_long_word_is_read_through_two_typos_and_a_short_one_is_not(lexicon: Lexicon) -> None:
    assert [reading.word for reading in lexicon.readings("subscriptoin", frequency)][:1] == ["subscription"]
    assert [reading.word for reading in lexicon.readings("notifcatoins", frequency)][:1] == ["notifications"]
    assert lexicon.readings("pswrd", frequency) == []  # two typos in a word of five letters: beyond its budget


def test_the_first_letter_is_never_changed(lexicon: Lexicon) -> None:
    assert lexicon.readings("bassword", frequency) == []
    assert lexicon.readings("nvoice", frequency) == []


def test_the_closest_readings_are_kept_and_the_most_common_comes_first(lexicon: Lexicon) -> None:
    readings = lexicon.readings("passwort", frequency)  # one edit from each; password is in two texts, passport in one
    assert [reading.word for reading in readings] == ["password", "passport"]
    assert {reading.typos for reading in readings} == {1}


def test_a_word_the_help_center_holds_is_not_read_as_another(lexicon: Lexicon) -> None:
    text = "passport invoices"
    assert corrections(text, [(0, 8, "passport"), (9, 17, "invoic")], lexicon, frequency) == []


def test_a_word_of_everyday_english_the_help_center_lacks_is_taken_as_typed(lexicon: Lexicon) -> None:
    assert [reading.word for reading in lexicon.readings("stuck", frequency)] == ["stock"]  # one edit away...
    assert corrections("stuck abroad", [(0, 5, "stuck"), (6, 12, "abroad")], lexicon, frequency) == []  # ...but a word as it is


def test_a_word_only_hidden_articles_hold_is_no_reading(lexicon: Lexicon) -> None:
    assert lexicon.readings("passwort", lambda term: 0 if term == "password" else frequency(term))[0].word == "passport"


def test_a_word_typed_twice_is_read_once(lexicon: Lexicon) -> None:
    text = "pasword pasword"
    found = corrections(text, [(0, 7, "pasword"), (8, 15, "pasword")], lexicon, frequency)
    assert [(c.start, c.readings[0].word) for c in found] == [(0, "password"), (8, "password")]


@pytest.mark.parametrize(
    "text, word",
    [("E4291", "E4291"), ("ERRORR", "ERRORR"), ("api_kee", "kee"), ("config.yamll", "yamll"), ("serivce2", "serivce2")],
)
def test_identifiers_are_never_fuzzed(text: str, word: str) -> None:
    start = text.index(word)
    assert is_identifier(text, start, start + len(word))


def test_a_plain_word_is_not_an_identifier() -> None:
    assert not is_identifier("reset my pasword now", 9, 16)
    assert not is_identifier("e-mial", 2, 6)  # a hyphen joins words, not names


def test_an_error_code_one_digit_off_matches_nothing(client: TestClient) -> None:
    assert client.get("/v1/search", params={"q": "E4290", "mode": "keyword"}).json()["total"] > 0
    assert client.get("/v1/search", params={"q": "E4291", "mode": "keyword"}).json()["total"] == 0


def test_a_mistyped_search_finds_the_article_and_marks_the_word_it_was_read_as(client: TestClient) -> None:
    body = client.get("/v1/search", params={"q": "pasword", "mode": "keyword"}).json()
    assert body["hits"][0]["id"] == "reset-password"
    assert "<mark>password</mark>" in body["hits"][0]["snippet"].lower()
    assert body["read_as"] == [{"typed": "pasword", "word": "password"}]


def test_a_word_typed_twice_is_said_once(client: TestClient) -> None:
    body = client.get("/v1/search", params={"q": "pasword reset pasword", "mode": "keyword"}).json()
    assert body["read_as"] == [{"typed": "pasword", "word": "password"}]


def test_no_reading_comes_from_an_article_the_reader_may_not_see(make_client: Callable[..., TestClient]) -> None:
    from tests.test_api_agents import key

    files = {"en/agents/zephyrus.md": article_text("zephyrus", "Zephyrus escalations", "Zephyrus tickets go to tier 3.", audience="agents")}
    client = make_client(files)
    anonymous = client.get("/v1/search", params={"q": "zephyrsu", "mode": "keyword"}).json()
    assert anonymous["read_as"] == [] and anonymous["hits"] == []
    staff = client.get("/v1/search", params={"q": "zephyrsu", "mode": "keyword"}, headers=key(client, "agent")).json()
    assert staff["read_as"] == [{"typed": "zephyrsu", "word": "zephyrus"}] and staff["hits"][0]["id"] == "zephyrus"


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_typo_tolerance_can_be_turned_off(make_client: Callable[..., TestClient], mode: str) -> None:
    files = {"en/reset.md": "---\nid: reset\ntitle: Reset your password\n---\n\nOpen the sign-in page and choose Forgot password.\n"}
    tolerant = make_client(files)
    assert [hit["id"] for hit in tolerant.get("/v1/search", params={"q": "forgot pasword", "mode": mode}).json()["hits"]] == ["reset"]
    strict = make_client(typo_tolerance=False)
    hits = strict.get("/v1/search", params={"q": "pasword", "mode": "keyword"}).json()["hits"]
    assert hits == []


def test_the_help_center_search_page_finds_a_mistyped_query_and_says_what_it_searched(client: TestClient) -> None:
    page = client.get("/hc/en/search", params={"q": "subscripton"}).text
    assert "/hc/en/articles/cancel-subscription" in page
    assert '<p class="read-as">Searched “subscription” for “subscripton”</p>' in page


def test_the_japanese_search_page_says_what_it_searched_in_japanese(client: TestClient) -> None:
    page = client.get("/hc/ja/search", params={"q": "pasword"}).text
    assert "「pasword」を「password」として検索しました" in page


@pytest.mark.parametrize("shape", [{"ticket": True}, {"context": ("I can't get in.",)}])
def test_a_tickets_and_a_conversations_last_words_are_read_too_by_both_sides(sample_kb: KnowledgeBase, shape: dict) -> None:
    snapshot = sample_kb.snapshot
    spec = SearchSpec("How do I cancel my subscripton before it renews?", "hybrid", snapshot.visible_articles(PUBLIC), **shape)
    plan = sample_kb.queries.plan(spec, snapshot)
    assert plan.terms.read_as == (("subscripton", "subscription"),)
    assert plan.vector_key is not None and "cancel my subscription before" in plan.vector_key[0]


def test_an_agents_ticket_with_a_typo_gets_the_article_suggested(client: TestClient) -> None:
    from tests.test_api_agents import key

    ticket = {"subject": "cancelation", "body": "How do I cancel my subscripton before it renews?"}
    body = client.post("/v1/suggestions", json=ticket, headers=key(client, "agent")).json()
    assert body["suggestions"][0]["id"] == "cancel-subscription"


def test_a_bot_question_with_a_typo_is_answered_from_the_right_article(client: TestClient) -> None:
    body = client.post("/v1/answers", json={"question": "How do I reset my pasword?"}).json()
    assert not body["abstained"] and body["citations"][0]["article_id"] == "reset-password"
