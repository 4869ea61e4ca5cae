"""Following a remote: clone, fast-forward, incremental reindex of exactly what changed, and refusals that keep serving."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kb.access.audit import Auditor, Reader, subject_of
from kb.access.rules import PUBLIC
from kb.core.requests import SearchRequest
from kb.core.sync import SyncLoop, sync_knowledge_base
from search.snapshot import MODES
from tests.conftest import article_text, served_kb
from tests.gitutil import USER_EMAIL, USER_NAME, git, make_remote, push
from versioning import ContentRepo
from versioning.sync import SyncError, sync_repository, validate_remote_url

REFUNDS = article_text("refunds", "Refunds", "## Timing\n\nRefunds reach your card within ten days.")
INVOICES = article_text("invoices", "Invoices", "## Download\n\nDownload invoices as PDF from the billing page.")
SSO = article_text("sso", "Single sign-on", "## SAML\n\nConfigure SAML with your identity provider.")
QUERIES = ["refund timing", "download invoice pdf", "saml identity provider", "how long until my money is back"]


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    return make_remote(tmp_path, {"en/refunds.md": REFUNDS, "en/invoices.md": INVOICES, "en/sso.md": SSO})


@pytest.fixture
def synced_kb(tmp_path: Path, remote: Path, make_kb):
    """A knowledge base following ``remote``: its repository is a clone kb made itself."""
    return make_kb(tmp_path / "kb-content", repo_url=str(remote), sync_interval=0)


def commit_in_kb_clone(content: Path, message: str) -> str:
    """A commit on main made in kb's own (bare) clone only, as a merged proposal would be."""
    identity = {"GIT_AUTHOR_NAME": USER_NAME, "GIT_AUTHOR_EMAIL": USER_EMAIL,
                "GIT_COMMITTER_NAME": USER_NAME, "GIT_COMMITTER_EMAIL": USER_EMAIL}
    tip = git(content, "rev-parse", "main")
    sha = git(content, "commit-tree", git(content, "rev-parse", "main^{tree}"), "-p", tip, "-m", message, env=identity)
    git(content, "update-ref", "refs/heads/main", sha, tip)
    return sha


def ranking(kb, query: str, mode: str) -> list[tuple[str, float]]:
    hits = kb.search(SearchRequest(query=query, mode=mode, limit=20), view=PUBLIC).results.hits
    return [(hit.article.id, round(hit.score, 5)) for hit in hits]


def test_first_start_clones_the_remote_and_serves_its_branch(synced_kb, remote: Path) -> None:
    assert synced_kb.snapshot.commit == git(remote, "rev-parse", "main")
    assert {a.id for a in synced_kb.snapshot.articles} == {"refunds", "invoices", "sso"}
    assert ContentRepo(synced_kb.settings.content_path).git_repo.bare


def test_sync_fast_forwards_and_reindexes_only_the_changed_article(synced_kb, remote: Path, encoder) -> None:
    encoder.inputs.clear()
    pushed = push(remote, {"en/refunds.md": REFUNDS.replace("ten days", "five business days")}, "Faster refunds")
    report = sync_knowledge_base(synced_kb)
    assert report.result.status == "updated" and report.result.after == pushed
    assert report.build is not None and report.build.incremental and report.build.parsed == 1
    assert encoder.inputs and all("five business days" in text for text in encoder.inputs)
    assert synced_kb.snapshot.commit == pushed


def test_sync_with_nothing_new_neither_fetches_changes_nor_reindexes(synced_kb) -> None:
    report = sync_knowledge_base(synced_kb)
    assert report.result.status == "unchanged" and report.build is None


def test_rename_and_edit_in_one_commit_keep_the_id_and_the_history(synced_kb, remote: Path) -> None:
    moved = push(remote, {"en/billing/refunds.md": REFUNDS + "\nPartial refunds are possible.\n"}, "Move refunds",
                  renames={"en/refunds.md": "en/billing/refunds.md"})
    sync_knowledge_base(synced_kb)
    article = synced_kb.snapshot.article("refunds", "en")
    assert article is not None and article.path == "en/billing/refunds.md" and article.revision == moved
    with synced_kb.open_repo() as repo:
        assert [r.path for r in repo.history(article.path)] == ["en/billing/refunds.md", "en/refunds.md"]


