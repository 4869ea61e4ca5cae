"""`kb serve` in its own process, as deployed, with what the bench reads off it (its URL, its memory), and the bare floor app."""

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
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parent.parent


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
def running_server(env: dict[str, str], *, ready_timeout: float = 900, checkout: Path = ROOT) -> Iterator[Server]:
    """Start `kb serve` of ``checkout`` with ``env`` on a free port; yield once /readyz answers; stop it afterwards."""
    port = _free_port()
    command = [sys.executable, "-m", "kb", "serve", "--port", str(port)]
    with _serving(command, env, port, "/readyz", ready_timeout, cwd=checkout) as server:
        yield server


@contextmanager
def running_bare_server() -> Iterator[Server]:
    """The floor: bench/bare_app.py on the same uvicorn, with `kb serve`'s settings (no access log)."""
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    with _serving(command, {}, port, "/", ready_timeout=60) as server:
        yield server


@contextmanager
def _serving(
    command: list[str], env: dict[str, str], port: int, ready_path: str, ready_timeout: float, *, cwd: Path = ROOT
) -> Iterator[Server]:
    # A file, not a pipe, for the server's output: an unread pipe fills up and stalls the server under load.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=log, cwd=cwd)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_ready(process, log, f"{base}{ready_path}", ready_timeout, name=" ".join(command[1:4]))
            yield Server(base, process.pid)
        finally:
            process.terminate()
            process.wait(timeout=30)


def _wait_until_ready(process: subprocess.Popen, log: IO[bytes], url: str, timeout: float, *, name: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"{name} exited: {log.read().decode()[-2000:]}")
        try:
            answer = httpx.get(url, timeout=2)
            if answer.status_code == 200 and answer.json().get("status") != "catching-up":
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer in {timeout:.0f} s")
        time.sleep(0.2)
