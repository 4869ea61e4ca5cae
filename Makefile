# Every target sets up .venv first, so `make serve` and `make test` work on a fresh machine.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= ../shared/data

.PHONY: install serve test bench eval clean

install: $(STAMP)

# torch is installed first and pinned: an unpinned torch would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	# The browser tests drive Debian's Chromium through Playwright (no Playwright browser download).
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/kb serve

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench.search_latency

clean:
	rm -rf $(VENV) data
