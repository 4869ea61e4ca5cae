"""The leak harness: every article carries canary tokens; no reader may find one they are not allowed to see.

A knowledge base of every audience and status, in English and Japanese, each article with a unique
canary in its title, headings, body, tags and category. Every kind of reader then asks every surface
with the words of every article hidden from them, in every mode and locale, and every response body,
header and count is read for those canaries (kb.access.audit does the asking and the reading).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kb.access.audit import Auditor, AuditReport, Reader, Subject
from kb.access.keys import create_key
from kb.access.tokens import issue_customer_token
from tests.conftest import JWT_SECRET, article_text, make_settings, served_kb, started
from tests.gitutil import commit_files, init_repo

SEGMENT_ACCESS_FILE = """\
defaults:
  - path: "*/internal/*"
    audience: agents
segments:
  enterprise: Enterprise plan
  beta: Private beta
"""


@dataclass(frozen=True)
class Case:
    """One kind of article: its audience (None: from .kb/access.yml), status and the readers who may see it."""

    slug: str
    audience: str | None
    status: str
    readers: frozenset[str]
    folder: str = "guides"
    ja_audience: str | None = None
    """The Japanese translation's own audience, when it differs."""


EVERYONE = frozenset({"anonymous", "bot", "customer", "customer:enterprise", "customer:beta", "bot for customer:enterprise"})
SIGNED_IN = frozenset({"customer", "customer:enterprise", "customer:beta", "bot for customer:enterprise"})
ENTERPRISE = frozenset({"customer:enterprise", "bot for customer:enterprise"})
NOBODY: frozenset[str] = frozenset()

# Who may see what, written out by hand rather than asked of kb.access.rules: the harness checks the rules too.
CASES = (
    Case("open", "public", "published", EVERYONE),
    Case("members", "signed_in", "published", SIGNED_IN),
    Case("internal", "agents", "published", NOBODY),
    Case("enterprise", "[enterprise]", "published", ENTERPRISE),
    Case("beta", "[beta]", "published", frozenset({"customer:beta"})),
    Case("both", "[enterprise, beta]", "published", ENTERPRISE | {"customer:beta"}),
    Case("draft", "public", "draft", NOBODY),
    Case("archived", "public", "archived", NOBODY),
    Case("members-draft", "signed_in", "draft", NOBODY),
    Case("by-folder", None, "published", NOBODY, folder="internal"),
    Case("mixed", "public", "published", EVERYONE, ja_audience="agents"),
)
TOPICS = {
    "open": ("Export your projects", "Download every project as a CSV file from the settings page."),
    "members": ("Manage your subscription seats", "Add or remove paid seats from the billing page."),
    "internal": ("Escalate a suspected fraud case", "Freeze the account and page the trust team on call."),
    "enterprise": ("Configure SAML single sign-on", "Upload the identity provider metadata and map the groups."),
    "beta": ("Try the AI meeting summaries", "Turn on summaries in the labs panel and record a meeting."),
    "both": ("Request a dedicated support engineer", "Open a request from the admin console with your plan details."),
    "draft": ("Plan the offline sync rollout", "Offline sync will store edits locally until the device reconnects."),
    "archived": ("Use the legacy desktop client", "The legacy client reads projects from the old file format."),
    "members-draft": ("Transfer workspace ownership", "The current owner chooses a new owner from the members list."),
    "by-folder": ("Issue a goodwill credit", "Agents may credit up to one month of the plan price."),
    "mixed": ("Change the interface language", "Pick a language under profile, then preferences."),
}
JA_TOPICS = {
    "open": ("プロジェクトをエクスポートする", "設定ページからすべてのプロジェクトを CSV ファイルとしてダウンロードします。"),
    "members": ("サブスクリプションのシートを管理する", "請求ページから有料シートを追加または削除します。"),
    "internal": ("不正利用の疑いをエスカレーションする", "アカウントを凍結し、当番の信頼チームに連絡します。"),
    "enterprise": ("SAML シングルサインオンを設定する", "ID プロバイダーのメタデータをアップロードし、グループを対応付けます。"),
    "beta": ("AI 会議要約を試す", "ラボパネルで要約を有効にして会議を録音します。"),
    "both": ("専任サポートエンジニアを依頼する", "管理コンソールからプランの詳細を添えて依頼します。"),
    "draft": ("オフライン同期の展開を計画する", "オフライン同期は端末が再接続するまで編集をローカルに保存します。"),
    "archived": ("旧デスクトップクライアントを使う", "旧クライアントは古いファイル形式のプロジェクトを読み込みます。"),
    "members-draft": ("ワークスペースの所有権を移す", "現在の所有者がメンバー一覧から新しい所有者を選びます。"),
    "by-folder": ("お詫びのクレジットを付与する", "エージェントはプラン料金の一か月分までクレジットを付与できます。"),
    "mixed": ("表示言語を変更する", "プロフィールの設定から言語を選びます。"),
}


