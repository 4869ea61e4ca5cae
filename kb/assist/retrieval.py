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
from kb.core.requests import InvalidRequest
from search.encoder import Encoder
from search.passages import best_passage
from search.snapshot import Hit, IndexSnapshot, Matches

CANDIDATES = 20
"""Articles considered per question: more than any budget a prompt gives retrieval."""
DEFAULT_BUDGET = 1000
MAX_BUDGET = 100_000
MIN_CUT_CHARS = 80
"""A passage cut shorter than this says too little to be worth its citation."""
MODEL_TOKENIZER = "model"

TokenCounter = Callable[[str], int]


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
        return encoder.count_tokens
    return _tiktoken(name)


@cache
def _tiktoken(name: str) -> TokenCounter:
    try:
        import tiktoken  # type: ignore[import-not-found]  # optional: a bot's own tokenizer, when installed
    except ImportError:
        raise InvalidRequest("tokenizer", f"{name!r} is not installed here; use {MODEL_TOKENIZER!r} (the embedding model's)") from None
    try:
        encoding = tiktoken.get_encoding(name)
    except (KeyError, ValueError, OSError) as error:
        raise InvalidRequest("tokenizer", f"no tiktoken encoding {name!r} here ({error}); use {MODEL_TOKENIZER!r}") from None
    return lambda text: len(encoding.encode(text, disallowed_special=()))


def retrieve(
    kb: KnowledgeBase, question: Question, *, budget: int, count: TokenCounter, view: View, principal_kind: str
) -> Retrieved:
    """The best sections for ``question`` as ``view`` may read them, packed up to ``budget`` tokens, recorded in the ledger."""
    if not 1 <= budget <= MAX_BUDGET:
        raise InvalidRequest("token_budget", f"must be between 1 and {MAX_BUDGET}, got {budget}")
    snapshot = kb.snapshot
    results = kb.search_many([question_request(question, limit=CANDIDATES)], view=view, snapshot=snapshot)[0].results
    wanted = snapshot.lexical_index.term_mask(results.content_terms)
    passages = pack(snapshot, results.hits, wanted, budget=budget, count=count)
    context = join(passages)
    shown = [[Shown(p.citation.article_id, p.citation.locale, p.citation.anchor, p.citation.revision) for p in passages]]
    interaction = record_interactions(kb.engine, "retrieval", principal_kind=principal_kind, commit=snapshot.commit, shown=shown)[0]
    return Retrieved(interaction, snapshot.commit, passages, context, count(context) if context else 0)


def pack(snapshot: IndexSnapshot, hits: list[Hit], wanted: np.ndarray, *, budget: int, count: TokenCounter) -> list[Packed]:
    """Passages in rank order while they fit: whole sections, the last one cut to its best sentences if need be.

    ``wanted``: the question's content terms as a mask over term ids, as snippets take it.
    """
    packed: list[Packed] = []
    seen: list[str] = []
    used = 0
    for hit in hits:
        if any(p.citation.article_id == hit.article.id for p in packed):  # a translation says the same again
            continue
        room = budget - used - (count(SEPARATOR) if packed else 0)
        if room <= 0:
            break
        text = _fitting(hit, snapshot.matches(hit.chunk_id, wanted), len(packed) + 1, room, count)
        if text is None:
            break
        flat = " ".join(text.split())
        if any(flat in earlier for earlier in seen):
            continue
        seen.append(flat)
        citation = _citation(hit, snapshot.commit, text)
        packed.append(Packed(citation, hit.score, count(block(len(packed) + 1, citation))))
        used = count(join(packed))
    while packed and count(join(packed)) > budget:  # tokenisers are not always additive across the joins
        packed.pop()
    return packed


def _fitting(hit: Hit, matches: Matches, number: int, room: int, count: TokenCounter) -> str | None:
    """The hit's section, or its best sentences cut to fit ``room`` tokens with its header; None when nothing useful fits."""
    whole = hit.chunk.text
    if count(block(number, _citation(hit, "", whole))) <= room:
        return whole
    low, high, best = MIN_CUT_CHARS, len(whole), None
    while low <= high:  # the longest cut that fits
        middle = (low + high) // 2
        text = best_passage(whole, matches, max_chars=middle).text
        if count(block(number, _citation(hit, "", text))) <= room:
            best, low = text, middle + 1
        else:
            high = middle - 1
    return best


SEPARATOR = "\n\n"


def block(number: int, citation: Citation) -> str:
    """One source as the prompt shows it: ``[n] Title › Section`` then its text."""
    heading = " › ".join((citation.title, *citation.section))
    return f"[{number}] {heading}\n{citation.quote}"


def join(passages: list[Packed]) -> str:
    return SEPARATOR.join(block(number, p.citation) for number, p in enumerate(passages, start=1))


def _citation(hit: Hit, commit: str, quote: str) -> Citation:
    article, chunk = hit.article, hit.chunk
    return Citation(article.id, article.title, article.locale, chunk.anchor, chunk.heading_path, commit, article.revision, quote)
