"""The evaluation baselines: each finds the obvious answer, respects depth, and runs offline on kb's model."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest

from kb.core.db import DatabaseVectorStore, make_engine
from kb.evaluation.baselines import (
    TXTAI_VERSION,
    Baseline,
    Document,
    PlainBM25,
    PlainDense,
    TxtaiHybrid,
    document_text,
)
from search.encoder import DEFAULT_MODEL, Encoder, SentenceTransformerEncoder, resolve_model_path
from tests.conftest import CountingEncoder

ENGLISH = [
    Document("reset-password", "Reset your password", "On the sign-in page, choose Forgot password."),
    Document("export-invoices", "Export invoices as CSV", "Admins download a year of invoices as a spreadsheet."),
    Document("two-factor", "Turn on two-factor authentication", "Protect your account with an app code."),
    Document("delete-account", "Delete your account", "Closing an account removes all projects and cannot be undone."),
    Document("webhooks", "Verify webhook signatures", "Each delivery carries an X-Orbitly-Signature header."),
    Document("invite-team", "Invite teammates", "Send invitations by email from the Members tab of the settings."),
    Document("dark-mode", "Switch to dark mode", "Choose the dark theme under Appearance in your profile."),
    Document("rate-limits", "API rate limits", "Requests above 600 per minute receive HTTP 429 Too Many Requests."),
    Document("saml", "Configure SAML single sign-on", "Connect Okta or Azure AD as your identity provider."),
    Document("offline", "Use the mobile app offline", "Pages you opened recently stay on your phone without a connection."),
]
JAPANESE = [
    Document("ja-password", "パスワードの再設定", "ログイン画面で「パスワードをお忘れですか」を選び、リンクから再設定します。"),
    Document("ja-invoice", "請求書のダウンロード", "管理者は請求書をCSV形式で一括ダウンロードできます。"),
    Document("ja-2fa", "二段階認証の設定", "認証アプリのワンタイムコードでアカウントを保護します。"),
    Document("ja-delete", "アカウントの削除", "アカウントを削除すると、すべてのプロジェクトが完全に消去されます。"),
    Document("ja-dark", "ダークモードへの切り替え", "プロフィールの外観設定でダークテーマを選択します。"),
]
QUERIES = {
    "q-password": "how do I reset a forgotten password",
    "q-invoices": "download invoices as a CSV spreadsheet",
    "q-limits": "API rate limit 429 too many requests",
    "q-dark": "enable the dark theme",
    "q-saml": "SAML single sign-on with Okta",
}
ANSWERS = {
    "q-password": "reset-password",
    "q-invoices": "export-invoices",
    "q-limits": "rate-limits",
    "q-dark": "dark-mode",
    "q-saml": "saml",
}


@contextmanager
def no_network() -> Iterator[None]:
    """Any attempt to resolve a host or open a connection fails, so "offline" is proven, not assumed."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network access in an offline test")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", refuse)
        patch.setattr(socket.socket, "connect", refuse)
        yield


@pytest.fixture(scope="module")
def txtai_hybrid() -> TxtaiHybrid:
    """txtai over the packaged model, built and indexed once with the network cut off."""
    with no_network():
        baseline = TxtaiHybrid(resolve_model_path(DEFAULT_MODEL))
        baseline.index(ENGLISH)
    return baseline


@pytest.fixture(params=["bm25", "dense", "txtai-hybrid"])
def baseline(request: pytest.FixtureRequest, model: Encoder) -> Baseline:
    """Each baseline, indexed over the English corpus."""
    if request.param == "txtai-hybrid":
        return request.getfixturevalue("txtai_hybrid")
    built: Baseline = PlainBM25("en") if request.param == "bm25" else PlainDense(model)
    built.index(ENGLISH)
    return built


def best(ranking: dict[str, float]) -> str:
    return max(ranking, key=ranking.__getitem__)


def test_each_baseline_ranks_the_obvious_document_first(baseline: Baseline) -> None:
    ranking = baseline.rank(QUERIES)
    assert {query_id: best(ranking[query_id]) for query_id in QUERIES} == ANSWERS


