"""A ticket's text reduced to what retrieval should read: the customer's own words, error codes kept.

Real tickets arrive as e-mail: a greeting, the question, a signature, a legal disclaimer, the whole
thread quoted below, a pasted log or stack trace, an order number. Each of those is words a search
would match articles on, and none says what the customer needs. So, for every text of a ticket:

1. the latest reply only, without quoted replies, reply headers, signatures and disclaimers, in
   English and Japanese, by `mail-parser-reply` (GitHub's reply-parsing rules, multilingual);
2. greetings that the library keeps ("Hi team,", "お世話になっております。") dropped, and a sign-off
   on its own line ("Thanks,", "よろしくお願いいたします。") with everything after it: the signature;
3. a log or stack-trace line reduced to the identifiers in it (``E1042``, ``ERR_SYNC_TIMEOUT``,
   ``ValueError``): timestamps, paths, addresses and frame lines say nothing about the topic;
4. numbers that only identify the customer's case removed: an order, ticket or invoice number (the
   word stays), long digit runs, e-mail addresses, URLs, phone numbers; a code such as ``E1042`` stays.
"""

from __future__ import annotations

import re
from functools import cache

_GREETING = re.compile(r"^(hi|hello|hey|dear|good (morning|afternoon|evening)|greetings)\b[\w .,'-]{0,40}[,!.:]?$", re.IGNORECASE)
_SIGN_OFF = re.compile(
    r"^(thanks|thank you|many thanks|thanks in advance|cheers|regards|best|best regards|kind regards|sincerely)\b[\w .,!'-]{0,40}$",
    re.IGNORECASE,
)
_JAPANESE_FORMULA = re.compile(
    r"(いつも)?お世話になって(おり|い)ます[。、]?|お疲れ様です[。、]?|(どうぞ)?よろしくお願い(いた|致)?(し|申し上げ)ます[。、]?"
    r"|ご確認(の程|のほど)?よろしくお願い(いた|致)?します[。、]?|以上(、)?よろしくお願いします[。、]?|ありがとうございます[。、]?"
)
_LOG_LINE = re.compile(
    r"^\s*(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}|\[\d{2}:\d{2}|at [\w.$<>]+\(|File \"[^\"]+\", line \d+|Traceback \(most recent call last\)"
    r"|(DEBUG|INFO|WARN|WARNING|ERROR|FATAL|CRITICAL)\b[\s:\[])"
)
_IDENTIFIER = re.compile(
    r"\b([A-Z]{1,6}[-_]?\d{2,6}|[A-Z][A-Z0-9]*(_[A-Z0-9]+)+|[A-Z][a-zA-Z]+(Error|Exception|Fault)"
    r"|HTTP \d{3}|\d{3} [A-Z][a-z]+( [A-Z][a-z]+)*)\b"
)
_CASE_NUMBERS = re.compile(
    r"[\w.+-]+@[\w-]+\.[\w.-]+"  # e-mail addresses
    r"|https?://\S+"  # URLs
    r"|\+?\d[\d ()-]{7,}\d"  # phone numbers
    r"|#\s?\d+|(?<![A-Za-z\d])\d{5,}(?![A-Za-z\d])"
)
_CASE_REFERENCE = re.compile(
    r"\b(order|ticket|case|invoice|reference|ref|注文番号|お問い合わせ番号|注文)(\s*(no\.?|number|番号|#)?\s*[:#：]?\s*)[A-Z0-9-]*\d[A-Z0-9-]*",
    re.IGNORECASE,
)
_CLOSING_JA = re.compile(r"^((どうぞ)?よろしくお願い(いた|致)?(し|申し上げ)ます|以上です|以上、よろしくお願いします)[。!！]?$")


@cache
def _reply_parser():  # mailparser_reply.EmailReplyParser; built once, its patterns compiled once
    from mailparser_reply import EmailReplyParser

    return EmailReplyParser(languages=["en", "ja"])


def latest_reply(text: str) -> str:
    """The text's newest reply alone: quoted earlier replies, their headers, signatures and disclaimers removed."""
    replies = _reply_parser().read(text).replies
    return replies[0].body if replies else text


def reduce_ticket_text(text: str) -> str:
    """What of one ticket text retrieval should read (see the module's docstring); empty when nothing is left."""
    kept = []
    for line in latest_reply(text).splitlines():
        line = line.strip().lstrip(">").strip()
        if _SIGN_OFF.match(line) or _CLOSING_JA.match(line):
            break  # what follows a sign-off is the signature
        if not line or _GREETING.match(line):
            continue
        if _LOG_LINE.match(line):
            identifiers = [match.group(0) for match in _IDENTIFIER.finditer(line)]
            if identifiers:
                kept.append(" ".join(dict.fromkeys(identifiers)))
            continue
        line = _JAPANESE_FORMULA.sub("", line)
        line = _CASE_NUMBERS.sub(" ", _CASE_REFERENCE.sub(r"\1", line))
        line = re.sub(r"\s+([,.;:!?])", r"\1", re.sub(r"\s{2,}", " ", line)).strip(" ,.;:")
        if line:
            kept.append(line)
    return "\n".join(kept)
