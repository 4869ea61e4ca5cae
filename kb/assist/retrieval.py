"""Retrieval for LLM bots: the best sections for a question, cited, packed into a prompt up to a token budget.

A bot that writes its own answer with a language model needs the help center's words, not kb's
answer: the sections that match, best first, each with the citation that lets a reader check it,
and no more than fits its prompt. Each article gives its best section; one that does not fit whole
is cut to the sentences that hold the question's words (`search/passages.py`), and the packing stops
at the first that does not fit even cut. A passage repeating one already packed (the same text in two
articles, or a translation of an article already packed) is left out. Tokens are counted with the embedding model's tokenizer, or with a
``tiktoken`` encoding the caller names when ``tiktoken`` is installed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

from kb.access.rules import View
from kb.assist.answers import Citation, Question, question_request
from kb.assist.ledger import Shown, record_interactions
from kb.core.knowledge_base import KnowledgeBase
from kb.core.requests import InvalidRequest, SearchRequest
from search.encoder import Encoder
from search.passages import best_passage
from search.snapshot import Hit, IndexSnapshot

CANDIDATES = 20
"""Articles considered per question: more than any budget a prompt gives retrieval."""
DEFAULT_BUDGET = 1000
MAX_BUDGET = 100_000
MIN_CUT_CHARS = 80
"""A passage cut shorter than this says too little to be worth its citation."""
MODEL_TOKENIZER = "model"



@dataclass(frozen=True)
class TokenCounter:
    """How a bot's tokens are counted, and whether a joined text counts as the sum of its parts.

    The embedding model's WordPiece tokenizer splits on whitespace before anything else, so blocks
    joined by blank lines count as their sum and the total never needs counting again (every token
    counted costs about a microsecond); a byte-pair encoding can merge across a join, so its total is
    counted once more at the end.
    """

    count: Callable[[str], int]
    additive: bool


@dataclass(frozen=True)
class Packed:
    citation: Citation
    """``quote`` is the passage: the whole section, or the sentences of it that fitted."""
    score: float
    tokens: int
    """Tokens of this passage's block in :attr:`Retrieved.context` (its header line and text)."""


@dataclass(frozen=True)
class Retrieved:
    interaction_id: str
    commit: str
    passages: list[Packed]
    context: str
    """The passages as one prompt-ready text: a numbered header per source, then its text."""
    tokens: int
    """Tokens of ``context``: never more than the budget."""


def token_counter(name: str, encoder: Encoder) -> TokenCounter:
    """How to count tokens for ``name``: the embedding model's tokenizer, or an installed tiktoken encoding."""
    if name == MODEL_TOKENIZER:
        return TokenCounter(encoder.count_tokens, additive=True)
    return TokenCounter(_tiktoken(name), additive=False)


@cache
def _tiktoken(name: str) -> Callable[[str], int]:
    try:
        import tiktoken  # type: ignore[import-not-found]  # optional: a bot's own tokenizer, when installed
    except ImportError:
        raise InvalidRequest("tokenizer", f"{name!r} is not installed here; use {MODEL_TOKENIZER!r} (the embedding model's)") from None
    try:
        encoding = tiktoken.get_encoding(name)
    except (KeyError, ValueError, OSError) as error:
        raise InvalidRequest("tokenizer", f"no tiktoken encoding {name!r} here ({error}); use {MODEL_TOKENIZER!r}") from None
    return lambda text: len(encoding.encode(text, disallowed_special=()))


def retrieval_request(question: Question) -> SearchRequest:
    """The search a retrieval asks for: the question's (:func:`question_request`), for :data:`CANDIDATES` articles."""
    return question_request(question, limit=CANDIDATES)