def test_rankings_hold_at_most_depth_documents(baseline: Baseline) -> None:
    assert all(1 <= len(hits) <= 3 for hits in baseline.rank(QUERIES, depth=3).values())
    assert all(len(hits) <= len(ENGLISH) for hits in baseline.rank(QUERIES, depth=100).values())
    assert baseline.rank(QUERIES, depth=0) == {query_id: {} for query_id in QUERIES}


def test_bm25_keeps_only_documents_that_match_a_term() -> None:
    bm25 = PlainBM25("en")
    bm25.index(ENGLISH)
    ranking = bm25.rank({"dark": "dark mode", "stop words only": "how do I", "unknown": "zebra"}, depth=10)
    assert list(ranking["dark"]) == ["dark-mode"] and ranking["dark"]["dark-mode"] > 0
    assert ranking["stop words only"] == ranking["unknown"] == {}


def test_bm25_stems_english_words() -> None:
    bm25 = PlainBM25("en")
    bm25.index(ENGLISH)
    assert best(bm25.rank({"q": "resetting passwords"})["q"]) == "reset-password"


def test_japanese_bm25_finds_japanese_documents() -> None:
    bm25 = PlainBM25("ja")
    bm25.index(ENGLISH + JAPANESE)
    ranking = bm25.rank({"2fa": "二段階認証を有効にしたい", "invoice": "請求書をダウンロードする方法", "none": "天気予報"})
    assert best(ranking["2fa"]) == "ja-2fa"
    assert best(ranking["invoice"]) == "ja-invoice"
    assert ranking["none"] == {}
    assert all(score > 0 for hits in ranking.values() for score in hits.values())


def test_bm25_refuses_a_language_it_has_no_tokenizer_for() -> None:
    with pytest.raises(ValueError, match="'de'"):
        PlainBM25("de")


@pytest.mark.parametrize("make", [lambda model: PlainBM25("en"), lambda model: PlainDense(model)])
def test_an_empty_corpus_ranks_nothing(make, model: Encoder) -> None:
    baseline = make(model)
    baseline.index([])
    assert baseline.rank(QUERIES) == {query_id: {} for query_id in QUERIES}


def test_dense_scores_are_the_cosine_of_the_models_vectors(model: Encoder) -> None:
    dense = PlainDense(model)
    dense.index(ENGLISH)
    ranking = dense.rank(QUERIES, depth=len(ENGLISH))
    expected = model.encode(list(QUERIES.values())) @ model.encode([document_text(d) for d in ENGLISH]).T
    found = np.array([[ranking[query_id][d.id] for d in ENGLISH] for query_id in QUERIES])
    np.testing.assert_allclose(found, expected, atol=1e-5)


def test_dense_with_a_store_embeds_each_document_once(encoder: CountingEncoder, database_url: str) -> None:
    store = DatabaseVectorStore(make_engine(database_url))
    dense = PlainDense(encoder, store=store)
    dense.index(ENGLISH)
    dense.index(ENGLISH)
    documents = [document_text(d) for d in ENGLISH]
    assert sorted(text for text in encoder.inputs if text not in QUERIES.values()) == sorted(documents)
    assert store.count() == len(ENGLISH)
    assert best(dense.rank({"q": QUERIES["q-saml"]})["q"]) == "saml"


def test_txtai_runs_offline_on_the_packaged_model(txtai_hybrid: TxtaiHybrid) -> None:
    with no_network():
        ranking = txtai_hybrid.rank({"q": "turn on two-factor authentication"}, depth=5)
    assert best(ranking["q"]) == "two-factor"


def test_txtai_embeds_with_the_same_model_and_window_as_kb(
    txtai_hybrid: TxtaiHybrid, torch_model: SentenceTransformerEncoder
) -> None:
    # The long text passes the model's 256-token window: txtai's own pooling would read 512 tokens.
    texts = [document_text(ENGLISH[0]), "password " * 400 + "invoice " * 200]
    np.testing.assert_allclose(txtai_hybrid.embeddings.batchtransform(texts), torch_model.encode(texts), atol=1e-5)


def test_missing_txtai_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "txtai", None)
    with pytest.raises(ImportError, match=f"pip install txtai=={TXTAI_VERSION}"):
        TxtaiHybrid(resolve_model_path(DEFAULT_MODEL))
