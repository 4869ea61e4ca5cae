# Every target sets up .venv first, so `make serve` and `make test` work on a fresh machine.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# axe-core, the accessibility engine the browser tests inject into kb's pages (tests/test_site_accessibility.py).
AXE_CORE := 4.14.1
AXE_STAMP := $(VENV)/axe/.installed-$(AXE_CORE)
# The BEIR sets `make eval` and `make bench` read (../shared/data by default; DATA=… to change it).
DATA ?= ../shared/data

.PHONY: install serve test bench eval clean

install: $(STAMP) $(AXE_STAMP)

# torch is installed first and pinned: an unpinned torch would pull a multi-GB CUDA build.
# Chromium (Debian's package) drives the help-center browser tests, with Noto CJK for Japanese text (screenshots,
# axe's contrast checks); each is installed when missing, by
# tools/apt-install, which says so and waits while another apt holds apt's locks.
$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	command -v chromium >/dev/null || PYTHON=$(PYTHON) sh tools/apt-install "for the browser tests" chromium
	test -d /usr/share/fonts/opentype/noto || PYTHON=$(PYTHON) sh tools/apt-install "for Japanese text in the browser" fonts-noto-cjk
	touch $(STAMP)

# axe-core comes from the npm registry, pinned above, into the venv (so `make clean` removes it with the rest):
# one package without dependencies or install scripts, loaded by the browser as a plain script file, so it
# needs no package.json or lock file in the tree; npm checks the tarball against the registry's sha512.
# A stamp of its own, named after the version, rather than a line in $(STAMP)'s recipe: an existing venv gets
# it on its next `make test`, and changing the pin installs the new version.
$(AXE_STAMP): | $(STAMP)
	@command -v npm >/dev/null || { echo "error: axe-core comes from npm: install Node.js (with npm), then make again" >&2; exit 1; }
	rm -rf $(VENV)/axe
	npm install --prefix $(VENV)/axe --no-save --no-package-lock --no-audit --no-fund --ignore-scripts axe-core@$(AXE_CORE)
	touch $(AXE_STAMP)

serve: $(STAMP)
	$(BIN)/kb serve

# Lint and type-check first (both configured in pyproject.toml): mypy takes ~1.5 min cold on 2 cores and
# seconds with its cache; the tests take over ten minutes.
test: $(STAMP) $(AXE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

# wrk (Debian's package) is the load generator; installed when missing, like Chromium for the tests.
bench: $(STAMP)
	command -v wrk >/dev/null || PYTHON=$(PYTHON) sh tools/apt-install "for the load test" wrk
	$(BIN)/python -m bench.search_latency --data $(DATA)
	$(BIN)/python -m bench.vector_scale
	$(BIN)/python -m bench.assist_latency
	$(BIN)/python -m bench.site_latency
	$(BIN)/python -m bench.events_overhead
	$(BIN)/python -m bench.reports_scale
	$(BIN)/python -m bench.gaps_scale

# Search quality on the BEIR sets beside the project.
eval: $(STAMP)
	$(BIN)/python -m bench.eval_all $(DATA)
	$(BIN)/python -m bench.typos $(DATA)
	$(BIN)/python -m bench.analysers $(DATA)

clean:
	rm -rf $(VENV) data bench/results