def canary(case: Case, locale: str, part: str) -> str:
    """A token no other text contains: ``kq`` + 8 hex digits of the case, locale and part it marks."""
    return "kq" + hashlib.sha256(f"{case.slug}/{locale}/{part}".encode()).hexdigest()[:8]


def article_for(case: Case, locale: str, *, version: int) -> str:
    """The article's file; version 2 is an edit of version 1 (so history and diffs have something to show)."""
    title, sentence = (TOPICS if locale == "en" else JA_TOPICS)[case.slug]
    audience = case.ja_audience if locale == "ja" and case.ja_audience else case.audience
    front: dict[str, object] = {
        "status": case.status,
        "category": f"c-{canary(case, 'any', 'category')}",
        "tags": f"[{canary(case, locale, 'tag')}]",
        "redirect_from": f"[old-{canary(case, 'any', 'old')}]",
    }
    if audience is not None:
        front["audience"] = audience
    body = (
        f"{sentence} {canary(case, locale, 'lead')}\n\n"
        f"## {canary(case, locale, 'heading')} {title}\n\n"
        f"{sentence} {canary(case, locale, 'body')}\n"
    )
    if version == 2:
        body += f"\n## {canary(case, locale, 'edit')}\n\n{sentence}\n"
    return article_text(f"{case.slug}-guide", f"{title} {canary(case, locale, 'title')}", body, **front)


def subject_for(case: Case, locale: str) -> Subject:
    parts = ("title", "lead", "heading", "body", "tag", "edit")
    secrets = (*(canary(case, locale, part) for part in parts), canary(case, "any", "category"))
    title, sentence = (TOPICS if locale == "en" else JA_TOPICS)[case.slug]
    return Subject(
        id=f"{case.slug}-guide",
        locale=locale,
        category=f"c-{canary(case, 'any', 'category')}",
        secrets=secrets,
        queries=(canary(case, locale, "body"), f"{title} {canary(case, locale, 'title')}", sentence),
        text=article_for(case, locale, version=2),
        old_ids=(f"old-{canary(case, 'any', 'old')}",),
        tags=(canary(case, locale, "tag"),),
    )


def readers_of(case: Case, locale: str) -> frozenset[str]:
    """Readers who may see this translation (staff see everything and are added by the harness)."""
    return NOBODY if locale == "ja" and case.ja_audience == "agents" else case.readers


@dataclass(frozen=True)
class Harness:
    client: TestClient
    first: str
    head: str
    readers: list[Reader]
    subjects: list[Subject]

    def audit(self, readers: list[Reader]) -> AuditReport:
        return Auditor(self.client, self.subjects, commits=(self.first, self.head)).run(readers)

    def reader(self, label: str) -> Reader:
        return next(reader for reader in self.readers if reader.label == label)


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory, module_database_url: str, model) -> Iterator[Harness]:
    root = tmp_path_factory.mktemp("leaks")
    repo = init_repo(root / "content")
    paths = {(case, locale): f"{locale}/{case.folder}/{case.slug}.md" for case in CASES for locale in ("en", "ja")}
    first = commit_files(
        repo, {".kb/access.yml": SEGMENT_ACCESS_FILE} | {p: article_for(c, loc, version=1) for (c, loc), p in paths.items()}
    )
    head = commit_files(repo, {p: article_for(c, loc, version=2) for (c, loc), p in paths.items()}, "Edit every article")
    settings = make_settings(data_dir=root / "data", repo_path=repo, database_url=module_database_url, jwt_secret=JWT_SECRET)
    with started(create_app(settings, encoder=model)) as client:
        engine = served_kb(client).engine
        keys = {role: create_key(engine, name=f"leak harness {role}", role=role).secret
                for role in ("bot", "agent", "writer", "reviewer", "admin")}  # fmt: skip

        def token(*segments: str) -> str:
            return issue_customer_token(secret=JWT_SECRET, subject="customer-1", segments=segments)

        headers = {
            "anonymous": {},
            "customer": {"Authorization": f"Bearer {token()}"},
            "customer:enterprise": {"Authorization": f"Bearer {token('enterprise')}"},
            "customer:beta": {"Authorization": f"Bearer {token('beta')}"},
            "bot": {"Authorization": f"Bearer {keys['bot']}"},
            "bot for customer:enterprise": {"Authorization": f"Bearer {keys['bot']}", "X-KB-Customer-Token": token("enterprise")},
        }
        everything = frozenset((f"{case.slug}-guide", locale) for case in CASES for locale in ("en", "ja"))
        readers = [
            Reader(label, header, frozenset((f"{c.slug}-guide", loc) for c in CASES for loc in ("en", "ja") if label in readers_of(c, loc)))
            for label, header in headers.items()
        ]
        readers += [
            Reader(role, {"Authorization": f"Bearer {keys[role]}"}, everything, staff=True, admin=role == "admin")
            for role in ("agent", "writer", "reviewer", "admin")
        ]
        subjects = [subject_for(case, locale) for case in CASES for locale in ("en", "ja")]
        yield Harness(client, first, head, readers, subjects)


