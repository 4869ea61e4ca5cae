"""A ticket's text reduced to what retrieval should read: quotes, signatures, greetings, logs and case numbers out; codes kept."""

from __future__ import annotations

import pytest

from kb.assist.tickets import latest_reply, reduce_ticket_text

EMAIL = """Hi team,

Since yesterday the sync stops halfway through a large upload. Order #88231, call me on +1 415 555 0100.

2024-05-01 10:22:01 ERROR [sync] E1042 upload aborted ERR_SYNC_TIMEOUT
    at com.orbitly.sync.Uploader.push(Uploader.java:212)

Best regards,
Maria
--
Maria Lopez | Acme Corp
This e-mail and any attachments are confidential and intended solely for the addressee.

On Wed, Dec 20, 2023 at 13:37, Orbitly Support <help@orbitly.example> wrote:
> Could you tell us which version of the desktop app you are on?
> Best, Tom
"""

JAPANESE = """お世話になっております。

ログインできません。エラーコード E2001 が表示されます。注文番号 1234567 です。

よろしくお願いいたします。
山田 太郎
株式会社サンプル
"""


def test_only_the_newest_reply_is_kept_without_the_quoted_thread() -> None:
    assert "which version of the desktop app" not in latest_reply(EMAIL)
    assert "sync stops halfway" in latest_reply(EMAIL)


def test_greetings_signatures_and_disclaimers_are_dropped() -> None:
    reduced = reduce_ticket_text(EMAIL)
    for noise in ("Hi team", "Best regards", "Maria", "Acme", "confidential"):
        assert noise not in reduced


def test_a_log_line_leaves_its_error_codes_and_nothing_else() -> None:
    reduced = reduce_ticket_text(EMAIL)
    assert "E1042" in reduced and "ERR_SYNC_TIMEOUT" in reduced
    assert "10:22:01" not in reduced and "Uploader.java" not in reduced


def test_case_numbers_contact_details_go_and_the_words_around_them_stay() -> None:
    reduced = reduce_ticket_text(EMAIL)
    assert "88231" not in reduced and "415" not in reduced
    assert "Order" in reduced and "sync stops halfway through a large upload" in reduced
    assert reduce_ticket_text("My invoice INV-2024-0042 shows the wrong VAT.") == "My invoice shows the wrong VAT"


def test_a_japanese_ticket_loses_its_set_phrases_and_signature_and_keeps_its_code() -> None:
    reduced = reduce_ticket_text(JAPANESE)
    assert reduced == "ログインできません。エラーコード E2001 が表示されます。注文番号 です。"


def test_a_plain_question_passes_through_unchanged() -> None:
    assert reduce_ticket_text("How do I export my tasks to CSV?") == "How do I export my tasks to CSV?"


def test_a_ticket_of_nothing_but_pleasantries_reduces_to_nothing() -> None:
    assert reduce_ticket_text("Hello,\n\nThanks!\n\nBest regards,\nTom") == ""


@pytest.mark.parametrize(
    "text",
    [
        "Hello, I can't log in after the update",
        "Hey my app crashes on startup",
        "Best practices for SSO setup?",
        "Cheers app crashes on login",
        "WARNING: I cannot log in after the update",
        "INFO: we need to change the billing address",
        "In that case E1042 shows up",
        "ticket 2FA reset does not work",
    ],
)
def test_a_question_that_starts_like_a_pleasantry_log_or_case_number_is_kept_whole(text: str) -> None:
    assert reduce_ticket_text(text) == text


def test_a_list_of_what_the_customer_tried_and_a_thanks_mid_message_are_kept() -> None:
    text = "My sync fails with E1042\nI tried:\n- restarting the app\n- reinstalling\nThanks, but it is still broken. How do I fix it?"
    reduced = reduce_ticket_text(text)
    assert "- reinstalling" in reduced and reduced.endswith("How do I fix it?")


def test_a_quoted_line_without_a_header_is_not_read_as_the_customers_words() -> None:
    assert reduce_ticket_text("The export is empty.\n> Did you pick a date range?") == "The export is empty"
