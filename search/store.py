"""Saving and loading snapshots in the data directory, replaced atomically so a crash never leaves half a file."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

from search.snapshot import IndexSnapshot, SnapshotTag

FORMAT = 2
"""Bumped whenever what is pickled changes shape; an older saved snapshot is then rebuilt, not misread."""


class SnapshotStore:
    """One folder per saved snapshot under ``root``; ``latest`` names the one to start from.

    Only the newest snapshot is kept: everything in it can be rebuilt from Git and the embedding
    cache, so older ones would only cost disk.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, snapshot: IndexSnapshot) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"{snapshot.tag.commit[:12]}-{os.getpid()}-{id(snapshot):x}"
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.root))
        with open(staging / "snapshot.pickle", "wb") as out:
            pickle.dump({"entries": list(snapshot.entries), "errors": list(snapshot.errors)}, out, protocol=5)
        (staging / "meta.json").write_text(json.dumps({"format": FORMAT, "tag": asdict(snapshot.tag)}))
        final = self.root / name
        staging.rename(final)
        self._point_latest_at(name)
        self._remove_all_but(name)
        return final

    def load_latest(self) -> IndexSnapshot | None:
        """The last saved snapshot, or None if there is none or it was written by another format."""
        folder = self._latest_folder()
        if folder is None:
            return None
        try:
            meta = json.loads((folder / "meta.json").read_text())
            if meta.get("format") != FORMAT:
                return None
            with open(folder / "snapshot.pickle", "rb") as source:
                data = pickle.load(source)
        except (OSError, ValueError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return None
        return IndexSnapshot(tag=SnapshotTag(**meta["tag"]), entries=data["entries"], errors=data["errors"])

    def latest_tag(self) -> SnapshotTag | None:
        folder = self._latest_folder()
        if folder is None:
            return None
        try:
            meta = json.loads((folder / "meta.json").read_text())
        except (OSError, ValueError):
            return None
        return SnapshotTag(**meta["tag"]) if meta.get("format") == FORMAT else None

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
