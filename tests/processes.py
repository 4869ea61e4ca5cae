"""`kb serve` as a real process over a data folder, for tests that kill it and start it again.

Each start is a new process with the same data folder and database, as an operator's restart is;
its output goes to a log file in the data folder's parent, which a failing test shows.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class KbProcess:
    """How to start kb over one data folder and database; ``env`` adds or overrides variables."""

    data_dir: Path
    database_url: str
    env: dict[str, str] = field(default_factory=dict)
    starts: int = 0

    @property
    def log(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.log"

    def start(self, *, failpoint: str | None = None) -> tuple[subprocess.Popen, str]:
        """Start `kb serve` on a free port; returns the process and its base URL (not waited for)."""
        port = free_port()
        env = {**os.environ, "KB_DATA_DIR": str(self.data_dir), "KB_DATABASE_URL": self.database_url, **self.env}
        env.pop("KB_FAILPOINT", None)
        if failpoint:
            env["KB_FAILPOINT"] = failpoint
        self.starts += 1
        with open(self.log, "a") as log:
            log.write(f"\n--- start {self.starts}{f' (KB_FAILPOINT={failpoint})' if failpoint else ''}\n")
            process = subprocess.Popen(
                [sys.executable, "-m", "kb", "serve", "--port", str(port)], env=env, cwd=ROOT,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        return process, f"http://127.0.0.1:{port}"

    def exit_status(self, *, failpoint: str, timeout: float = 600) -> int:
        """Start kb with ``failpoint`` set and wait for it to exit there (or anywhere)."""
        process, _ = self.start(failpoint=failpoint)
        return process.wait(timeout=timeout)

    @contextmanager
    def serving(self, *, failpoint: str | None = None, timeout: float = 600) -> Iterator[Server]:
        """kb started and caught up (``/readyz`` says ready); stopped with SIGTERM afterwards unless it already exited."""
        process, base = self.start(failpoint=failpoint)
        try:
            wait_until_ready(process, base, timeout, self.log)
            yield Server(process, base)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)

    def output(self) -> str:
        return self.log.read_text()


@dataclass
class Server:
    process: subprocess.Popen
    base: str

    def get(self, path: str, *, params: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
        return httpx.get(self.base + path, params=params, headers=headers, timeout=60)

    def post(self, path: str, *, json: object = None, headers: dict[str, str] | None = None) -> httpx.Response:
        return httpx.post(self.base + path, json=json, headers=headers, timeout=60)


def wait_until_ready(process: subprocess.Popen, base: str, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"kb exited with {process.returncode} before it was ready:\n{log.read_text()[-3000:]}")
        try:
            ready = httpx.get(f"{base}/readyz", timeout=2)
            if ready.status_code == 200 and ready.json()["status"] == "ready":  # not still catching up
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"kb was not ready after {timeout} s:\n{log.read_text()[-3000:]}")
