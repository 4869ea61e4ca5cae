"""How much search loses when customers mistype: the English sets' queries with one seeded typo each.

`python -m bench.typos ../shared/data [--data-dir DIR]`: per English set, nDCG@10 on the clean queries
and on the same queries with one typo seeded in each, for plain BM25, plain dense retrieval (the same
model, run as sentence-transformers does), kb's keyword and hybrid search, and kb hybrid with typo
tolerance off (``KB_TYPO_TOLERANCE=false``); the drop is clean minus typo, and the mean is over the sets.

A typo is one edit of the classic four — a letter dropped, one added, one replaced, two neighbours
swapped — at a random place past the first letter of a random word of five letters or more: the
words typo tolerance is for (a word of four letters is matched exactly, as in Meilisearch). A query
without such a word stays as it is, and is counted. The seed is the query id, so every run and every
system reads the same typos. Seeded here rather than by a library: four edits, and their rules are
the measurement's, written beside it.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import string
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.report import write_section
from kb.cli.common import progress_bar
from kb.core.bootstrap import load_encoder
from kb.core.db import DatabaseVectorStore, make_engine
from kb.core.settings import Settings
from kb.evaluation.baselines import PlainBM25, PlainDense
from kb.evaluation.beir import Dataset, load_dataset
from kb.evaluation.metrics import score
from kb.evaluation.progress import stage_rows
from kb.evaluation.run import DEPTH, Progress, open_corpus, rank_with_kb
from search.encoder import Encoder, SentenceTransformerEncoder
from search.typos import ONE_TYPO_FROM

ROOT = Path(__file__).resolve().parent.parent
SETS = ("stackfaq", "feedbackqa-australia", "feedbackqa-cdc", "doc2dial-dev")
_WORD = re.compile(rf"\b[^\W\d_]{{{ONE_TYPO_FROM},}}\b")


def seeded_typo(query_id: str, text: str) -> str:
    """``text`` with one edit in one of its words of five letters or more (unchanged without one); the same every run."""
    rng = random.Random(hashlib.sha256(query_id.encode()).digest())
    words = [match for match in _WORD.finditer(text) if not match.group().isupper()]
    if not words:
        return text
    word = rng.choice(words)
    letters, at = word.group(), rng.randrange(1, len(word.group()))
    edit = rng.choice(("drop", "add", "replace", "swap"))
    letter = rng.choice(string.ascii_lowercase)
    if edit == "drop":
        typed = letters[:at] + letters[at + 1 :]
    elif edit == "add":
        typed = letters[:at] + letter + letters[at:]
    elif edit == "replace":
        typed = letters[:at] + (letter if letter != letters[at].lower() else "q") + letters[at + 1 :]
    else:
        at = min(at, len(letters) - 2)
        first, second = letters[at], letters[at + 1]
        swapped = letters[:at] + second + first + letters[at + 2 :]
        typed = swapped if first != second else letters[:at] + letters[at + 1 :]  # "ll" swapped is no typo: drop one
    return text[: word.start()] + typed + text[word.end() :]


@dataclass
class Row:
    system: str
    clean: float
    typo: float

    @property
    def drop(self) -> float:
        return self.clean - self.typo


def measure(data: Dataset, *, settings: Settings, encoder: Encoder, progress: Progress | None) -> tuple[list[Row], int]:
    """Each system's nDCG@10 on the clean and the mistyped queries of ``data``; and how many queries got a typo."""
    typed = {qid: seeded_typo(qid, text) for qid, text in data.queries.items()}
    changed = sum(typed[qid] != text for qid, text in data.queries.items())
    rows = []
    for tolerance in (True, False):
        run_settings = settings.model_copy(update={"typo_tolerance": tolerance})
        kb, ids, language = open_corpus(data, settings=run_settings, encoder=encoder, progress=progress)
        for mode in ("keyword", "hybrid") if tolerance else ("hybrid",):
            ndcg = [score(data.qrels, rank_with_kb(kb, ids, queries, mode=mode, locale=language, progress=progress))["ndcg@10"]
                    for queries in (data.queries, typed)]  # fmt: skip
            rows.append(Row(f"kb {mode}" + ("" if tolerance else ", typo tolerance off"), *ndcg))
        kb.close()
    reference = SentenceTransformerEncoder(settings.embedding_model, batch_size=settings.embedding_batch_size)
    for baseline in (PlainBM25("en"), PlainDense(reference, store=DatabaseVectorStore(make_engine(settings.database)))):
        baseline.index(data.documents)
        ndcg = [score(data.qrels, baseline.rank(queries, depth=DEPTH))["ndcg@10"] for queries in (data.queries, typed)]
        rows.append(Row(baseline.name, *ndcg))
    return rows, changed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path, help="the folder of benchmark sets (../shared/data)")
    parser.add_argument("--data-dir", type=Path, default=None, help="kb's data folder (default: KB_DATA_DIR)")
    parser.add_argument("--sets", nargs="*", default=list(SETS))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md", help="page to write the table into")
    args = parser.parse_args(argv)
    settings = Settings() if args.data_dir is None else Settings(data_dir=args.data_dir)
    table: dict[str, list[Row]] = {}
    counts: dict[str, str] = {}
    encoder = load_encoder(settings)
    with progress_bar() as bar:
        for name in args.sets:
            data = load_dataset(args.data / name)
            rows, changed = measure(data, settings=settings, encoder=encoder, progress=stage_rows(bar))
            table[name] = rows
            counts[name] = f"{changed} of {len(data.queries)}"
    markdown = render(table, counts, command=f"make eval  # = python -m bench.typos {args.data}")
    print(markdown)
    write_section(args.out, "make eval: typos", markdown)


def render(table: dict[str, list[Row]], counts: dict[str, str], *, command: str) -> str:
    """One row per system: each set's clean → mistyped nDCG@10 and the drop, then the mean drop."""
    lines = [
        "## Typos (nDCG@10, clean → one seeded typo per query)",
        "",
        f"- command: `{command}`",
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}",
        "- queries with a typo: " + ", ".join(f"{name} {count}" for name, count in counts.items()),
        "",
        "| system | " + " | ".join(f"{name} clean → typo (drop)" for name in table) + " | mean drop |",
        "| --- | " + " | ".join("---" for _ in table) + " | --- |",
    ]
    for number, system in enumerate(row.system for row in next(iter(table.values()))):
        cells = [rows[number] for rows in table.values()]
        mean = sum(cell.drop for cell in cells) / len(cells)
        lines.append(f"| {system} | " + " | ".join(f"{c.clean:.4f} → {c.typo:.4f} ({c.drop:.4f})" for c in cells) + f" | {mean:.4f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
