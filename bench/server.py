"""`kb serve` in its own process, as deployed, with what the bench reads off it: its URL and its memory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class Server:
    base: str
    pid: int

    def memory_mb(self) -> dict[str, float]:
        """Resident memory now and at its peak (VmRSS, VmHWM), in MiB."""
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{self.pid}/status").read_text().splitlines() if ":" in line)
        return {name: int(fields[key].split()[0]) / 1024 for name, key in (("rss", "VmRSS"), ("peak", "VmHWM"))}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server(env: dict[str, str], *, ready_timeout: float = 900) -> Iterator[Server]:
    """Start `kb serve` with ``env`` on a free port; yield once /readyz answers; stop it afterwards."""
    port = _free_port()
    with tempfile.TemporaryFile() as log:  # a file, not a pipe: an unread pipe fills up and stalls the server under load
        process = subprocess.Popen(
            [sys.executable, "-m", "kb", "serve", "--port", str(port)],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + ready_timeout
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"kb serve exited: {log.read().decode()[-2000:]}")
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"kb serve did not become ready in {ready_timeout:.0f} s")
                time.sleep(0.2)
            yield Server(base, process.pid)
        finally:
            process.terminate()
            process.wait(timeout=30)
