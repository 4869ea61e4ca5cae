"""README's shell examples run as written, in order, against a live server over a fresh copy of the sample.

Every ```sh block of README.md is one test case. bash runs it (`set -euo pipefail`, traced) from a folder
that stands for the repository root: its entries link to the real ones (`.venv` among them) and its `data/`
is the server's data folder, as for a reader who ran `make serve` in another terminal and copy-pastes from
the repository root. The shell and the server share one environment: KB_DATA_DIR (that `data/`),
KB_DATABASE_URL (SQLite there, or a schema of KB_TEST_DATABASE_URL's PostgreSQL) and KB_MODEL_CACHE_DIR.

What the test does not run, or changes, and nothing else:

- `make test` lines are not run: CI runs them (`.ci/run`), and the suite cannot run itself.
- `make serve` lines are not run: they would serve until stopped. The test's own server (uvicorn in a thread)
  stands for `make serve` from the start; a `make serve` line restarts it with the variables the line sets
  (`KB_JWT_SECRET=… make serve`), which the test records by running `env` in its place.
- README's address, http://127.0.0.1:8000, becomes the test server's.
- `curl` is a shell function adding `--fail-with-body -sS`, so that an HTTP error fails the block.

Without `.venv/bin/kb` (pytest run by another interpreter than `make test`'s) the examples are skipped.

The blocks are the steps of one walk-through: each runs in a fresh shell (no variables carry over from the
blocks above) but finds what they left behind: the server's state, and files in `data/` such as the JWT
secret the block that restarts the server writes for the block after it. So a block runs after the blocks
above it (under `-k`, those run first), and its failure names the blocks above it that failed too.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.app import create_app
from articles.parse import parse_article
from kb.core.settings import Settings
from search.encoder import Encoder
from tests.conftest import make_settings, serve_in_thread

ROOT = Path(__file__).resolve().parent.parent
README_URL = "http://127.0.0.1:8000"
PRELUDE = """\
set -euo pipefail
curl() { command curl --fail-with-body -sS "$@"; }
set -x
"""
MAKE = re.compile(r"(?<![\w.-])make(?![\w.-])")
MAKE_SERVE = re.compile(r"(?<![\w.-])make serve(?![\w.-])")
MAKE_TEST = re.compile(r"(?<![\w.-])make test(?![\w.-])")
SERVER_ENV = "README_SERVER_ENV"
"""The shell variable naming the file a `make serve` line's environment is recorded in."""


@dataclass(frozen=True)
class Block:
    """One ```sh block of the README: the section it is in and its lines."""

    id: str
    lines: tuple[str, ...]

    def script(self, url: str) -> str:
        """The block as the test runs it: `make` lines left out or recorded, README's address made ``url``."""
        run = [self._as_run(line) for line in self.lines]
        return PRELUDE + "".join(line.replace(README_URL, url) + "\n" for line in run if line is not None)

    @property
    def runs_anything(self) -> bool:
        """False for blocks of `make serve` / `make test` lines only: the test's server and CI stand for them."""
        return any(_code(line) and not MAKE.search(_code(line)) for line in self.lines)

    def _as_run(self, line: str) -> str | None:
        code = _code(line)
        if MAKE_TEST.search(code):
            return None
        if MAKE_SERVE.search(code):
            return MAKE_SERVE.sub(f'env -0 > "${SERVER_ENV}"', code)
        assert not MAKE.search(code), f"README block {self.id}: decide whether the test runs this line: {line}"
        return line


def _code(line: str) -> str:
    """The line without its comment (a `#` starting it or after a space: README's commands quote no such `#`)."""
    return "" if line.lstrip().startswith("#") else re.split(r"\s#", line, maxsplit=1)[0].rstrip()


def readme_blocks(text: str) -> list[Block]:
    """Every ```sh block, named after its section (`who-sees-what-2`: that section's second block)."""
    blocks: list[Block] = []
    section, count = "top", 0
    fence: str | None = None
    lines: list[str] = []
    for line in text.splitlines():
        if fence is None and line.startswith("```"):
            fence, lines = line[3:].strip(), []
        elif fence is not None and line.startswith("```"):
            if fence == "sh":
                count += 1
                blocks.append(Block(f"{section}-{count}", tuple(lines)))
            fence = None
        elif fence is not None:
            lines.append(line)
        elif line.startswith("#"):
            section, count = re.sub(r"[^a-z0-9]+", "-", line.lstrip("#").strip().lower()).strip("-"), 0
    return blocks