def test_no_reader_finds_a_canary_of_an_article_hidden_from_them(harness: Harness) -> None:
    report = harness.audit(harness.readers)
    assert [str(finding) for finding in report.findings] == []
    assert report.total > 5000
    assert set(report.probes) == {
        "search", "search (POST)", "autocomplete", "site search", "article", "article at a ref", "article page",
        "history", "diff", "redirect", "article listing", "site home", "site category", "sitemap", "widget", "change feed",
        "search preview", "proposals", "access explain", "suggestions", "article feedback", "feedback", "citation",
        "answers", "retrieve", "mcp search_articles", "mcp answer_question", "mcp get_article",
    }  # fmt: skip


def test_every_canary_is_findable_by_a_reader_allowed_to_see_it(harness: Harness) -> None:
    """The probes mean something only if the canaries are searchable: an agent finds each one."""
    agent = harness.reader("agent")
    for subject in harness.subjects:
        body = harness.client.get(
            "/v1/search", params={"q": subject.queries[0], "mode": "keyword", "locale": subject.locale}, headers=agent.headers
        ).json()
        assert [(hit["id"], hit["locale"]) for hit in body["hits"]][:1] == [subject.key], subject.key


def test_the_audit_reports_a_reader_shown_more_than_they_may_see(harness: Harness) -> None:
    """A control: an agent's key posing as an anonymous reader must be caught, or the harness proves nothing."""
    anonymous, agent = harness.reader("anonymous"), harness.reader("agent")
    impostor = dataclasses.replace(anonymous, label="agent posing as anonymous", headers=agent.headers)
    auditor = Auditor(harness.client, harness.subjects[:4], commits=(harness.first, harness.head))
    report = auditor.run([impostor])
    problems = {finding.surface for finding in report.findings}
    assert {"search", "article", "article listing", "site home", "change feed", "search preview"} <= problems


def test_anonymous_and_agent_totals_differ_and_anonymous_shows_no_internal_id(harness: Harness) -> None:
    query: dict[str, str | int] = {"q": TOPICS["internal"][0], "mode": "hybrid", "limit": 50}
    anonymous = harness.client.get("/v1/search", params=query).json()
    agent = harness.client.get("/v1/search", params=query, headers=harness.reader("agent").headers).json()
    assert agent["total"] > anonymous["total"]
    assert "internal-guide" in {hit["id"] for hit in agent["hits"]}
    internal_ids = {f"{case.slug}-guide" for case in CASES if not case.readers}
    assert not internal_ids & {hit["id"] for hit in anonymous["hits"]}


def test_each_segment_reads_its_own_articles_only(harness: Harness) -> None:
    def ids(label: str) -> set[str]:
        body = harness.client.get("/v1/articles", params={"locale": "en", "limit": 100}, headers=harness.reader(label).headers)
        return {item["id"] for item in body.json()["items"]}

    assert ids("anonymous") == {"open-guide", "mixed-guide"}
    assert ids("customer") == {"open-guide", "mixed-guide", "members-guide"}
    assert ids("customer:enterprise") == ids("customer") | {"enterprise-guide", "both-guide"}
    assert ids("customer:beta") == ids("customer") | {"beta-guide", "both-guide"}
    assert ids("bot") == ids("anonymous")
    assert ids("bot for customer:enterprise") == ids("customer:enterprise")
    assert ids("agent") == {f"{case.slug}-guide" for case in CASES}
