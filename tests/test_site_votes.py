"""Was this article helpful? The vote at the end of every article, as a form post, into the feedback ledger."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.site.votes import VOTES_COOKIE
from kb.access import PUBLIC
from kb.assist import feedback_summary
from tests.conftest import served_app, served_kb

ARTICLE = "/hc/en/articles/reset-password"


@pytest.fixture
def reader(client: TestClient) -> TestClient:
    """A reader of the sample's site with a cookie jar of their own (the session's client keeps its own)."""
    return TestClient(served_app(client), follow_redirects=False)


def votes_on(client: TestClient, article_id: str) -> dict[str, int]:
    return feedback_summary(served_kb(client).engine, article_id).outcomes


def test_an_article_ends_with_a_yes_and_a_no_form(reader: TestClient) -> None:
    page = reader.get(ARTICLE).text
    assert page.count(f'action="{ARTICLE}/vote"') == 2
    assert "Was this article helpful?" in page and 'value="related_but_did_not_answer"' in page
    assert "この記事は役に立ちましたか？" in reader.get("/hc/ja/articles/reset-password").text


def test_a_yes_vote_is_recorded_once_per_reader_and_revision(reader: TestClient) -> None:
    before = votes_on(reader, "invite-teammates").get("helpful", 0)
    first = reader.post("/hc/en/articles/invite-teammates/vote", data={"vote": "helpful"})
    assert first.status_code == 303 and first.headers["location"] == "/hc/en/articles/invite-teammates?voted=thanks#vote"
    again = reader.post("/hc/en/articles/invite-teammates/vote", data={"vote": "helpful"})
    assert again.headers["location"].endswith("?voted=already#vote")
    assert votes_on(reader, "invite-teammates").get("helpful", 0) == before + 1


def test_another_reader_votes_on_their_own(reader: TestClient, client: TestClient) -> None:
    before = votes_on(reader, "download-invoices").get("helpful", 0)
    for _ in range(2):
        TestClient(served_app(client), follow_redirects=False).post("/hc/en/articles/download-invoices/vote", data={"vote": "helpful"})
    assert votes_on(reader, "download-invoices").get("helpful", 0) == before + 2


def test_a_no_vote_carries_its_reason_and_comment_to_the_articles_revision(reader: TestClient) -> None:
    article = served_kb(reader).article("cancel-subscription", locale="en", view=PUBLIC)
    assert article is not None
    comment = "The cancel button is not where the article says."
    vote = {"vote": "not_helpful", "reason": "outdated", "comment": comment}
    assert reader.post("/hc/en/articles/cancel-subscription/vote", data=vote).status_code == 303
    row = next(row for row in feedback_summary(served_kb(reader).engine, "cancel-subscription").comments if row.comment == comment)
    assert (row.outcome, row.reason, row.locale, row.anchor) == ("not_helpful", "outdated", "en", "")
    assert (row.revision, row.principal_kind, row.interaction_id) == (article.revision, "anonymous", None)


def test_after_a_vote_the_article_thanks_the_reader_instead_of_asking(reader: TestClient) -> None:
    page = reader.get(ARTICLE, params={"voted": "thanks"}).text
    assert "Thank you for your feedback." in page and f'action="{ARTICLE}/vote"' not in page
    assert f'action="{ARTICLE}/vote"' in reader.get(ARTICLE, params={"voted": "<script>"}).text


def test_javascript_gets_the_thanks_as_json(reader: TestClient) -> None:
    response = reader.post("/hc/ja/articles/reset-password/vote", data={"vote": "helpful"}, headers={"Accept": "application/json"})
    assert response.json() == {"recorded": True, "message": "フィードバックをありがとうございました。", "contact_url": None}
    assert response.headers["cache-control"] == "no-store" and VOTES_COOKIE in response.cookies


@pytest.mark.parametrize(
    ("vote", "message"),
    [
        ({"vote": "maybe"}, "unknown vote &#39;maybe&#39;"),
        ({"vote": "not_helpful", "reason": "boring"}, "unknown reason &#39;boring&#39;"),
        ({"vote": "helpful", "comment": "great"}, "a reason and a comment go with a &#39;no&#39; vote only"),
        ({}, "unknown vote &#39;&#39;"),
    ],
)
def test_a_bad_vote_is_refused_on_the_article_naming_what_was_wrong(reader: TestClient, vote: dict, message: str) -> None:
    before = votes_on(reader, "webhooks")
    response = reader.post("/hc/en/articles/webhooks/vote", data=vote)
    assert response.status_code == 400 and message in response.text and 'action="/hc/en/articles/webhooks/vote"' in response.text
    assert votes_on(reader, "webhooks") == before


def test_a_bad_vote_from_javascript_names_the_field(reader: TestClient) -> None:
    response = reader.post("/hc/en/articles/webhooks/vote", data={"vote": "not_helpful", "comment": "x" * 2001},
                           headers={"Accept": "application/json"})  # fmt: skip
    assert response.status_code == 400 and response.json()["field"] == "comment" and "2000" in response.json()["detail"]


def test_a_vote_posted_from_another_site_is_refused(reader: TestClient) -> None:
    before = votes_on(reader, "webhooks")
    response = reader.post("/hc/en/articles/webhooks/vote", data={"vote": "helpful"}, headers={"Origin": "https://elsewhere.example"})
    assert response.status_code == 403 and "another site" in response.text
    assert votes_on(reader, "webhooks") == before


def test_a_vote_with_an_unreadable_origin_is_refused_not_a_500(reader: TestClient) -> None:
    before = votes_on(reader, "webhooks")
    response = reader.post("/hc/en/articles/webhooks/vote", data={"vote": "helpful"}, headers={"Origin": "http://[::1"})
    assert response.status_code == 403
    assert votes_on(reader, "webhooks") == before


UNSEEN = ["/hc/en/articles/escalation-matrix/vote", "/hc/en/articles/no-such-article/vote", "/hc/xx/articles/webhooks/vote"]


@pytest.mark.parametrize("path", UNSEEN)
def test_a_vote_on_an_article_the_reader_cannot_see_is_a_404(reader: TestClient, path: str) -> None:
    before = votes_on(reader, "escalation-matrix")
    response = reader.post(path, data={"vote": "helpful"})
    assert response.status_code == 404 and VOTES_COOKIE not in response.cookies
    assert votes_on(reader, "escalation-matrix") == before