def retrieve(
    kb: KnowledgeBase, request: SearchRequest, *, budget: int, counter: TokenCounter, view: View, principal_kind: str
) -> Retrieved:
    """The best sections for a question's search (:func:`retrieval_request`) as ``view`` may read them, packed up to ``budget`` tokens."""
    if not 1 <= budget <= MAX_BUDGET:
        raise InvalidRequest("token_budget", f"must be between 1 and {MAX_BUDGET}, got {budget}")
    snapshot = kb.snapshot
    results = kb.search_many([request], view=view, snapshot=snapshot)[0].results
    wanted = snapshot.lexical_index.term_mask(results.content_terms)
    passages, tokens = pack(snapshot, results.hits, wanted, budget=budget, counter=counter)
    shown = [[Shown(p.citation.article_id, p.citation.locale, p.citation.anchor, p.citation.revision) for p in passages]]
    interaction = record_interactions(kb.writer, "retrieval", principal_kind=principal_kind, commit=snapshot.commit, shown=shown)[0]
    return Retrieved(interaction, snapshot.commit, passages, join(passages), tokens)


def pack(
    snapshot: IndexSnapshot, hits: list[Hit], wanted: np.ndarray, *, budget: int, counter: TokenCounter
) -> tuple[list[Packed], int]:
    """Passages in rank order while they fit, whole sections, the last one cut to its best sentences if need be; and their tokens.

    ``wanted``: the question's content terms as a mask over term ids, as snippets take it. Each block is
    counted once and the total added up (:class:`TokenCounter`).
    """
    count = counter.count
    packed: list[Packed] = []
    seen: list[str] = []
    used, between = 0, count(SEPARATOR)
    for hit in hits:
        if any(p.citation.article_id == hit.article.id for p in packed):  # a translation says the same again
            continue
        room = budget - used - (between if packed else 0)
        fitted = _fitting(snapshot, hit, wanted, len(packed) + 1, room, counter) if room > 0 else None
        if fitted is None:
            break
        text, tokens = fitted
        flat = " ".join(text.split())
        if any(flat in earlier for earlier in seen):
            continue
        seen.append(flat)
        packed.append(Packed(Citation.of(hit, snapshot.commit, text), hit.score, tokens))
        used += tokens + (between if len(packed) > 1 else 0)
    if counter.additive:
        return packed, used
    while packed and (used := count(join(packed))) > budget:
        packed.pop()
    return packed, used if packed else 0


CUT_TRIES = 6


def _fitting(
    snapshot: IndexSnapshot, hit: Hit, wanted: np.ndarray, number: int, room: int, counter: TokenCounter
) -> tuple[str, int] | None:
    """The hit's section, or its best sentences cut to fit ``room`` tokens with its header, and their tokens.

    A cut is sized from the section's own characters per token, then shrunk while it does not fit: a
    few counts, not one per sentence. None when not even :data:`MIN_CUT_CHARS` would fit.
    """
    count, whole = counter.count, hit.chunk.text
    if counter.additive:  # the header line and the text apart: the text's count is the snapshot's, kept
        tokens = count(header(number, Citation.of(hit, "", ""))) + snapshot.text_tokens(hit.chunk_id, count)
    else:
        tokens = count(block(number, Citation.of(hit, "", whole)))
    if tokens <= room:
        return whole, tokens
    chars = int(len(whole) * room / tokens)
    matches = snapshot.matches(hit.chunk_id, wanted)
    for _ in range(CUT_TRIES):
        if chars < MIN_CUT_CHARS:
            return None
        text = best_passage(whole, matches, max_chars=chars).text
        tokens = count(block(number, Citation.of(hit, "", text)))
        if tokens <= room:
            return text, tokens
        chars = int(chars * room / tokens * 0.9)
    return None


SEPARATOR = "\n\n"


def header(number: int, citation: Citation) -> str:
    """A source's first line in the prompt: ``[n] Title › Section``."""
    return f"[{number}] " + " › ".join((citation.title, *citation.section))


def block(number: int, citation: Citation) -> str:
    """One source as the prompt shows it: its header line, then its text."""
    return f"{header(number, citation)}\n{citation.quote}"


def join(passages: list[Packed]) -> str:
    return SEPARATOR.join(block(number, p.citation) for number, p in enumerate(passages, start=1))
