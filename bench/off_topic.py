"""Off-topic and function-word queries on the sample help center: how many hits each gets, beside the
sample's real queries (which must keep theirs). `python -m bench.off_topic [--json]`.

A help center that answers "what is the weather in Paris tomorrow" with 37 articles tells a customer
nothing and a chatbot that it has an answer; the right answer is none.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from bench.queries import SAMPLE_QUERIES
from kb.access.rules import PUBLIC
from kb.core.bootstrap import open_knowledge_base
from kb.core.requests import SearchRequest
from kb.core.settings import SAMPLE_CONTENT, Settings
from versioning.bootstrap import create_repo_from_folder

OFF_TOPIC: list[tuple[str, str | None]] = [
    ("the", None),
    ("a", None),
    ("what is", None),
    ("how do I", None),
    ("what is the weather in Paris tomorrow", None),
    ("football scores", None),
    ("banana bread recipe", None),
    ("who won the world cup", None),
    ("best pizza near me", None),
    ("tell me a joke", None),
    ("how tall is mount everest", None),
    ("stock price of apple today", None),
    ("translate hello into french", None),
    ("recommend a good movie to watch tonight", None),
    ("what time is it in Tokyo", None),
    ("is it going to rain this weekend", None),
    ("明日のパリの天気は", None),
    ("サッカーの試合結果", None),
    ("美味しいラーメン屋を教えて", None),
    ("富士山の高さは", None),
    ("今日のニュースは何ですか", None),
]


def run(kb, queries: list[tuple[str, str | None]], mode: str) -> list[dict]:
    rows = []
    for query, locale in queries:
        results = kb.search(SearchRequest(query=query, locale=locale, mode=mode, limit=3), view=PUBLIC).results
        rows.append({"query": query, "locale": locale, "mode": mode, "total": results.total,
                     "top": [f"{h.article.id} ({h.article.locale})" for h in results.hits]})  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kb-off-topic-") as folder:
        root = Path(folder)
        create_repo_from_folder(SAMPLE_CONTENT, root / "content")
        kb = open_knowledge_base(Settings(data_dir=root / "data", repo_path=root / "content"))
        try:
            rows = [row for mode in ("hybrid", "keyword") for row in run(kb, OFF_TOPIC, mode)]
            rows += run(kb, [(q, locale) for q, locale in SAMPLE_QUERIES], "hybrid")
        finally:
            kb.close()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    print("| query | locale | mode | hits | top |\n|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['query']} | {row['locale'] or ''} | {row['mode']} | {row['total']} | {', '.join(row['top'])} |")


if __name__ == "__main__":
    main()
