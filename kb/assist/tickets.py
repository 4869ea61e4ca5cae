"""A ticket's text reduced to what retrieval should read: the customer's own words, error codes kept.

Real tickets arrive as e-mail: a greeting, the question, a signature, a legal disclaimer, the whole
thread quoted below, a pasted log or stack trace, an order number. Each of those is words a search
would match articles on, and none says what the customer needs. So, for every text of a ticket:

1. the latest reply only, without quoted replies and their "On … wrote:" headers, in English and
   Japanese, by `mail-parser-reply` (GitHub's reply-parsing rules, multilingual);
2. greetings on a short line of their own ("Hi team,", "お世話になっております。") dropped, and a sign-off
   on a short line of its own ("Thanks,", "よろしくお願いいたします。"), a "--" or "Sent from my…" line,
   with everything after it: the signature; lines of a legal disclaimer dropped;
3. a log or stack-trace line reduced to the identifiers in it (``E1042``, ``ERR_SYNC_TIMEOUT``,
   ``ValueError``): timestamps, paths, addresses and frame lines say nothing about the topic;
4. numbers that only identify the customer's case removed: an order, ticket or invoice number of four
   digits or more (the word stays), long digit runs, e-mail addresses, URLs, phone numbers; a code such
   as ``E1042`` or ``2FA`` stays, after "case" too.
"""

from __future__ import annotations

import re
from functools import cache

SHORT_LINE_WORDS = 4
"""A greeting or sign-off is a short line of its own ("Hi team,", "Best regards,"): "Hello, I can't log in" is the question."""
_GREETING = re.compile(r"^(hi|hello|hey|dear|good (morning|afternoon|evening)|greetings)\b[\w .,'-]*[,!.:]?$", re.IGNORECASE)
_SIGN_OFF = re.compile(
    r"^(thanks|thank you|many thanks|cheers|regards|best|best regards|kind regards|sincerely)\b[\w .,!'-]*$", re.IGNORECASE
)
_SIGNATURE_START = re.compile(r"^(--\s*|__+|sent from my \w+.*)$", re.IGNORECASE)
_DISCLAIMER = re.compile(
    r"\b(confidential|privileged|intended (solely|only) for|received (this|it) in error)\b|機密|誤って(受信|送信)", re.IGNORECASE
)
_JAPANESE_FORMULA = re.compile(
    r"(いつも)?お世話になって(おり|い)ます[。、]?|お疲れ様です[。、]?|(どうぞ)?よろしくお願い(いた|致)?(し|申し上げ)ます[。、]?"
    r"|ご確認(の程|のほど)?よろしくお願い(いた|致)?します[。、]?|以上(、)?よろしくお願いします[。、]?|ありがとうございます[。、]?"
)
_CLOSING_JA = re.compile(r"^((どうぞ)?よろしくお願い(いた|致)?(し|申し上げ)ます|以上です|以上、よろしくお願いします)[。!！]?$")
_LOG_LINE = re.compile(
    r"^\s*(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}|\[\d{2}:\d{2}|at [\w.$<>]+\(|File \"[^\"]+\", line \d+|Traceback \(most recent call last\)"
    r"|(DEBUG|INFO|WARN|WARNING|ERROR|FATAL|CRITICAL)\s*\[)"
)
_IDENTIFIER = re.compile(
    r"\b([A-Z]{1,6}[-_]?\d{2,6}|[A-Z][A-Z0-9]*(_[A-Z0-9]+)+|[A-Z][a-zA-Z]+(Error|Exception|Fault)"
    r"|HTTP \d{3}|\d{3} [A-Z][a-z]+( [A-Z][a-z]+)*)\b"
)
_CASE_NUMBERS = re.compile(
    r"[\w.+-]{1,64}@[\w-]{1,63}\.[\w.-]{1,63}"  # e-mail addresses (bounded: no quadratic backtracking on a long word)
    r"|https?://\S+"  # URLs
    r"|\+?\d[\d ()-]{7,}\d"  # phone numbers
    r"|#\s?\d+|(?<![A-Za-z\d])\d{5,}(?![A-Za-z\d])"
)
_CASE_REFERENCE = re.compile(
    r"\b(?P<word>order|ticket|case|invoice|reference|ref|注文番号|お問い合わせ番号|注文)\s*(?:no\.?|number|番号|#)?\s*[:#：]?\s*"
    r"(?P<number>[A-Z0-9-]*\d[A-Z0-9-]*)",
    re.IGNORECASE,
)
CASE_NUMBER_DIGITS = 4
"""A number after "order", "ticket", "invoice"… with this many digits identifies a case; "2FA" or "E1042" after "case" is a topic."""


REPLY_LANGUAGES = ["en", "ja"]


@cache
def _reply_header():  # the library's rules for where a quoted reply starts, compiled once
    from mailparser_reply.parser import EmailMessage

    return EmailMessage(text="", languages=list(REPLY_LANGUAGES)).HEADER_REGEX


def latest_reply(text: str) -> str:
    """The text's newest reply alone, its own signature and disclaimer still in: quoted earlier replies and their headers removed.

    The newest reply is what comes before the first reply header the library's rules find ("On …
    wrote:", a "From:/Sent:" block, their Japanese forms). The library's own signature and disclaimer
    rules are not used: they cut at any "- item" line (a list of what the customer tried) and at
    "Thanks," even mid-message ("Thanks, but the PDF is still empty"), and running them over every
    reply was four fifths of reading a ticket. A text that opens with a header (a forwarded mail) is
    left to the library's whole parse.
    """
    from mailparser_reply.parser import EmailMessage

    message = EmailMessage(text=text, languages=list(REPLY_LANGUAGES))  # normalises line ends and spaces, as its parse reads it
    header = _reply_header().search(message.text)
    newest = message.text[: header.start() if header else len(message.text)].strip()
    if newest or not header:
        return newest
    replies = message.read().replies
    return replies[0].content if replies else text


def _short(line: str) -> bool:
    return len(line.split()) <= SHORT_LINE_WORDS


def _without_case_number(match: re.Match[str]) -> str:
    number = match.group("number")
    if _IDENTIFIER.fullmatch(number) or sum(c.isdigit() for c in number) < CASE_NUMBER_DIGITS:
        return match.group(0)
    return match.group("word")


def reduce_ticket_text(text: str) -> str:
    """What of one ticket text retrieval should read (see the module's docstring); empty when nothing is left."""
    kept = []
    lines = latest_reply(text).splitlines()
    for line in lines:
        line = line.strip()
        if line.startswith(">") and len(lines) > 1:
            continue  # a quoted line the library left (no "wrote:" header above it): not the customer's words now
        if _SIGNATURE_START.match(line) or (_short(line) and _SIGN_OFF.match(line)) or _CLOSING_JA.match(line):
            break  # what follows a sign-off is the signature
        if not line or (_short(line) and _GREETING.match(line)) or _DISCLAIMER.search(line):
            continue
        if _LOG_LINE.match(line):
            identifiers = [match.group(0) for match in _IDENTIFIER.finditer(line)]
            if identifiers:
                kept.append(" ".join(dict.fromkeys(identifiers)))
            continue
        line = _JAPANESE_FORMULA.sub("", line)
        line = _CASE_NUMBERS.sub(" ", _CASE_REFERENCE.sub(_without_case_number, line))
        line = re.sub(r"\s+([,.;:!?])", r"\1", re.sub(r"\s{2,}", " ", line)).strip(" ,.;:")
        if line:
            kept.append(line)
    return "\n".join(kept)
