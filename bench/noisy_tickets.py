"""What reducing a ticket buys: doc2dial's conversations written as e-mail tickets, with and without the reduction.

    python -m bench.noisy_tickets ../shared/data/doc2dial-dev

doc2dial's turns are clean chat. Helpdesk tickets are not: each customer message arrives as an e-mail
with a greeting, a sign-off and signature, a legal disclaimer, the previous reply quoted below it, and
now and then a pasted log line or an order number. This bench writes each conversation so (one fixed
random seed; the noise is the kind `kb/assist/tickets.py` describes, in English), then measures kb's
suggestions (nDCG@10, Recall@3) on the clean conversation, on the e-mails as they are, and on the e-mails
reduced, as `POST /v1/suggestions` reads them.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
from pathlib import Path

from rich.console import Console
from rich.table import Table

from kb.assist.suggestions import Message, Ticket, ticket_request
from kb.assist.tickets import reduce_ticket_text
from kb.core.bootstrap import load_encoder
from kb.core.requests import InvalidRequest, SearchRequest
from kb.core.settings import Settings
from kb.evaluation.beir import Dataset, Turn, load_dataset
from kb.evaluation.run import DEPTH, open_corpus
from kb.evaluation.suggestions import SUGGESTION_METRICS, score_requests

GREETINGS = ["Hi team,", "Hello,", "Hi there,", "Dear support,", "Good morning,"]
SIGN_OFFS = ["Thanks,", "Best regards,", "Kind regards,", "Thank you,", "Cheers,"]
NAMES = ["Maria Lopez", "Tom Becker", "Aiko Tanaka", "Sam Patel", "Jordan Reyes"]
COMPANIES = ["Acme Corp", "Northwind Traders", "Globex", "Initech", "Umbrella Health"]
DISCLAIMER = (
    "This e-mail and any attachments are confidential and intended solely for the addressee. If you received it "
    "in error, please notify the sender and delete it."
)
LOG_LINES = [
    "2024-05-01 10:22:01 ERROR [portal] session expired for user id 88213",
    "2024-03-18 08:02:44 WARN  [auth] retry 3 of 5, upstream timeout after 30000 ms",
    "    at com.portal.web.FormController.submit(FormController.java:212)",
]


def email(turn: str, quoted: str | None, rng: random.Random) -> str:
    """One customer turn as an e-mail: greeting, the words, maybe a case number or a log line, signature, quote."""
    parts = [rng.choice(GREETINGS), "", turn]
    if rng.random() < 0.3:
        parts.append(f"My reference number is {rng.randint(100000, 999999)}.")
    if rng.random() < 0.2:
        parts += ["", rng.choice(LOG_LINES)]
    name = rng.choice(NAMES)
    parts += ["", rng.choice(SIGN_OFFS), name, f"{rng.choice(COMPANIES)} | +1 415 555 {rng.randint(1000, 9999)}", DISCLAIMER]
    if quoted:
        parts += ["", f"On Tue, Mar 5, 2024 at 10:{rng.randint(10, 59)} AM, Support <help@example.com> wrote:"]
        parts += [f"> {line}" for line in quoted.splitlines()]
    return "\n".join(parts)


def noisy_ticket(turns: tuple[Turn, ...], last: str, rng: random.Random) -> Ticket:
    """The conversation as a ticket whose customer messages are e-mails, each quoting the agent's reply before it."""
    messages, previous_agent = [], None
    for turn in (*turns, Turn("customer", last)):
        if turn.role == "agent":
            messages.append(Message("agent", turn.text))
            previous_agent = turn.text
        else:
            messages.append(Message("customer", email(turn.text, previous_agent, rng)))
    return Ticket(messages=tuple(messages), limit=DEPTH)


def requests_for(dataset: Dataset, *, noisy: bool, reduce: bool, language: str) -> dict[str, SearchRequest]:
    rng = random.Random(7)
    requests = {}
    for qid, text in dataset.queries.items():
        turns = dataset.conversations.get(qid, ())
        if noisy:
            ticket = noisy_ticket(turns, text, rng)
        else:
            ticket = Ticket(messages=(*(Message(t.role, t.text) for t in turns), Message("customer", text)), limit=DEPTH)
        try:
            # Unreduced: every e-mail whole, as the helpdesk holds it.
            requests[qid] = ticket_request(dataclasses.replace(ticket, locale=language), reduce=reduce_ticket_text if reduce else str.strip)
        except InvalidRequest:
            continue
    return requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path)
    args = parser.parse_args()
    dataset = load_dataset(args.data)
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    kb, ids, language = open_corpus(dataset, settings=settings, encoder=load_encoder(settings), progress=None)
    table = Table("tickets", *SUGGESTION_METRICS, title=f"{dataset.name}: kb suggestions")
    for name, noisy, reduce in (
        ("clean conversation", False, True),
        ("e-mails as they came", True, False),
        ("e-mails reduced (kb)", True, True),
    ):
        requests = requests_for(dataset, noisy=noisy, reduce=reduce, language=language)
        metrics = score_requests(kb, ids, dataset.qrels, requests, settings=settings, label=name)
        table.add_row(name, *(f"{metrics[m]:.4f}" for m in SUGGESTION_METRICS))
    kb.close()
    Console().print(table)


if __name__ == "__main__":
    main()
