"""What agents' suggestions, bots' answers and LLM retrieval cost over HTTP, as ratios to a search in the same run.

    python -m bench.assist_latency [--rounds 5]   # part of `make bench`; writes its section of docs/benchmarks.md

`kb serve` over the bundled sample with the query cache off, so every request encodes. For each of the
sample's English bench queries, a ~2,000-character ticket: the question written as an e-mail with a
greeting, signature, disclaimer, a quoted earlier reply and a log line, after two earlier messages
(`bench/noisy_tickets.py`'s noise). Each round sends, one at a time after 10 ms idle and in an order
that rotates, GET /v1/search for the question (anonymous, and with the agent's key, what a suggestion
pays to say who asks), POST /v1/suggestions for its ticket, POST /v1/answers for the question and POST
/v1/retrieve for it with a 1,000-token budget. Then 32 tickets as 32 single
calls against one POST /v1/suggestions:batch, and 32 questions likewise against POST /v1/answers:batch.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import numpy as np
from rich.console import Console

from bench.noisy_tickets import email
from bench.queries import SAMPLE_QUERIES
from bench.report import write_section
from bench.search_latency import timed_get, timed_request
from bench.server import ROOT, running_server
from kb.assist import Message, Ticket, ticket_request
from kb.core.bootstrap import load_encoder
from kb.core.settings import Settings
from search.cpu import cpu_description
from search.encoder import query_for_model
from search.query import CONVERSATION_TOKENS, conversation_text

IDLE_SECONDS = 0.01
TICKET_CHARS = 2000
BATCH = 32
THROUGHPUT_ROUNDS = 5

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
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
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
            times: dict[str, list[float]] = {surface: [] for surface in SURFACES}
            for round_number in range(args.rounds):
                for question, ticket in zip(questions, tickets, strict=True):
                    order = SURFACES[round_number % len(SURFACES) :] + SURFACES[: round_number % len(SURFACES)]
                    for surface in order:
                        time.sleep(IDLE_SECONDS)
                        times[surface].append(timed(connection, surface, question, ticket, agent))
            suggest_batch = throughput(connection, "/v1/suggestions", "tickets", tickets[:BATCH], agent)
            answer_batch = throughput(connection, "/v1/answers", "questions", [{"question": q} for q in (questions * BATCH)[:BATCH]], agent)
        floors = encode_floors(Settings(data_dir=Path(folder)), questions, tickets)
    p50 = {surface: float(np.percentile(values, 50)) * 1000 for surface, values in times.items()}
    sizes = [sum(len(m["text"]) for m in t["messages"]) for t in tickets]
    floor = p50["search with key"] + floors[1] - floors[0]
    lines = [
        "## Agents and bots: speed",
        "",
        f"- command: `make bench  # = python -m bench.assist_latency --rounds {args.rounds}`",
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"- machine: {platform.machine()}, {cpu_description()}, {os.cpu_count()} cores",
        f"- the sample help center, query cache off; {len(tickets)} questions, and tickets of {min(sizes)}–{max(sizes)} characters",
        "",
        "| request | p50 ms | ÷ search | target |",
        "|---|---|---|---|",
        f"| GET /v1/search | {p50['search']:.2f} | 1 | |",
        f"| GET /v1/search, agent key | {p50['search with key']:.2f} | {p50['search with key'] / p50['search']:.2f}× | |",
    ]
    for surface, target in (("suggestions", 2.0), ("answers", 1.5), ("retrieve", 1.5)):
        lines.append(f"| POST /v1/{surface} | {p50[surface]:.2f} | **{p50[surface] / p50['search']:.2f}×** | ≤ {target}× |")
    lines += [
        "",
        f"The floor a suggestion stands on, in the same run: the model alone takes {floors[0]:.2f} ms on a question and "
        f"{floors[1]:.2f} ms on a ticket's conversation as kb reads it ({CONVERSATION_TOKENS} tokens at most), so a search "
        f"with the agent's key and the ticket's encode instead of the question's would take {floor:.2f} ms, "
        f"{floor / p50['search']:.2f}× a search.",
        "",
    ]
    for name, (singles, batch), goal in (("tickets", suggest_batch, ""), ("questions", answer_batch, " (target ≥ 3×)")):
        lines.append(f"- {BATCH} {name} (medians of {THROUGHPUT_ROUNDS} rounds): {singles * 1000:.0f} ms as single calls, "
                     f"{batch * 1000:.0f} ms as one batch, "
                     f"**{singles / batch:.2f}×** the throughput{goal}")  # fmt: skip
    markdown = "\n".join(lines) + "\n"
    console.print(markdown, markup=False, highlight=False)
    write_section(args.out, "make bench: agents and bots", markdown)


SURFACES = ["search", "search with key", "suggestions", "answers", "retrieve"]


def encode_floors(settings: Settings, questions: list[str], tickets: list[dict]) -> tuple[float, float]:
    """p50 ms of the model alone on each question, and on each ticket's conversation as kb gives it to the model.

    The floor a suggestion stands on: its encode reads up to :data:`CONVERSATION_TOKENS` tokens where a
    search query is a few; the same export the server ran (the data folder's), loaded here.
    """
    encoder = load_encoder(settings)
    texts = []
    for ticket in tickets:
        messages = tuple(Message(m["role"], m["text"]) for m in ticket["messages"])
        request = ticket_request(Ticket(subject=ticket["subject"], messages=messages))
        context = tuple(" ".join(turn.split()) for turn in request.context)  # as KnowledgeBase.search_many hands it on
        texts.append(query_for_model(conversation_text(context, request.text, encoder)))
    timings = []
    for batch in (list(questions), texts):
        encoder.encode_queries(batch[:1])  # warm
        samples = []
        for text in batch * 3:
            started = time.perf_counter()
            encoder.encode_queries([text])
            samples.append(time.perf_counter() - started)
        timings.append(float(np.percentile(samples, 50)) * 1000)
    return timings[0], timings[1]


def timed(connection: http.client.HTTPConnection, surface: str, question: str, ticket: dict, agent: dict[str, str]) -> float:
    """One request of ``surface`` for this question (or its ticket), timed to the last byte."""
    if surface == "search":
        return timed_get(connection, "/v1/search?" + urlencode({"q": question, "locale": "en"}))
    if surface == "search with key":
        return timed_request(connection, "GET", "/v1/search?" + urlencode({"q": question, "locale": "en"}), headers=agent)
    if surface == "suggestions":
        return timed_request(connection, "POST", "/v1/suggestions", body=ticket, headers=agent)
    if surface == "answers":
        return timed_request(connection, "POST", "/v1/answers", body={"question": question})
    return timed_request(connection, "POST", "/v1/retrieve", body={"query": question, "token_budget": 1000})


def throughput(
    connection: http.client.HTTPConnection, path: str, field: str, bodies: list[dict], agent: dict[str, str]
) -> tuple[float, float]:
    """Median seconds, over :data:`THROUGHPUT_ROUNDS`, for ``bodies`` sent one by one to ``path`` and as one batch to ``path:batch``.

    One round of each is a single 70–400 ms sample: a stray pause on a 2-core machine moves it by 10%.
    """
    singles, batches = [], []
    for _ in range(THROUGHPUT_ROUNDS):
        singles.append(sum(timed_request(connection, "POST", path, body=body, headers=agent) for body in bodies))
        batches.append(timed_request(connection, "POST", f"{path}:batch", body={field: bodies}, headers=agent))
    return float(np.median(singles)), float(np.median(batches))


if __name__ == "__main__":
    main()
