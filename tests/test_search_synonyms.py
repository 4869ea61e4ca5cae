""".kb/synonyms.yml: one-way and two-way synonyms per locale, read from the content repository at each commit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from search.analyze import Analyzer
from search.lexical import LexicalIndex
from search.synonyms import SynonymsError, parse_synonyms
from tests.conftest import article_text, served_kb
from tests.gitutil import commit_files
from tests.test_api_agents import key

SYNONYMS = """\
en:
  - [invoice, bill]
  - [log in, sign in]
  - from: phone
    to: [mobile]
ja:
  - [ログイン, サインイン]
"""
ARTICLES = {
    "en/invoices.md": article_text("invoices", "Download your invoices", "Every invoice is a PDF under Account settings."),
    "en/sign-in.md": article_text("sign-in", "Sign in to your workspace", "Open the app and sign in with your email address."),
    "en/mobile.md": article_text("mobile-app", "The mobile app", "Install the mobile app from your store."),
    "en/phone.md": article_text("phone-support", "Support by phone", "Call us by phone on weekdays."),
    "ja/sign-in.md": article_text("sign-in", "ワークスペースにサインイン", "アプリを開いてメールアドレスでサインインします。"),
}


def ids(client: TestClient, query: str, *, locale: str = "en", mode: str = "keyword") -> list[str]:
    response = client.get("/v1/search", params={"q": query, "mode": mode, "locale": locale})
    assert response.status_code == 200, response.text
    return [hit["id"] for hit in response.json()["hits"]]


@pytest.fixture
def synonyms_site(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(ARTICLES | {".kb/synonyms.yml": SYNONYMS})


def test_a_two_way_group_lets_each_phrase_find_the_others() -> None:
    parsed = parse_synonyms(b"en:\n  - [log in, sign in, login]\n")
    assert parsed.rules == (
        ("en", "log in", ("sign in", "login")),
        ("en", "sign in", ("log in", "login")),
        ("en", "login", ("log in", "sign in")),
    )


def test_a_one_way_rule_finds_its_targets_only_from_its_source() -> None:
    parsed = parse_synonyms(b"en:\n  - {from: [phone, telephone], to: [mobile, cell phone]}\n")
    assert parsed.rules == (("en", "phone", ("mobile", "cell phone")), ("en", "telephone", ("mobile", "cell phone")))


def test_a_number_is_a_phrase_and_a_one_way_target_may_be_one_phrase() -> None:
    assert parse_synonyms(b"en:\n  - [404, not found]\n  - {from: invoice, to: bill}\n").rules == (
        ("en", "404", ("not found",)),
        ("en", "not found", ("404",)),
        ("en", "invoice", ("bill",)),
    )


@pytest.mark.parametrize(
    "text, field, reason",
    [
        ("en:\n  - [yes, ok]\n", "en.0.0", "quotes"),
        ("en:\n  - [" + ", ".join(f"p{n}" for n in range(21)) + "]\n", "en.0", "at most 20"),
        ("en:\n  - &group [" + ", ".join(f"p{n}" for n in range(20)) + "]\n" + "  - *group\n" * 300, "en.250", "more than 5000"),
        ("fr:\n  - [a, b]\n", "fr", "unknown locale"),
        ("en: [log in]\n", "en.0", "a rule is a list"),
        ("en:\n  - [log in]\n", "en.0", "at least 2"),
        ("en:\n  - [log in, '!!']\n", "en.0.1", "no word"),
        ("en:\n  - {from: phone}\n", "en.0.to", "required"),
        ("en:\n  - {from: phone, to: [mobile], both: true}\n", "en.0.both", "not permitted"),
        ("en: {log in: sign in}\n", "en", "a list"),
        ("- [log in, sign in]\n", "(file)", "per locale"),
        ("en: [[a, b]\n", "(file)", "YAML"),
    ],
)
def test_a_broken_file_is_refused_naming_the_entry(text: str, field: str, reason: str) -> None:
    with pytest.raises(SynonymsError) as refused:
        parse_synonyms(text.encode())
    assert refused.value.field == field and reason in refused.value.reason


def test_a_file_too_large_is_refused_before_it_is_read() -> None:
    with pytest.raises(SynonymsError) as refused:
        parse_synonyms(b"en:\n" + b"  - [a, b]\n" * 30_000)
    assert refused.value.field == "(file)" and "bytes" in refused.value.reason


def test_a_synonym_of_several_words_stands_in_only_where_all_of_them_are() -> None:
    analyzer = Analyzer()
    query = analyzer.query("2fa").with_synonym(("2fa",), analyzer.query("two-factor authentication"))
    index = LexicalIndex([["two", "step"], ["two", "factor", "authent"], ["2fa"]])
    assert index.coverage(query.content, np.arange(3), alternatives=query.alternatives).tolist() == [0.0, 1.0, 1.0]


def test_a_japanese_synonyms_words_leave_the_querys_pairs_held_to_their_word() -> None:
    analyzer = Analyzer()
    query = analyzer.query("ログインできない")
    assert query.with_synonym(("ログイン",), analyzer.query("サインイン")).pairs_only == query.pairs_only


def test_a_search_finds_an_article_written_with_a_synonym_and_marks_it(synonyms_site: TestClient) -> None:
    body = synonyms_site.get("/v1/search", params={"q": "my bill", "mode": "keyword"}).json()
    assert [hit["id"] for hit in body["hits"]] == ["invoices"]
    assert "<mark>invoice</mark>" in body["hits"][0]["snippet"].lower()


def test_a_phrase_of_several_words_matches_other_forms_of_them(synonyms_site: TestClient) -> None:
    body = synonyms_site.get("/v1/search", params={"q": "logging in", "mode": "keyword"}).json()
    assert body["hits"][0]["id"] == "sign-in" and "<mark>sign</mark>" in body["hits"][0]["snippet"].lower()


def test_a_one_way_synonym_does_not_find_its_source(synonyms_site: TestClient) -> None:
    assert set(ids(synonyms_site, "phone")) == {"phone-support", "mobile-app"}
    assert ids(synonyms_site, "mobile") == ["mobile-app"]


def test_synonyms_are_per_locale(synonyms_site: TestClient) -> None:
    assert ids(synonyms_site, "ログイン", locale="ja") == ["sign-in"]
    assert ids(synonyms_site, "bill", locale="ja") == []  # the English rules are not read for a Japanese search


def test_without_the_file_the_synonym_finds_nothing(make_client: Callable[..., TestClient]) -> None:
    assert ids(make_client(ARTICLES), "bill") == []


def test_a_hybrid_search_and_a_bot_answer_take_the_synonym_through_the_answer_gate(synonyms_site: TestClient) -> None:
    assert ids(synonyms_site, "where is my bill", mode="hybrid")[0] == "invoices"
    answer = synonyms_site.post("/v1/answers", json={"question": "Where do I download a bill?"}).json()
    assert answer["citations"] and answer["citations"][0]["article_id"] == "invoices"


def test_an_agent_gets_the_synonyms_article_suggested(synonyms_site: TestClient) -> None:
    ticket = {"subject": "Paperwork", "body": "Where can I download last month's bill?"}
    body = synonyms_site.post("/v1/suggestions", json=ticket, headers=key(synonyms_site, "agent")).json()
    assert body["suggestions"][0]["id"] == "invoices"


def test_the_help_center_search_page_finds_the_synonym(synonyms_site: TestClient) -> None:
    assert "/hc/en/articles/invoices" in synonyms_site.get("/hc/en/search", params={"q": "bill"}).text


def test_a_changed_file_takes_effect_at_the_next_commit(synonyms_site: TestClient, content_repo: Path) -> None:
    assert ids(synonyms_site, "statement") == []
    commit_files(content_repo, {".kb/synonyms.yml": "en:\n  - [invoice, statement]\n"})
    served_kb(synonyms_site).refresh()
    assert ids(synonyms_site, "statement") == ["invoices"]
    assert ids(synonyms_site, "bill") == []


def test_a_broken_file_is_reported_and_search_goes_on_without_synonyms(make_client: Callable[..., TestClient]) -> None:
    client = make_client(ARTICLES | {".kb/synonyms.yml": "en:\n  - [bill]\n"})
    assert ids(client, "invoice") == ["invoices"]
    errors = [(error.path, error.field) for error in served_kb(client).snapshot.errors]
    assert (".kb/synonyms.yml", "en.0") in errors


def test_kb_check_names_a_broken_synonyms_entry(tmp_path: Path) -> None:
    from kb.writing.checks import check_folder

    (tmp_path / ".kb").mkdir()
    (tmp_path / ".kb" / "synonyms.yml").write_text("en:\n  - {from: phone}\n")
    assert [(e.path, e.field) for e in check_folder(tmp_path).errors] == [(".kb/synonyms.yml", "en.0.to")]
