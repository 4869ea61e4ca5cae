"""GET /v1/citations/resolve: a citation taken from kb, resolved after its article was edited, moved, renamed or deleted."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kb.access.keys import create_key
from kb.access.tokens import issue_customer_token
from tests.conftest import JWT_SECRET, article_text, served_kb
from tests.gitutil import commit_files
from tests.problems import assert_problem

TIMING = "Refunds take ten days to reach your card. Contact billing if it takes longer."
REFUNDS = article_text("refunds", "Refunds", f"""
Money back for duplicate charges and early cancellations.

## Timing

{TIMING}

## Partial refunds

Ask support for a partial refund.
""")
REFUNDS_JA = article_text("refunds", "返金", """
## 返金までの期間

返金がカードに反映されるまで 10 日ほどかかります。それ以上かかる場合は請求担当にお問い合わせください。
""")
LIMITS = article_text("limits", "Refund limits", """
## Who approves

- Agents refund up to $500 without approval.
- Agents credit up to $250 without approval.
""")
ARTICLES = {
    ".kb/access.yml": "segments:\n  enterprise: Enterprise plan\n  beta: Private beta\n",
    "en/refunds.md": REFUNDS,
    "ja/refunds.md": REFUNDS_JA,
    "en/limits.md": LIMITS,
    "en/playbook.md": article_text("playbook", "Refund playbook", "Refund anything under fifty dollars at once.", audience="agents"),
    "en/saml.md": article_text("saml", "SAML sign-on", "Upload the identity provider metadata first.", audience="[enterprise]"),
}


@dataclass(frozen=True)
class Story:
    client: TestClient
    repo: Path

    def cite(self, article_id: str, quote: str, *, locale: str = "en", headers: dict[str, str] | None = None) -> dict[str, str]:
        """A citation as kb would give it now: the section holding ``quote``, and the article's revision."""
        article = self.client.get(f"/v1/articles/{article_id}", params={"locale": locale}, headers=headers).json()
        anchor = next(section["anchor"] for section in article["sections"] if quote in section["text"])
        return {"article_id": article_id, "locale": locale, "anchor": anchor, "revision": article["revision"], "quote": quote}

    def edit(self, files: dict[str, str | None], message: str = "Edit", **options: Any) -> str:
        """Commit ``files`` and reindex, as a sync would; returns the commit."""
        sha = commit_files(self.repo, files, message, **options)
        served_kb(self.client).refresh()
        return sha

    def resolve(self, citation: dict[str, str], headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = self.client.get("/v1/citations/resolve", params=citation, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def story(make_client, content_repo: Path) -> Story:
    return Story(make_client(ARTICLES, jwt_secret=JWT_SECRET), content_repo)


def agent(story: Story) -> dict[str, str]:
    return {"Authorization": "Bearer " + create_key(served_kb(story.client).engine, name="a", role="agent").secret}


def customer(*segments: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + issue_customer_token(secret=JWT_SECRET, subject="alice", segments=segments)}


def test_a_citation_resolves_as_same_right_after_it_was_taken(story: Story) -> None:
    citation = story.cite("refunds", "Refunds take ten days to reach your card.")
    body = story.resolve(citation)
    assert body["status"] == "same"
    assert (body["anchor"], body["heading_path"], body["url"]) == ("timing", ["Timing"], "/hc/en/articles/refunds#timing")
    assert body["text"] == citation["quote"] and body["similarity"] == 1.0
    assert body["revision"] == citation["revision"] and body["revision_current"] is True
    assert body["verified"] is True and body["deleted"] is None


def test_a_paragraph_added_before_the_quote_leaves_it_same_at_a_new_revision(story: Story) -> None:
    citation = story.cite("refunds", "Refunds take ten days to reach your card.")
    edited = story.edit({"en/refunds.md": REFUNDS.replace(TIMING, f"Card refunds start the day we approve them.\n\n{TIMING}")})
    body = story.resolve(citation)
    assert (body["status"], body["anchor"], body["text"]) == ("same", "timing", citation["quote"])
    assert body["revision"] == edited and body["revision_current"] is False and body["verified"] is True


def test_a_quote_whose_paragraph_went_under_a_new_heading_is_moved_there(story: Story) -> None:
    citation = story.cite("refunds", "Refunds take ten days to reach your card.")
    story.edit({"en/refunds.md": REFUNDS.replace(TIMING, f"It depends on the card.\n\n### To your card\n\n{TIMING}")})
    body = story.resolve(citation)
    assert (body["status"], body["anchor"], body["heading_path"]) == ("moved", "to-your-card", ["Timing", "To your card"])
    assert body["text"] == citation["quote"] and body["url"] == "/hc/en/articles/refunds#to-your-card"


def test_an_edited_sentence_is_changed_with_its_new_text(story: Story) -> None:
    citation = story.cite("refunds", "Refunds take ten days to reach your card.")
    story.edit({"en/refunds.md": REFUNDS.replace("ten days", "five business days")})
    body = story.resolve(citation)
    assert body["status"] == "changed" and body["anchor"] == "timing"
    assert body["text"] == "Refunds take five business days to reach your card."
    assert 0.6 <= body["similarity"] < 1 and body["verified"] is True


def test_an_edited_japanese_sentence_is_changed_with_its_new_text(story: Story) -> None:
    citation = story.cite("refunds", "返金がカードに反映されるまで 10 日ほどかかります。", locale="ja")
    story.edit({"ja/refunds.md": REFUNDS_JA.replace("まで 10 日ほど", "まで、通常 5 営業日ほど")})
    body = story.resolve(citation)
    assert (body["status"], body["anchor"], body["locale"]) == ("changed", citation["anchor"], "ja")
    assert body["text"] == "返金がカードに反映されるまで、通常 5 営業日ほどかかります。"
    assert 0.6 <= body["similarity"] < 1


def test_a_sentence_removed_from_the_article_is_gone(story: Story) -> None:
    citation = story.cite("refunds", "Refunds take ten days to reach your card.")
    story.edit({"en/refunds.md": REFUNDS.replace(TIMING, "Ask your bank about card statements.")})
    body = story.resolve(citation)
    assert body["status"] == "gone" and body["verified"] is True
    assert body["anchor"] is None and body["text"] is None and body["similarity"] is None
    assert body["url"] == "/hc/en/articles/refunds" and body["deleted"] is None


def test_a_sibling_that_was_already_beside_a_removed_sentence_is_not_its_edit(story: Story) -> None:
    """The other list item is as alike as an edit would be, but it was there when the quote was taken."""
    citation = story.cite("limits", "Agents refund up to $500 without approval.")
    story.edit({"en/limits.md": LIMITS.replace("- Agents refund up to $500 without approval.\n", "")})
    assert story.resolve(citation)["status"] == "gone"


def test_a_deleted_article_is_gone_with_the_commit_and_date_that_deleted_it(story: Story) -> None:
    citation = story.cite("refunds", "Refunds take ten days to reach your card.")
    when = (dt.datetime.now(dt.timezone(dt.timedelta(hours=2))) + dt.timedelta(days=1)).replace(microsecond=0)  # after its parent
    deleted = story.edit({"en/refunds.md": None}, "Retire the refunds page", date=when)
    body = story.resolve(citation)
    assert body["status"] == "gone" and body["article_id"] == "refunds"
    assert body["deleted"] == {"commit": deleted, "date": when.isoformat()}
    assert body["title"] is None and body["url"] is None and body["revision"] is None
    assert body["revision_current"] is False and body["verified"] is True


def test_a_deleted_article_that_was_moved_first_is_gone_at_its_deletion_not_its_move(story: Story) -> None:
    citation = story.cite("refunds", "Refunds take ten days to reach your card.")
    story.edit({}, "File refunds under billing", renames={"en/refunds.md": "en/billing/refunds.md"})
    deleted = story.edit({"en/billing/refunds.md": None}, "Retire the refunds page")
    assert story.resolve(citation)["deleted"]["commit"] == deleted


def test_a_renamed_id_resolves_to_the_article_that_lists_it_in_redirect_from(story: Story) -> None:
    citation = story.cite("refunds", "Refunds take ten days to reach your card.")
    renamed = REFUNDS.replace("id: refunds", "id: refund-policy\nredirect_from: [refunds]")
    story.edit({"en/refunds.md": None, "en/refund-policy.md": renamed}, "Rename the refunds page")
    body = story.resolve(citation)
    assert (body["article_id"], body["status"], body["anchor"]) == ("refund-policy", "same", "timing")
    assert body["url"] == "/hc/en/articles/refund-policy#timing" and body["verified"] is True


def test_a_forged_quote_is_unverified_not_changed(story: Story) -> None:
    """Close to a real sentence, but never in the article: no edit of it can be offered."""
    citation = story.cite("refunds", "Refunds take ten days to reach your card.") | {"quote": "Refunds take one day to reach your card."}
    body = story.resolve(citation)
    assert (body["status"], body["verified"]) == ("unverified", False)
    assert body["text"] is None and body["anchor"] is None


def test_a_quote_cited_under_another_section_is_found_but_not_verified(story: Story) -> None:
    citation = story.cite("refunds", "Refunds take ten days to reach your card.") | {"anchor": "partial-refunds"}
    body = story.resolve(citation)
    assert (body["status"], body["anchor"], body["verified"]) == ("moved", "timing", False)


def test_a_revision_that_names_no_commit_cannot_verify_the_quote(story: Story) -> None:
    citation = story.cite("refunds", "Refunds take ten days to reach your card.") | {"revision": "0" * 40}
    body = story.resolve(citation)
    assert (body["status"], body["verified"], body["revision_current"]) == ("same", None, False)


def unknown_answer(story: Story, citation: dict[str, str], headers: dict[str, str] | None = None) -> dict[str, Any]:
    """The 404 for an id that never existed, with the asked-for id written back in, to compare a hidden one with."""
    response = story.client.get("/v1/citations/resolve", params=citation | {"article_id": "zz-missing"}, headers=headers)
    body = assert_problem(response, 404)
    return body | {"detail": body["detail"].replace("zz-missing", citation["article_id"])}


@pytest.mark.parametrize(("article_id", "reader", "quote"), [
    ("playbook", "anonymous", "Refund anything under fifty dollars at once."),
    ("playbook", "customer", "Refund anything under fifty dollars at once."),
    ("saml", "customer:beta", "Upload the identity provider metadata first."),
])  # fmt: skip
def test_an_article_hidden_from_the_reader_answers_like_an_unknown_one(story: Story, article_id: str, reader: str, quote: str) -> None:
    citation = story.cite(article_id, quote, headers=agent(story))
    headers = {"anonymous": {}, "customer": customer(), "customer:beta": customer("beta")}[reader]
    response = story.client.get("/v1/citations/resolve", params=citation, headers=headers)
    assert_problem(response, 404)
    assert response.json() == unknown_answer(story, citation, headers)
    assert quote not in response.text and "Refund playbook" not in response.text


def test_a_segment_article_resolves_for_its_segment_and_an_internal_one_for_agents(story: Story) -> None:
    saml = story.cite("saml", "Upload the identity provider metadata first.", headers=customer("enterprise"))
    assert story.resolve(saml, customer("enterprise"))["status"] == "same"
    playbook = story.cite("playbook", "Refund anything under fifty dollars at once.", headers=agent(story))
    assert story.resolve(playbook, agent(story))["status"] == "same"


def test_a_hidden_articles_404_is_worded_as_get_article_words_a_missing_one(story: Story) -> None:
    citation = story.cite("playbook", "Refund anything under fifty dollars at once.", headers=agent(story))
    cited = story.client.get("/v1/citations/resolve", params=citation).json()
    article = story.client.get("/v1/articles/playbook", params={"locale": "en"}).json()
    assert cited == article


def test_an_article_deleted_while_internal_answers_like_an_unknown_one_but_staff_see_its_deletion(story: Story) -> None:
    """Public when cited, internal at its last revision: its deletion is no business of a customer's."""
    citation = story.cite("refunds", "Refunds take ten days to reach your card.")
    story.edit({"en/refunds.md": REFUNDS.replace("title:", "audience: agents\ntitle:")}, "Make refunds internal")
    deleted = story.edit({"en/refunds.md": None}, "Retire the refunds page")
    response = story.client.get("/v1/citations/resolve", params=citation)
    assert_problem(response, 404)
    assert response.json() == unknown_answer(story, citation) and deleted not in response.text
    assert story.resolve(citation, agent(story))["deleted"]["commit"] == deleted


def test_an_id_never_seen_at_the_cited_revision_is_a_404(story: Story) -> None:
    citation = story.cite("refunds", "Refunds take ten days to reach your card.") | {"article_id": "never-written"}
    assert_problem(story.client.get("/v1/citations/resolve", params=citation), 404)


VALID = {"article_id": "refunds", "locale": "en", "anchor": "timing", "revision": "a" * 40, "quote": "Refunds take ten days."}


@pytest.mark.parametrize(("field", "value"), [
    ("quote", None),
    ("quote", "   "),
    ("quote", "Refunds take ten days. " * 50),
    ("quote", "Refunds\x00take ten days."),
    ("locale", "fr"),
    ("locale", None),
    ("anchor", "timing\x1b[31m"),
    ("anchor", "t" * 201),
    ("article_id", "r" * 129),
    ("article_id", None),
    ("revision", None),
    ("revision", "HEAD"),
    ("revision", "--upload-pack=touch /tmp/pwned"),
    ("revision", "a" * 39),
    ("revision", "A" * 40),
])  # fmt: skip
def test_bad_input_is_a_422_naming_the_field(story: Story, field: str, value: str | None) -> None:
    params = {name: text for name, text in (VALID | {field: value}).items() if text is not None}
    assert_problem(story.client.get("/v1/citations/resolve", params=params), 422, field=field)
