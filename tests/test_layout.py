"""The project's own shape: its packages are the ones imported, and every setting is documented."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from kb.core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("package", ["kb", "articles", "search", "versioning", "api"])
def test_generic_package_names_resolve_to_this_project(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().parent == ROOT / package


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented_in_the_readme(name: str) -> None:
    readme = (ROOT / "README.md").read_text()
    assert f"`KB_{name.upper()}`" in readme
    assert Settings.model_fields[name].description


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (ROOT / "README.md").read_text()
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_imports_go_one_way() -> None:
    """api → kb → {search, versioning} → articles: a lower package never imports a higher one."""
    higher = {"articles": {"versioning", "search", "kb", "api"}, "versioning": {"search", "kb", "api"},
              "search": {"kb", "api", "versioning"}, "kb": {"api"}}
    for package, forbidden in higher.items():
        for source in (ROOT / package).rglob("*.py"):
            for line in source.read_text().splitlines():
                words = line.split()
                if len(words) >= 2 and words[0] in ("import", "from"):
                    assert words[1].split(".")[0] not in forbidden, f"{source.relative_to(ROOT)}: {line.strip()}"
