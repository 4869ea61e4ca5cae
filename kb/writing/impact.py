"""Search impact of a change: the same queries against two commits, and what moved in their results.

`kb impact --base main --head BRANCH` is meant for a content repository's CI: it exits non-zero when a
golden query (``.kb/golden.yml``) no longer finds its expected article in the top 3, so a change that
breaks search for a known question cannot merge unnoticed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from articles.model import ArticleError
from kb.access.rules import View
from kb.core.knowledge_base import KnowledgeBase
from kb.core.requests import InvalidRequest, SearchRequest
from search.snapshot import IndexSnapshot
from versioning import ContentRepo

GOLDEN_FILE = ".kb/golden.yml"
GOLDEN_TOP = 3
"""A golden query fails when one of its expected articles is not among this many first results."""
COMPARED_TOP = 5
"""Results compared per query: which articles entered or left the first five."""


class GoldenQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    query: str = Field(min_length=1)
    locale: str | None = None
    expect: tuple[str, ...] = Field(default=(), description="Article ids that must stay in the top 3.")


class _GoldenFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    queries: list[GoldenQuery] = []


@dataclass(frozen=True)
class QueryImpact:
    query: str
    locale: str | None
    expected: tuple[str, ...]
    before: list[str]
    """Article ids of the first results at the base commit."""
    after: list[str]
    """…and at the head commit."""

    @property
    def entered(self) -> list[str]:
        return [article for article in self.after if article not in self.before]

    @property
    def left(self) -> list[str]:
        return [article for article in self.before if article not in self.after]

    @property
    def first_changed(self) -> bool:
        return self.before[:1] != self.after[:1]

    @property
    def lost_all(self) -> bool:
        return bool(self.before) and not self.after

    @property
    def missing(self) -> list[str]:
        """Expected articles no longer in the top 3 at head: what makes `kb impact` fail."""
        return [article for article in self.expected if article not in self.after[:GOLDEN_TOP]]


@dataclass(frozen=True)
class ImpactReport:
    base: str
    head: str
    queries: list[QueryImpact]
    errors: list[ArticleError] = field(default_factory=list)
    """Problems in the golden files (an entry that is not a query is reported, not silently skipped)."""

    @property
    def failed(self) -> list[QueryImpact]:
        return [query for query in self.queries if query.missing]

    @property
    def first_changed(self) -> list[QueryImpact]:
        return [query for query in self.queries if query.first_changed]

    @property
    def lost_all(self) -> list[QueryImpact]:
        return [query for query in self.queries if query.lost_all]

    def as_dict(self) -> dict:
        return {
            "base": self.base,
            "head": self.head,
            "summary": {"queries": len(self.queries), "first_result_changed": len(self.first_changed),
                        "lost_every_result": len(self.lost_all), "golden_failures": len(self.failed)},
            "queries": [asdict(q) | {"entered": q.entered, "left": q.left, "first_changed": q.first_changed,
                                     "lost_all": q.lost_all, "missing": q.missing} for q in self.queries],
            "errors": [str(error) for error in self.errors],
        }

    def markdown(self) -> str:
        """For a pull request comment: the summary first, then failures, then every query that moved."""
        lines = [
            f"### Search impact: `{self.base[:12]}` → `{self.head[:12]}`",
            "",
            f"{len(self.queries)} queries; first result changed for **{len(self.first_changed)}**; "
            f"lost every result: **{len(self.lost_all)}**; golden queries failing: **{len(self.failed)}**",
            "",
        ]
        for query in self.failed:
            lines.append(f"- ❌ “{query.query}” ({query.locale or 'any'}): expected {', '.join(query.missing)} "
                         f"not in the top {GOLDEN_TOP} (now: {', '.join(query.after[:GOLDEN_TOP]) or 'no results'})")
        lines += [f"- ⚠️ {error}" for error in self.errors]
        moved = [query for query in self.queries if query.before != query.after]
        if moved:
            lines += ["", f"| query | locale | top {COMPARED_TOP} before | top {COMPARED_TOP} after | entered | left |",
                      "|---|---|---|---|---|---|"]
            lines += [f"| {_cell(q.query)} | {q.locale or ''} | {_ids(q.before)} | {_ids(q.after)} | {_ids(q.entered)} | "
                      f"{_ids(q.left)} |" for q in moved]
        else:
            lines.append("No query's results changed.")
        return "\n".join(lines) + "\n"


def golden_queries(repo: ContentRepo, commit: str) -> tuple[list[GoldenQuery], list[ArticleError]]:
    """The golden queries at ``commit`` (none without the file); a malformed file is an error, named."""
    try:
        data = repo.read_blob(commit, GOLDEN_FILE)
    except FileNotFoundError:
        return [], []
    try:
        parsed = _GoldenFile.model_validate(yaml.safe_load(data.decode("utf-8")) or {})
    except (UnicodeDecodeError, yaml.YAMLError, ValidationError) as error:
        return [], [ArticleError(GOLDEN_FILE, "queries", " ".join(str(error).split()))]
    return parsed.queries, []


def impact(kb: KnowledgeBase, base: str, head: str, *, view: View) -> ImpactReport:
    """Run the golden queries of both commits against both (head built from base through the embedding cache)."""
    base_snapshot, head_snapshot = kb.preview(base), kb.preview(head)
    queries: dict[tuple[str, str | None], GoldenQuery] = {}
    errors: list[ArticleError] = []
    with kb.open_repo() as repo:
        for commit in (head_snapshot.commit, base_snapshot.commit):
            found, problems = golden_queries(repo, commit)
            errors += problems
            for golden in found:
                queries.setdefault((golden.query, golden.locale), golden)
    requests = [_request(golden, kb) for golden in queries.values()]
    before = _top_ids(kb, requests, view, base_snapshot)
    after = _top_ids(kb, requests, view, head_snapshot)
    results = [
        QueryImpact(golden.query, golden.locale, golden.expect, ids_before, ids_after)
        for golden, ids_before, ids_after in zip(queries.values(), before, after, strict=True)
    ]
    return ImpactReport(base_snapshot.commit, head_snapshot.commit, results, errors)


def _request(golden: GoldenQuery, kb: KnowledgeBase) -> SearchRequest:
    try:
        return SearchRequest(query=golden.query, locale=golden.locale, limit=COMPARED_TOP,
                             max_query_chars=kb.settings.max_query_chars)
    except InvalidRequest as invalid:
        raise InvalidRequest(invalid.field, f"{GOLDEN_FILE}, query {golden.query!r}: {invalid.message}") from None


def _top_ids(kb: KnowledgeBase, requests: list[SearchRequest], view: View, snapshot: IndexSnapshot) -> list[list[str]]:
    responses = kb.search_many(requests, view=view, snapshot=snapshot, observe_traffic=False) if requests else []
    return [[hit.article.id for hit in response.results.hits] for response in responses]


def _ids(ids: list[str]) -> str:
    return ", ".join(ids) or "—"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
