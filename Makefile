# Every target sets up .venv first, so `make serve` and `make test` work on a fresh machine.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The BEIR sets `make eval` and `make bench` read (../shared/data by default; DATA=… to change it).
DATA ?= ../shared/data

.PHONY: install serve test bench eval clean

install: $(STAMP)

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

serve: $(STAMP)
	$(BIN)/kb serve

# Lint and type-check first (both configured in pyproject.toml): mypy takes ~1.5 min cold on 2 cores and
# seconds with its cache; the tests take over ten minutes.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

# wrk (Debian's package) is the load generator; installed when missing, like Chromium for the tests.
bench: $(STAMP)
	command -v wrk >/dev/null || PYTHON=$(PYTHON) sh tools/apt-install "for the load test" wrk
	$(BIN)/python -m bench.search_latency --data $(DATA)
	$(BIN)/python -m bench.vector_scale
	$(BIN)/python -m bench.assist_latency

# Search quality on the BEIR sets beside the project.
eval: $(STAMP)
	$(BIN)/python -m bench.eval_all $(DATA)
	$(BIN)/python -m bench.analysers $(DATA)

clean:
	rm -rf $(VENV) data bench/results
