"""Content gaps: failed questions grouped by meaning into topics, and a topic turned into work in Git."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, insert
from sqlmodel import Session, col
from typer.testing import CliRunner, Result

from api.site import dashboard
from articles.parse import parse_article
from kb.analytics.gaps import EXACT_UP_TO, group
from kb.analytics.rollups import ROLLED_THROUGH
from kb.cli import app as cli
from kb.core.db import EventRecord, StateRecord
from tests.conftest import article_text, served_app, served_kb
from tests.test_analytics_reports import cli_env
from tests.test_api_agents import key
from tests.test_kb_templates import HOW_TO
from tests.test_site_staff import sign_in
from versioning import ContentRepo

FILES = {
    "en/export.md": article_text("export", "Export your data", "## To a spreadsheet\n\nOpen Settings and choose Export to CSV."),
    "en/refunds.md": article_text("refunds", "Refunds", "Refunds are paid within 14 days to the card you paid with."),
    ".kb/templates/how-to.md": HOW_TO,
}
TELEPORT = ["teleport my warehouse", "how do i teleport the warehouse", "warehouse teleportation"]


@pytest.fixture
def site(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(FILES, follow_redirects=False)


def failed(
    client: TestClient, queries: dict[str, int], *, days_ago: int = 1, surface: str = "site", locale: str | None = "en"
) -> None:
    """Searches that found nothing, ``days_ago``, as a server running then would have recorded them (and no day rolled up)."""
    at = dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)
    rows = [{"at": at, "kind": "search", "surface": surface, "query": query, "locale": locale, "mode": "hybrid",
             "principal_kind": "anonymous", "results": "", "total": 0}
            for query, times in queries.items() for _ in range(times)]  # fmt: skip
    served_app(client).state.upkeep.stop()  # its first roll-up done, and no other after: the days below stay unrolled
    with Session(served_kb(client).engine) as session:
        session.execute(insert(EventRecord), rows)
        session.execute(delete(StateRecord).where(col(StateRecord.key) == ROLLED_THROUGH))
        session.commit()


def gaps(client: TestClient, **params: str) -> list[dict]:
    served_kb(client).events.writer.flush()
    response = client.get("/v1/gaps", params=params, headers=key(client, "agent"))
    assert response.status_code == 200, response.text
    return response.json()["topics"]


def test_a_zero_result_query_appears_in_a_gap_topic_with_its_count(site: TestClient) -> None:
    for _ in range(3):
        site.get("/hc/en/search", params={"q": "frobnicate the quux"})
    [topic] = gaps(site)
    assert (topic["label"], topic["failed"], topic["examples"]) == ("frobnicate the quux", 3, [["frobnicate the quux", 3]])


def test_questions_that_mean_the_same_are_one_topic_and_others_another(site: TestClient) -> None:
    failed(site, {TELEPORT[0]: 4, TELEPORT[1]: 2, TELEPORT[2]: 1, "pay with seashells": 2})
    topics = gaps(site)
    assert [(t["label"], t["failed"], t["queries"]) for t in topics] == [(TELEPORT[0], 7, 3), ("pay with seashells", 2, 1)]


def test_a_failed_search_that_named_no_locale_counts_in_the_topic_of_its_language(site: TestClient) -> None:
    failed(site, {TELEPORT[0]: 2})
    failed(site, {TELEPORT[0]: 1, "倉庫をテレポートしたい": 1}, surface="api", locale=None)
    topics = gaps(site)
    assert sorted((t["label"], t["locale"], t["failed"]) for t in topics) == [(TELEPORT[0], "en", 3), ("倉庫をテレポートしたい", "ja", 1)]


def test_a_topic_says_how_it_moved_between_the_periods_halves(site: TestClient) -> None:
    failed(site, {TELEPORT[0]: 1}, days_ago=25)
    failed(site, {TELEPORT[0]: 3}, days_ago=2)
    [topic] = gaps(site)
    assert (topic["earlier"], topic["later"], topic["trend"]) == (1, 3, 2.0)


def test_a_topic_near_an_existing_article_names_it(site: TestClient) -> None:
    failed(site, {"export my data to a spreadsheet": 2})
    [topic] = gaps(site)
    assert topic["nearest"]["article_id"] == "export" and topic["nearest"]["cosine"] >= 0.55


def test_a_topic_becomes_a_proposal_whose_article_validates(site: TestClient) -> None:
    failed(site, {TELEPORT[0]: 3, TELEPORT[1]: 1})
    [topic] = gaps(site)
    response = site.post(f"/v1/gaps/{topic['id']}/proposal", json={"template": "how-to"}, headers=key(site, "writer"))
    assert response.status_code == 201, response.text
    proposal = response.json()
    detail = site.get(f"/v1/proposals/{proposal['id']}", headers=key(site, "writer")).json()
    assert detail["problems"] == [] and [d["new_path"] for d in detail["diffs"]] == ["en/teleport-my-warehouse.md"]
    repo = ContentRepo(served_kb(site).settings.content_path)
    [file] = repo.files_at(proposal["branch"], paths=["en/teleport-my-warehouse.md"])
    article = parse_article(file.path, file.data)
    assert article.front.questions == tuple(TELEPORT[:2]) and article.front.status == "draft" and article.front.template == "how-to"


def test_a_japanese_topic_becomes_a_draft_under_ja_with_an_id_of_its_own(site: TestClient) -> None:
    failed(site, {"倉庫をテレポートしたい": 2}, locale="ja")
    [topic] = gaps(site)
    response = site.post(f"/v1/gaps/{topic['id']}/proposal", json={}, headers=key(site, "writer"))
    assert response.status_code == 201, response.text
    detail = site.get(f"/v1/proposals/{response.json()['id']}", headers=key(site, "writer")).json()
    assert detail["problems"] == [] and [d["new_path"] for d in detail["diffs"]] == [f"ja/gap-{topic['id']}.md"]


def test_a_draft_for_a_topic_worded_like_an_existing_articles_id_gets_an_id_of_its_own(site: TestClient) -> None:
    failed(site, {"refunds": 2})
    [topic] = gaps(site)
    response = site.post(f"/v1/gaps/{topic['id']}/proposal", json={}, headers=key(site, "writer"))
    assert response.status_code == 201, response.text
    detail = site.get(f"/v1/proposals/{response.json()['id']}", headers=key(site, "writer")).json()
    assert [d["new_path"] for d in detail["diffs"]] == [f"en/refunds-{topic['id'][:6]}.md"]


def test_a_topic_near_an_article_becomes_a_markdown_report_of_what_it_failed(site: TestClient) -> None:
    failed(site, {"export my data to a spreadsheet": 2})
    [topic] = gaps(site)
    response = site.get(f"/v1/gaps/{topic['id']}/report", headers=key(site, "agent"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/markdown")
    assert "| export my data to a spreadsheet | 2 |" in response.text and "**Export your data** (`export`" in response.text


def test_a_proposal_from_a_template_there_is_none_of_is_refused_naming_it(site: TestClient) -> None:
    failed(site, {TELEPORT[0]: 1})
    [topic] = gaps(site)
    response = site.post(f"/v1/gaps/{topic['id']}/proposal", json={"template": "faq"}, headers=key(site, "writer"))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "template"


@pytest.mark.parametrize("article_id", ["../../etc/passwd", "Not An Id", "-x", "a" * 300, "refunds"])
def test_a_proposal_with_a_bad_or_taken_id_is_refused_naming_it(site: TestClient, article_id: str) -> None:
    failed(site, {TELEPORT[0]: 1})
    [topic] = gaps(site)
    response = site.post(f"/v1/gaps/{topic['id']}/proposal", json={"id": article_id}, headers=key(site, "writer"))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "id", response.text


def test_an_unknown_topic_is_a_404(site: TestClient) -> None:
    assert site.get("/v1/gaps/0123456789ab/report", headers=key(site, "agent")).status_code == 404


@pytest.mark.parametrize("role", [None, "bot"])
def test_gaps_are_for_staff_only(site: TestClient, role: str | None) -> None:
    assert site.get("/v1/gaps", headers=key(site, role) if role else {}).status_code == 403


def test_reading_the_gaps_again_embeds_no_failed_query_again(site: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    failed(site, {TELEPORT[0]: 2, "pay with seashells": 1})
    gaps(site)
    encoder = served_kb(site).gap_vectors.encoder
    embedded: list[str] = []
    real = encoder.encode_queries

    def encode_queries(texts: list[str]) -> np.ndarray:
        embedded.extend(texts)
        return real(texts)

    monkeypatch.setattr(encoder, "encode_queries", encode_queries)
    failed(site, {"export csv": 1})
    gaps(site)
    assert embedded == ["export csv"]


def test_the_dashboard_lists_the_gap_topics_with_their_ids(site: TestClient) -> None:
    failed(site, {TELEPORT[0]: 3, TELEPORT[1]: 1})
    [topic] = gaps(site)
    sign_in(site, "writer")
    page = site.get("/hc/en/staff/dashboard").text
    listed = page[page.index("Content gaps: what readers asked and did not find") :]
    assert f"{TELEPORT[0]} <span" in listed and "and 1 like it" in listed and f"<code>{topic['id']}</code>" in listed


def test_a_writer_proposes_a_draft_for_a_gap_from_the_dashboard(site: TestClient) -> None:
    failed(site, {TELEPORT[0]: 3})
    [topic] = gaps(site)
    sign_in(site, "writer")
    page = site.get("/hc/en/staff/dashboard").text
    assert f'action="/hc/en/staff/gaps/{topic["id"]}/proposal"' in page and '<option value="how-to" selected>' in page
    proposed = site.post(f"/hc/en/staff/gaps/{topic['id']}/proposal", data={"template": "how-to"})
    assert proposed.status_code == 303
    assert "opened: a draft article for the topic" in site.get(proposed.headers["location"]).text
    [proposal] = site.get("/v1/proposals", headers=key(site, "writer")).json()
    assert proposal["title"] == f"New article: {TELEPORT[0].capitalize()}"


def test_the_dashboard_groups_only_its_most_failed_queries(site: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dashboard, "GAP_QUERIES", 1)
    failed(site, {TELEPORT[0]: 3, "pay with seashells": 1})
    sign_in(site, "writer")
    page = site.get("/hc/en/staff/dashboard").text
    listed = page[page.index("Content gaps: what readers asked") : page.index("Due for review")]
    assert f"{TELEPORT[0]}</td>" in listed and "pay with seashells" not in listed


def test_a_draft_for_a_gap_posted_from_another_site_is_refused(site: TestClient) -> None:
    failed(site, {TELEPORT[0]: 3})
    [topic] = gaps(site)
    sign_in(site, "writer")
    response = site.post(f"/hc/en/staff/gaps/{topic['id']}/proposal", data={"template": "how-to"}, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403 and site.get("/v1/proposals", headers=key(site, "writer")).json() == []


def test_an_agent_sees_the_gaps_on_the_dashboard_but_may_not_propose(site: TestClient) -> None:
    failed(site, {TELEPORT[0]: 3})
    [topic] = gaps(site)
    sign_in(site, "agent")
    assert "Propose a draft" not in site.get("/hc/en/staff/dashboard").text
    assert site.post(f"/hc/en/staff/gaps/{topic['id']}/proposal", data={"template": "how-to"}).status_code == 403


def test_a_draft_for_a_topic_gone_from_the_period_says_why_on_the_dashboard(site: TestClient) -> None:
    sign_in(site, "writer")
    page = site.post("/hc/en/staff/gaps/0123456789ab/proposal", data={"template": "how-to"})
    assert page.status_code == 400 and "no topic &#39;0123456789ab&#39;" in page.text


@pytest.mark.parametrize("value", ["%00", "%ED%A0%80", "%1B%5B2J", "k" * 100_000, "2026-02-30", "..%2F..%2Fetc"])
def test_hostile_text_in_the_gap_proposal_form_is_refused_never_a_500(site: TestClient, value: str) -> None:
    failed(site, {TELEPORT[0]: 1})
    [topic] = gaps(site)
    sign_in(site, "writer")
    fields = {"template": "how-to", "since": "", "until": "", "language": "en", "surface": ""}
    for field in fields:
        body = "&".join(f"{name}={value if name == field else text}" for name, text in fields.items())
        response = site.post(f"/hc/en/staff/gaps/{topic['id']}/proposal", content=body,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        assert response.status_code in (400, 422), (field, response.status_code)
    assert site.get("/v1/proposals", headers=key(site, "writer")).json() == []


def test_proposing_for_a_gap_is_a_404_for_readers(site: TestClient) -> None:
    failed(site, {TELEPORT[0]: 1})
    [topic] = gaps(site)
    assert site.post(f"/hc/en/staff/gaps/{topic['id']}/proposal", data={"template": "how-to"}).status_code == 404


def gaps_cli(site: TestClient, database_url: str, tmp_path: Path, *args: str) -> Result:
    settings = served_kb(site).settings
    served = {"KB_REPO_PATH": str(settings.content_path), "KB_EMBEDDING_MODEL": settings.embedding_model}
    env = cli_env(site, database_url, tmp_path) | served
    return CliRunner().invoke(cli, ["gaps", *args], env=env)


def test_kb_gaps_list_json_is_what_the_api_gives(site: TestClient, database_url: str, tmp_path: Path) -> None:
    failed(site, {TELEPORT[0]: 3, "export my data to a spreadsheet": 1})
    result = gaps_cli(site, database_url, tmp_path, "list", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["topics"] == gaps(site)


def test_kb_gaps_report_prints_a_topics_markdown(site: TestClient, database_url: str, tmp_path: Path) -> None:
    failed(site, {"export my data to a spreadsheet": 2})
    [topic] = gaps(site)
    result = gaps_cli(site, database_url, tmp_path, "report", topic["id"])
    assert result.exit_code == 0, result.output
    assert result.stdout == site.get(f"/v1/gaps/{topic['id']}/report", headers=key(site, "agent")).text


def test_kb_gaps_propose_opens_a_proposal_from_a_template(site: TestClient, database_url: str, tmp_path: Path) -> None:
    failed(site, {TELEPORT[0]: 2})
    [topic] = gaps(site)
    result = gaps_cli(site, database_url, tmp_path, "propose", topic["id"], "--template", "how-to")
    assert result.exit_code == 0, result.output
    proposal_id = re.search(r"proposal (\d+):", result.stdout).group(1)  # type: ignore[union-attr]
    detail = site.get(f"/v1/proposals/{proposal_id}", headers=key(site, "writer")).json()
    assert detail["problems"] == [] and [d["new_path"] for d in detail["diffs"]] == ["en/teleport-my-warehouse.md"]


@pytest.mark.parametrize(("args", "named"), [
    (["report", "0123456789ab"], "no topic '0123456789ab'"),
    (["list", "--since", "2026-01-01", "--until", "2025-01-01"], "--since"),
    (["propose", "TOPIC", "--template", "faq"], "--template"),
])  # fmt: skip
def test_kb_gaps_names_what_was_wrong(site: TestClient, database_url: str, tmp_path: Path, args: list[str], named: str) -> None:
    failed(site, {TELEPORT[0]: 1})
    args = [gaps(site)[0]["id"] if arg == "TOPIC" else arg for arg in args]
    result = gaps_cli(site, database_url, tmp_path, *args)
    assert result.exit_code == 2 and named in result.stderr, result.output


def test_many_queries_are_grouped_with_an_inverted_file_as_they_are_exactly() -> None:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(EXACT_UP_TO + 1000, 64)).astype(np.float32)
    vectors[1] = vectors[0] + rng.normal(scale=0.05, size=64)  # a near copy of the first
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    groups = group(vectors)
    assert groups[0] == [0, 1] and sum(len(members) for members in groups) == len(vectors)
