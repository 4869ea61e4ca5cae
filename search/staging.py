"""Folders built beside their destination and renamed into place, and the leftovers of a killed builder.

A rename is atomic, so a reader sees the old folder or the new one, never half of one. A process
killed while building leaves its staging folder behind; the folder's name carries the builder's
process id, so the next start removes exactly the folders whose builder is gone, and never one a
live process (another kb sharing the data directory) is still writing.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)


def staging_folder(parent: Path, prefix: str) -> Path:
    """A new empty folder ``<parent>/<prefix><pid>-<random>``, on the destination's file system."""
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))


def remove_abandoned(parent: Path, prefix: str) -> list[Path]:
    """Remove the staging folders under ``parent`` whose builder process no longer runs; returns them."""
    pattern = re.compile(re.escape(prefix) + r"(\d+)-")
    removed = []
    for child in sorted(parent.iterdir()) if parent.is_dir() else []:
        found = pattern.match(child.name)
        if found and not _running(int(found.group(1))):
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
            removed.append(child)
    if removed:
        log.warning("removed %d folder(s) left by a process that was stopped while writing them: %s",
                    len(removed), ", ".join(str(path) for path in removed))
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