def test_an_article_moved_to_another_locale_leaves_the_first_and_joins_the_second(synced_kb, remote: Path) -> None:
    push(remote, {}, "Move SSO to the Japanese folder", renames={"en/sso.md": "ja/sso.md"})
    sync_knowledge_base(synced_kb)
    assert synced_kb.article("sso", locale="en", view=PUBLIC) is None
    assert synced_kb.article("sso", locale="ja", view=PUBLIC).path == "ja/sso.md"


def test_a_deleted_article_leaves_search_listing_and_lookup(synced_kb, remote: Path) -> None:
    push(remote, {"en/sso.md": None}, "Remove SSO")
    sync_knowledge_base(synced_kb)
    assert synced_kb.article("sso", locale="en", view=PUBLIC) is None
    assert "sso" not in {a.id for a in synced_kb.articles(view=PUBLIC)}
    for mode in MODES:
        assert "sso" not in [article_id for article_id, _ in ranking(synced_kb, "saml identity provider", mode)]


def test_an_access_rule_pushed_to_the_remote_hides_a_folder_on_the_next_sync(synced_kb, remote: Path) -> None:
    push(remote, {"en/internal/escalation.md": article_text("escalation", "Escalation", "Page the on-call lead.")},
         "Add escalation")
    sync_knowledge_base(synced_kb)
    assert synced_kb.article("escalation", locale="en", view=PUBLIC) is not None
    push(remote, {".kb/access.yml": "defaults:\n  - path: 'en/internal/**'\n    audience: agents\n"}, "Internal folder")
    sync_knowledge_base(synced_kb)
    assert synced_kb.article("escalation", locale="en", view=PUBLIC) is None
    assert "escalation" not in [article_id for article_id, _ in ranking(synced_kb, "on-call lead", "keyword")]


def test_an_access_rule_takes_effect_on_every_surface_at_the_next_sync(tmp_path: Path, remote: Path, make_client) -> None:
    """Search, lookup, listing, history, diff, site pages, change feed: the leak audit after the sync finds nothing."""
    push(remote, {"en/internal/escalation.md": article_text("escalation", "Escalation playbook for quokka outages",
                                                            "## Paging\n\nPage the quokka on-call lead at once.")}, "Add escalation")
    client = make_client(repo_path=tmp_path / "kb-content", repo_url=str(remote), sync_interval=0)
    kb = served_kb(client)
    first = git(remote, "rev-list", "--max-parents=0", "main")
    assert client.get("/v1/articles/escalation").status_code == 200
    push(remote, {".kb/access.yml": "defaults:\n  - path: 'en/internal/**'\n    audience: agents\n"}, "Internal folder")
    sync_knowledge_base(kb)
    subjects = [subject_of(article) for article in kb.snapshot.articles]
    anonymous = Reader("anonymous", {}, frozenset(a.key for a in kb.snapshot.articles if a.id != "escalation"))
    report = Auditor(client, subjects, commits=(first, kb.snapshot.commit)).run([anonymous])
    assert [str(finding) for finding in report.findings] == []
    assert report.probes["search"] > 0 and report.probes["history"] >= len(subjects)


def test_the_index_after_a_sync_equals_a_full_rebuild_at_the_same_commit(
    synced_kb, remote: Path, tmp_path: Path, make_kb
) -> None:
    push(remote, {"en/refunds.md": REFUNDS.replace("ten", "seven"), "en/sso.md": None,
                  "en/billing/invoices.md": INVOICES + "\nInvoices are also emailed.\n",
                  "en/faq.md": article_text("faq", "FAQ", "## Money back\n\nRefunds take a week.")},
         "Mixed changes", renames={"en/invoices.md": "en/billing/invoices.md"})
    sync_knowledge_base(synced_kb)
    rebuilt = make_kb(Path(synced_kb.settings.content_path), data_dir=tmp_path / "rebuilt")
    assert rebuilt.snapshot.commit == synced_kb.snapshot.commit
    assert [c.embed_text for c in rebuilt.snapshot.chunks] == [c.embed_text for c in synced_kb.snapshot.chunks]
    for query in QUERIES:
        for mode in MODES:
            assert ranking(rebuilt, query, mode) == ranking(synced_kb, query, mode), (query, mode)


