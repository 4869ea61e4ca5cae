"""Saved snapshots: verified file by file on load, a damaged one rebuilt (never served), no staging left behind."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kb.access.rules import STAFF
from kb.core.knowledge_base import KnowledgeBase
from kb.core.requests import SearchRequest
from search.staging import remove_abandoned
from search.store import DATA_FILE, FORMAT, META_FILE


def saved_folder(data_dir: Path) -> Path:
    snapshots = data_dir / "snapshots"
    return snapshots / (snapshots / "latest").read_text().strip()


def semantic_ids(kb: KnowledgeBase, query: str) -> list[str]:
    return [hit.article.id for hit in kb.search(SearchRequest(query=query, mode="semantic"), view=STAFF).results.hits]


def test_a_snapshot_overwritten_in_place_is_detected_and_rebuilt(
    content_repo: Path, make_kb, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = make_kb(content_repo)
    expected = semantic_ids(first, "create a workspace")
    data = saved_folder(tmp_path / "data") / DATA_FILE
    vectors = first.snapshot.entries[0].vectors.tobytes()
    saved = data.read_bytes()
    assert saved.count(vectors) == 1
    data.write_bytes(saved.replace(vectors, bytes(len(vectors))))  # the vectors zeroed in place: same size
    with caplog.at_level(logging.WARNING, logger="search.store"):
        second = make_kb(content_repo)
    assert [record.message for record in caplog.records if "damaged" in record.message] != []
    assert "checksum" in caplog.text
    assert semantic_ids(second, "create a workspace") == expected == ["start"]


DAMAGED_METAS = ["{not json", f'{{"format": {FORMAT}, "tag": 5}}', f'{{"format": {FORMAT}, "tag": {{"commit": 1}}}}', "[]"]


@pytest.mark.parametrize("meta", DAMAGED_METAS)
def test_a_damaged_meta_file_is_rebuilt_not_a_crash(content_repo: Path, make_kb, tmp_path: Path, meta: str) -> None:
    make_kb(content_repo)
    (saved_folder(tmp_path / "data") / META_FILE).write_text(meta)
    kb = make_kb(content_repo)
    assert semantic_ids(kb, "create a workspace") == ["start"]
    assert json.loads((saved_folder(tmp_path / "data") / META_FILE).read_text())["format"] == FORMAT


def test_a_missing_data_file_is_rebuilt(content_repo: Path, make_kb, tmp_path: Path) -> None:
    make_kb(content_repo)
    (saved_folder(tmp_path / "data") / DATA_FILE).unlink()
    assert semantic_ids(make_kb(content_repo), "create a workspace") == ["start"]


def test_staging_folders_of_a_dead_process_are_removed_at_start(content_repo: Path, make_kb, tmp_path: Path) -> None:
    snapshots = tmp_path / "data" / "snapshots"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = snapshots / f".staging-{dead.stdout.strip()}-abc123"
    (left / "half").mkdir(parents=True)
    alive = snapshots / f".staging-{os.getppid()}-def456"  # another live process, still writing
    alive.mkdir()
    make_kb(content_repo)
    assert not left.exists() and alive.exists()


def test_remove_abandoned_keeps_what_is_not_a_staging_folder(tmp_path: Path) -> None:
    (tmp_path / ".staging-notapid").mkdir()
    (tmp_path / "content").mkdir()
    assert remove_abandoned(tmp_path, ".staging-") == []
    assert sorted(path.name for path in tmp_path.iterdir()) == [".staging-notapid", "content"]


def test_a_snapshot_whose_classes_kb_no_longer_has_is_rebuilt_not_a_crash(content_repo: Path, make_kb, tmp_path: Path) -> None:
    make_kb(content_repo)
    folder = saved_folder(tmp_path / "data")
    foreign = b"\x80\x05cno_such_module\nThing\n)\x81."  # a pickle naming a class that does not exist
    (folder / DATA_FILE).write_bytes(foreign)
    meta = json.loads((folder / META_FILE).read_text())
    meta["sha256"][DATA_FILE] = hashlib.sha256(foreign).hexdigest()  # intact on disk, only unreadable
    (folder / META_FILE).write_text(json.dumps(meta))
    assert semantic_ids(make_kb(content_repo), "create a workspace") == ["start"]
