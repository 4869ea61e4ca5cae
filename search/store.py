"""Saving and loading snapshots in the data directory, replaced atomically so a crash never leaves half a file.

Every file of a saved snapshot is checksummed (SHA-256, in ``meta.json``) and verified on load: a
snapshot damaged on disk, even in place and at the same size, is never served; it is rebuilt from Git
and the embedding cache. The data itself is a pickle, which is only ever read from kb's own data
directory and only after its checksum matched what kb wrote.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import shutil
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from search.snapshot import IndexSnapshot, SnapshotTag
from search.staging import remove_abandoned, staging_folder

log = logging.getLogger(__name__)

FORMAT = 5
"""Bumped whenever what is pickled changes shape; an older saved snapshot is then rebuilt, not misread."""


DATA_FILE = "snapshot.pickle"
META_FILE = "meta.json"


class DamagedSnapshot(Exception):
    """A saved snapshot whose files are missing, unreadable or not what was written."""


class SnapshotStore:
    """One folder per saved snapshot under ``root``; ``latest`` names the one to start from.

    Only the newest snapshot is kept: everything in it can be rebuilt from Git and the embedding
    cache, so older ones would only cost disk.
    """

    def __init__(self, root: Path, *, failpoint: Callable[[str], None] = lambda point: None) -> None:
        self.root = root
        self._failpoint = failpoint

    def save(self, snapshot: IndexSnapshot) -> Path:
        name = f"{snapshot.tag.commit[:12]}-{os.getpid()}-{id(snapshot):x}"
        staging = staging_folder(self.root, ".staging-")
        data = pickle.dumps({"entries": list(snapshot.entries), "errors": list(snapshot.errors), "synonyms": snapshot.synonyms}, protocol=5)
        (staging / DATA_FILE).write_bytes(data)
        self._failpoint("snapshot-save")
        meta = {"format": FORMAT, "tag": asdict(snapshot.tag), "sha256": {DATA_FILE: hashlib.sha256(data).hexdigest()}}
        (staging / META_FILE).write_text(json.dumps(meta))
        final = self.root / name
        staging.rename(final)
        self._point_latest_at(name)
        self._remove_all_but(name)
        return final

    def load_latest(self) -> IndexSnapshot | None:
        """The last saved snapshot, or None if there is none, it is of another format, or it is damaged.

        A damaged snapshot (a file missing, or not what its checksum says) is logged once, naming
        what is wrong; the caller then rebuilds from Git and the embedding cache.
        """
        folder = self._latest_folder()
        if folder is None:
            return None
        try:
            tag, meta = self._read_meta(folder)
            if tag is None:
                return None
            data = self._verified(folder, meta)
            return IndexSnapshot(tag=tag, entries=data["entries"], errors=data["errors"], synonyms=data["synonyms"])
        except DamagedSnapshot as damaged:
            log.warning("the saved snapshot in %s is damaged (%s); rebuilding it from Git and the embedding cache",
                        folder, damaged)
            return None

    def latest_tag(self) -> SnapshotTag | None:
        """The tag of the last saved snapshot (its files are verified only by :meth:`load_latest`)."""
        folder = self._latest_folder()
        if folder is None:
            return None
        try:
            return self._read_meta(folder)[0]
        except DamagedSnapshot:
            return None

    def remove_abandoned(self) -> None:
        """Staging folders of a process killed while saving (at start-up; never another live process's)."""
        remove_abandoned(self.root, ".staging-")

    @staticmethod
    def _read_meta(folder: Path) -> tuple[SnapshotTag | None, dict]:
        """The snapshot's tag and metadata; no tag when it was written by another format of kb."""
        try:
            meta = json.loads((folder / META_FILE).read_text())
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                return None, {}
            return SnapshotTag(**meta["tag"]), meta
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise DamagedSnapshot(f"{META_FILE}: {exc!r}") from exc

    @staticmethod
    def _verified(folder: Path, meta: dict) -> dict:
        try:
            expected = meta["sha256"][DATA_FILE]
            data = (folder / DATA_FILE).read_bytes()
        except (OSError, KeyError, TypeError) as exc:
            raise DamagedSnapshot(f"{DATA_FILE}: {exc!r}") from exc
        if hashlib.sha256(data).hexdigest() != expected:
            raise DamagedSnapshot(f"{DATA_FILE} does not match the checksum recorded when it was saved")
        try:
            loaded = pickle.loads(data)  # written by kb itself: the checksum above matched
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:  # a class kb no longer has
            raise DamagedSnapshot(f"{DATA_FILE} cannot be read by this version of kb: {exc!r}") from exc
        if not isinstance(loaded, dict) or not {"entries", "errors"} <= loaded.keys():
            raise DamagedSnapshot(f"{DATA_FILE} holds no snapshot")
        return loaded

    def _latest_folder(self) -> Path | None:
        try:
            name = (self.root / "latest").read_text().strip()
        except OSError:
            return None
        folder = self.root / name
        return folder if folder.is_dir() else None

    def _point_latest_at(self, name: str) -> None:
        pointer = self.root / f".latest-{os.getpid()}"
        pointer.write_text(name)
        os.replace(pointer, self.root / "latest")

    def _remove_all_but(self, keep: str) -> None:
        for child in self.root.iterdir():
            if child.is_dir() and child.name != keep and not child.name.startswith(".staging-"):
                shutil.rmtree(child, ignore_errors=True)