def test_a_diverged_branch_is_reported_and_never_reset(synced_kb, remote: Path) -> None:
    content = Path(synced_kb.settings.content_path)
    local_only = commit_in_kb_clone(content, "Local work")
    remote_only = push(remote, {"en/refunds.md": REFUNDS.replace("ten", "two")}, "Two days")
    report = sync_knowledge_base(synced_kb)
    assert report.result.status == "diverged" and report.result.remote == remote_only
    assert "never resets" in report.message and local_only[:12] in report.message
    assert git(content, "rev-parse", "main") == local_only
    assert "two days" not in synced_kb.snapshot.article("refunds", "en").body


def test_local_commits_ahead_of_the_remote_are_kept(synced_kb) -> None:
    content = Path(synced_kb.settings.content_path)
    ahead = commit_in_kb_clone(content, "Merged proposal")
    report = sync_knowledge_base(synced_kb)
    assert report.result.status == "ahead" and git(content, "rev-parse", "main") == ahead


def test_an_unreachable_remote_is_an_error_and_the_snapshot_keeps_serving(synced_kb, remote: Path) -> None:
    served = synced_kb.snapshot.commit
    remote.rename(remote.with_name("moved.git"))
    with pytest.raises(SyncError, match="could not fetch main"):
        sync_knowledge_base(synced_kb)
    assert synced_kb.snapshot.commit == served and ranking(synced_kb, "refund timing", "keyword")


def test_a_working_copy_with_the_branch_checked_out_is_fast_forwarded_with_its_files(remote: Path, tmp_path: Path) -> None:
    clone = tmp_path / "working"
    git(tmp_path, "clone", "--quiet", str(remote), str(clone))
    pushed = push(remote, {"en/refunds.md": REFUNDS.replace("ten", "three")}, "Three days")
    result = sync_repository(clone, str(remote), "main")
    assert result.status == "updated" and git(clone, "rev-parse", "HEAD") == pushed
    assert "three days" in (clone / "en/refunds.md").read_text() and git(clone, "status", "--porcelain") == ""


def test_local_edits_that_a_fast_forward_would_overwrite_stop_the_sync(remote: Path, tmp_path: Path) -> None:
    clone = tmp_path / "working"
    git(tmp_path, "clone", "--quiet", str(remote), str(clone))
    (clone / "en/refunds.md").write_text("my unsaved local edit\n")
    push(remote, {"en/refunds.md": REFUNDS.replace("ten", "three")}, "Three days")
    with pytest.raises(SyncError, match="could not fast-forward"):
        sync_repository(clone, str(remote), "main")
    assert (clone / "en/refunds.md").read_text() == "my unsaved local edit\n"


@pytest.mark.parametrize("url", ["--upload-pack=touch /tmp/pwned", "ext::sh -c touch% /tmp/pwned", "relative/path", ""])
def test_remote_urls_off_the_allow_list_are_refused(url: str) -> None:
    with pytest.raises(SyncError, match="KB_REPO_URL"):
        validate_remote_url(url)


def test_the_sync_loop_syncs_when_asked(synced_kb, remote: Path) -> None:
    pushed = push(remote, {"en/refunds.md": REFUNDS.replace("ten", "four")}, "Four days")
    loop = SyncLoop(synced_kb, interval=0)
    loop.start()
    try:
        loop.request()
        deadline = time.monotonic() + 60
        while loop.status.finished_at is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        loop.stop()
    assert loop.status.error is None and loop.status.report is not None
    assert synced_kb.snapshot.commit == pushed


def test_a_token_in_the_remote_url_never_reaches_an_error_message(tmp_path: Path) -> None:
    url = "https://kb-bot:s3cr3t-token@127.0.0.1:9/content.git"
    with pytest.raises(SyncError) as raised:
        sync_repository(tmp_path / "clone", url, "main")
    assert "s3cr3t-token" not in str(raised.value) and "***@127.0.0.1:9" in str(raised.value)
