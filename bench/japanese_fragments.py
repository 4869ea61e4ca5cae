"""Japanese results a reader trusts: on the sample help center, how many hits of a Japanese query match only
through pieces of other words, and how many highlights mark such pieces. `python -m bench.japanese_fragments [--json]`.

kb indexes Japanese as SudachiPy words plus character bigrams, the bigrams for compounds the dictionary
splits differently. A bigram of the query also occurs inside unrelated words: ワー of パスワード inside
ワークスペース, ード inside コード. Counted here, by the reader's standard rather than the index's:

- a **stray** result is an article (title, keywords, tags, headings, text) holding none of the query's
  content words, neither as a word of its own nor inside a longer word (パスワード in パスワードリセット
  counts; ワー and ード apart do not);
- a **fragment** highlight is a ``<mark>`` holding none of the query's content words, as a word or a part of one.

The query's content words are kb's own (Sudachi, mode A, normalised form; particles, auxiliaries and
function words left out); a text's words are read the same way. Every result of each query is counted (up
to 100), with its snippet; hybrid mode (BM25 alone for Japanese with the English-only default model).
"""

from __future__ import annotations

import argparse
import html
import json
import re
import tempfile
from pathlib import Path

from kb.access.rules import PUBLIC
from kb.core.bootstrap import open_knowledge_base
from kb.core.requests import MAX_LIMIT, SearchRequest
from kb.core.settings import SAMPLE_CONTENT, Settings
from search.analyze import _CJK_RUN, _FULLWIDTH, Analyzer
from versioning.bootstrap import create_repo_from_folder

QUERIES: list[str] = [
    "パスワード",
    "パスワードを忘れた",
    "請求書",
    "二段階認証",
    "ワークスペース",
    "API キー",
    "メールアドレスを変更",
    "支払い方法",
    "シングルサインオン",
    "サブスクリプションを解約",
    "同期トークン",
    "エラーコード",
]
"""Head queries of the sample's Japanese articles, several of whose words share bigrams with other words."""

_MARK = re.compile(r"<mark>(.*?)</mark>")


class Words:
    """A text's content words as kb's analyser reads them: Sudachi words in Japanese runs, stems elsewhere."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer

    def of(self, text: str) -> list[tuple[str, str]]:
        """Each content word as (term, surface): the term a word matches by, the surface it is written with."""
        text = text.translate(_FULLWIDTH)
        tokens, position = [], 0
        for run in _CJK_RUN.finditer(text):
            tokens += self.analyzer._english(text, position, run.start())
            tokens += self.analyzer._japanese_words(text, run.start(), run.end())
            position = run.end()
        tokens += self.analyzer._english(text, position, len(text))
        return [(t.term, text[t.start : t.end]) for t in tokens if t.content]


def holds_a_word(text: str, query_words: list[tuple[str, str]], words: Words) -> bool:
    """Whether ``text`` holds one of the query's words: as a word of its own, or (Japanese) written inside a longer one."""
    terms = {term for term, _ in words.of(text)}
    folded = text.translate(_FULLWIDTH)
    return any(term in terms or (_CJK_RUN.fullmatch(surface) and surface in folded) for term, surface in query_words)


def article_text(article) -> str:
    sections = (" ".join((*section.heading_path, section.text)) for section in article.sections)
    return "\n".join((article.title, " ".join(article.front.keywords), " ".join(article.front.tags), *sections))


def measure(kb, query: str, words: Words) -> dict:
    """One query's results: how many, how many stray, and its snippets' highlights, whole and fragment."""
    results = kb.search(SearchRequest(query=query, locale="ja", limit=MAX_LIMIT), view=PUBLIC).results
    query_words = words.of(query)
    stray = [hit.article.id for hit in results.hits if not holds_a_word(article_text(hit.article), query_words, words)]
    marks = [html.unescape(mark) for hit in results.hits for mark in _MARK.findall(hit.snippet)]
    fragments = [mark for mark in marks if not holds_a_word(mark, query_words, words)]
    ranks = [n for n, hit in enumerate(results.hits, 1) if hit.article.id in stray]
    return {
        "query": query, "total": results.total, "stray": len(stray), "first_stray_rank": ranks[0] if ranks else None,
        "marks": len(marks), "fragment_marks": len(fragments), "fragments": sorted(set(fragments)),
        "top": [hit.article.id for hit in results.hits[:3]], "stray_articles": stray,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    parser.add_argument("--against", type=Path, help="the --json rows of an earlier run (another checkout): print before → after")
    parser.add_argument("--data-dir", type=Path, help="a folder kept between runs for the sample's repository and kb's data")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kb-ja-fragments-") as folder:
        root = args.data_dir or Path(folder)
        if not (root / "content").exists():
            create_repo_from_folder(SAMPLE_CONTENT, root / "content")
        kb = open_knowledge_base(Settings(data_dir=root / "data", repo_path=root / "content"))
        try:
            words = Words(Analyzer())
            rows = [measure(kb, query, words) for query in QUERIES]
        finally:
            kb.close()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    before = {row["query"]: row for row in json.loads(args.against.read_text(encoding="utf-8"))} if args.against else {}
    print(table(rows, before))


def table(rows: list[dict], before: dict[str, dict]) -> str:
    """Markdown: per query its results, stray results and highlights (before → after where an earlier run is given)."""
    columns = ("total", "stray", "marks", "fragment_marks")

    def cell(row: dict | None, after: dict, column: str) -> str:
        return f"{row[column]} → {after[column]}" if row else str(after[column])

    lines = ["| query | results | stray results | highlights | fragment highlights | top 3 |", "|---|---|---|---|---|---|"]
    for row in rows:
        cells = " | ".join(cell(before.get(row["query"]), row, column) for column in columns)
        lines.append(f"| {row['query']} | {cells} | {', '.join(row['top'])} |")
    sums = {column: sum(row[column] for row in rows) for column in columns}
    earlier = {column: sum(row[column] for row in before.values()) for column in columns} if before else None
    lines.append(f"| **all** | {' | '.join(cell(earlier, sums, column) for column in columns)} | |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
