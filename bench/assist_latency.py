"""What agents' suggestions cost over HTTP, as a ratio to a search in the same run.

    python -m bench.assist_latency [--rounds 5]

`kb serve` over the bundled sample with the query cache off, so every request encodes. For each of the
sample's English bench queries, a ~2,000-character ticket: the question written as an e-mail with a
greeting, signature, disclaimer, a quoted earlier reply and a log line, after two earlier messages
(`bench/noisy_tickets.py`'s noise). Each round sends, one at a time after 10 ms idle and in alternating
order, GET /v1/search for the question and POST /v1/suggestions for its ticket. Then 32 tickets as 32
single calls against one POST /v1/suggestions:batch.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlencode, urlsplit

import numpy as np
from rich.console import Console

from bench.noisy_tickets import email
from bench.queries import SAMPLE_QUERIES
from bench.search_latency import timed_get, timed_request
from bench.server import ROOT, running_server

IDLE_SECONDS = 0.01
TICKET_CHARS = 2000
BATCH = 32

console = Console()


def ticket_for(question: str, rng: random.Random) -> dict:
    """The question as the last e-mail of a ticket of about :data:`TICKET_CHARS` characters."""
    earlier = "I wrote last week about our workspace settings and the team's access; nothing changed since."
    messages = [
        {"role": "customer", "text": email(earlier, None, rng)},
        {"role": "agent", "text": "Thanks for writing in. Could you tell us a little more about what you are trying to do?"},
    ]
    last = email(question, messages[-1]["text"], rng)
    while sum(len(m["text"]) for m in messages) + len(last) < TICKET_CHARS:
        last += "\n> " + earlier
    return {"subject": question[:60], "body": "", "messages": [*messages, {"role": "customer", "text": last}]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(7)
    questions = [query for query, locale in SAMPLE_QUERIES if locale == "en"]
    tickets = [ticket_for(question, rng) for question in questions]
    with tempfile.TemporaryDirectory() as folder:
        env = {"KB_DATA_DIR": folder, "KB_QUERY_CACHE_SIZE": "0", "KB_RATE_LIMIT_ANONYMOUS": "1000000/minute",
               "KB_RATE_LIMIT_KEYS": "1000000/minute"}  # fmt: skip
        with running_server(env) as server:
            command = [sys.executable, "-m", "kb", "keys", "create", "--role", "agent", "--name", "bench"]
            created = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, check=True, cwd=ROOT)
            agent = {"Authorization": f"Bearer {created.stdout.strip()}"}
            connection = http.client.HTTPConnection(urlsplit(server.base).netloc, timeout=60)
            searches, suggestions = [], []
            for round_number in range(args.rounds):
                for question, ticket in zip(questions, tickets, strict=True):
                    pair = [("search", question, ticket), ("suggest", question, ticket)]
                    for kind, asked, sent in pair if round_number % 2 == 0 else reversed(pair):
                        time.sleep(IDLE_SECONDS)
                        if kind == "search":
                            searches.append(timed_get(connection, "/v1/search?" + urlencode({"q": asked, "locale": "en"})))
                        else:
                            suggestions.append(timed_request(connection, "POST", "/v1/suggestions", body=sent, headers=agent))
            chosen = tickets[:BATCH]
            singles = sum(timed_request(connection, "POST", "/v1/suggestions", body=t, headers=agent) for t in chosen)
            batch = timed_request(connection, "POST", "/v1/suggestions:batch", body={"tickets": chosen}, headers=agent)
    search_p50, suggest_p50 = np.percentile(searches, 50) * 1000, np.percentile(suggestions, 50) * 1000
    sizes = [sum(len(m["text"]) for m in t["messages"]) for t in tickets]
    console.print(f"tickets: {len(tickets)}, {min(sizes)}–{max(sizes)} characters (median {int(np.median(sizes))})")
    console.print(f"GET /v1/search p50 {search_p50:.2f} ms; POST /v1/suggestions p50 {suggest_p50:.2f} ms: "
                  f"**{suggest_p50 / search_p50:.2f}×** (target ≤ 2×)")  # fmt: skip
    console.print(f"{BATCH} tickets: {singles * 1000:.0f} ms as single calls, {batch * 1000:.0f} ms as one batch: "
                  f"**{singles / batch:.2f}×** the throughput")  # fmt: skip


if __name__ == "__main__":
    main()
