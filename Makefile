# One place for set-up: `make run` and `make test` work on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test unit evals bench clean

setup: $(STAMP)

# torch first, from the local CPU wheel, so no later step pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: setup
	$(BIN)/newsrag ingest
	$(BIN)/newsrag serve

test: setup
	$(BIN)/python -m pytest -q
	$(BIN)/python -m evals

unit: setup
	$(BIN)/python -m pytest -q -m "not slow and not browser"

evals: setup
	$(BIN)/python -m evals

bench: setup
	$(BIN)/newsrag bench

clean:
	rm -rf $(VENV) data .evals .bench