BLOCKS = [block for block in readme_blocks((ROOT / "README.md").read_text()) if block.runs_anything]


class Walkthrough:
    """The stand-in repository root, the server `make serve` would run there, and the blocks run so far."""

    def __init__(self, root: Path, *, database_url: str, model: Encoder) -> None:
        self.root, self.database_url, self.model = root, database_url, model
        self.data = root / "data"
        self.env = {name: value for name, value in os.environ.items() if not name.startswith("KB_")} | {
            "KB_DATA_DIR": str(self.data),
            "KB_DATABASE_URL": database_url,
            "KB_MODEL_CACHE_DIR": os.environ["KB_MODEL_CACHE_DIR"],  # the session's export (conftest.model_cache)
        }
        self.server = ExitStack()
        self.overrides: dict[str, str] | None = None
        self.url = ""
        self.outcomes: dict[str, bool] = {}

    def serve(self, overrides: dict[str, str]) -> None:
        """(Re)start the server with the settings a `make serve` line would give it, over the same data."""
        if overrides == self.overrides:
            return
        self.server.close()
        settings: Settings = make_settings(data_dir=self.data, repo_path=None, database_url=self.database_url,
                                           **overrides)  # fmt: skip
        self.url = self.server.enter_context(serve_in_thread(create_app(settings, encoder=self.model)))
        self.overrides = overrides

    def run(self, block: Block) -> None:
        """Run the blocks above ``block`` that have not run, then ``block``; fail with its traced output."""
        above = BLOCKS[: BLOCKS.index(block)]
        for earlier in above:
            if earlier.id not in self.outcomes:
                self._run(earlier)
        result = self._run(block)
        if result.returncode != 0:
            failed = [earlier.id for earlier in above if not self.outcomes[earlier.id]]
            note = f" (blocks above it failed too: {', '.join(failed)})" if failed else ""
            tail = "\n".join(line[:300] for line in result.stdout.splitlines()[-40:])
            pytest.fail(f"README block {block.id} exited with {result.returncode}{note}; the end of its trace:\n{tail}")

    def _run(self, block: Block) -> subprocess.CompletedProcess[str]:
        recorded = self.root.parent / f"server-env-{block.id}"
        result = subprocess.run(
            ["bash", "-c", f"{SERVER_ENV}={shlex.quote(str(recorded))}\n" + block.script(self.url)],
            cwd=self.root, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=540,
        )  # fmt: skip
        self.outcomes[block.id] = result.returncode == 0
        if result.returncode == 0 and recorded.exists():
            self.serve(self._settings_from(recorded))
        return result

    def _settings_from(self, recorded: Path) -> dict[str, str]:
        """The KB_ variables a `make serve` line set beyond the shared environment, as Settings fields."""
        variables = dict(item.partition("=")[::2] for item in recorded.read_text().split("\0") if item)
        overrides = {}
        for name, value in variables.items():
            if name.startswith("KB_") and self.env.get(name) != value:
                field = name.removeprefix("KB_").lower()
                assert field in Settings.model_fields, f"`make serve` line sets {name}, which is no setting"
                overrides[field] = value
        return overrides


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Walkthrough]:
    if not (ROOT / ".venv" / "bin" / "kb").exists():  # checked before the model loads
        pytest.skip(f"README's examples call .venv/bin/kb, which `make test` installs; {ROOT / '.venv'} has none")
    database_url, model = request.getfixturevalue("module_database_url"), request.getfixturevalue("model")
    root = tmp_path_factory.mktemp("readme") / "kb"
    root.mkdir()
    for entry in ROOT.iterdir():
        if entry.name != "data":
            (root / entry.name).symlink_to(entry)
    walk = Walkthrough(root, database_url=database_url, model=model)
    walk.serve({})  # `make serve` in another terminal, before the first example
    with walk.server:
        yield walk


@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_the_readme_example_runs_as_written(walkthrough: Walkthrough, block: Block) -> None:
    walkthrough.run(block)


def test_the_examples_are_found() -> None:
    """A change to the README's fences must not quietly leave the examples untested."""
    assert len(BLOCKS) >= 3
    assert any(".venv/bin/kb" in line for block in BLOCKS for line in block.lines)


def test_the_readmes_front_matter_examples_are_valid_articles() -> None:
    """Each ```yaml block that opens with `---` is an article's front matter a writer may copy as it stands."""
    blocks = re.findall(r"```yaml\n(---\n.*?---\n)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 2
    for number, front in enumerate(blocks):
        article = parse_article(f"en/example-{number}.md", (front + "\nText.\n").encode())
        assert article.title
