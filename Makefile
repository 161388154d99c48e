# One place for set-up: `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup browser run test unit evals bench clean

setup: $(STAMP)

# torch first, from the local CPU wheel, so no later step pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	@echo "setup 1/4: virtual environment in $(VENV)"
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@echo "setup 2/4: pip"
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "setup 3/4: torch 2.13.0 (local CPU wheel; only the optional sentence-transformers path and the MiniLM export use it)"
	@$(BIN)/python -m pip install --quiet torch==2.13.0
	@echo "setup 4/4: newsrag and its dependencies (a few minutes on a fresh machine; a line per package)"
	@$(BIN)/python -m pip install --progress-bar off -e '.[dev]' 2>&1 \
	  | awk '/^(Collecting|Successfully installed|ERROR|error:)/ { print "  " $$0; fflush() }'
	@touch $(STAMP)
	@echo "setup done"

# The browser test drives Debian's chromium (never a downloaded browser).
browser:
	@if command -v chromium >/dev/null 2>&1; then echo "browser: chromium present"; else \
	  echo "browser: installing Debian's chromium for the browser test"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; fi

run: setup
	$(BIN)/newsrag ingest
	$(BIN)/newsrag serve

test: setup browser
	$(BIN)/python -m pytest -q
	$(BIN)/python -m evals --split test

unit: setup
	$(BIN)/python -m pytest -q -m "not slow and not browser"

evals: setup
	$(BIN)/python -m evals --split test

# The benchmark reads a large corpus you name: NEWSRAG_BENCH_CORPUS=path/to/bbc make bench
bench: setup
	$(BIN)/newsrag bench $${NEWSRAG_BENCH_CORPUS:+--corpus "$$NEWSRAG_BENCH_CORPUS"}

clean:
	rm -rf $(VENV) data .evals .bench
