# onprem-bot — the two set-up commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
export ONPREM_BOT_HOME ?= $(CURDIR)/var

# llama-cpp-python is built from source once and kept as a wheel (make bundle reuses it).
# The native build crashes in ggml's AMX kernel on these CPUs: build for AVX2 explicitly.
LLAMA_VERSION := 0.3.36
# CPU PyTorch for sentence-transformers (an unpinned torch pulls several GB of CUDA packages).
TORCH_VERSION ?= 2.13.0
GPU ?= 0
WHEELHOUSE ?= $(HOME)/.cache/onprem-bot/wheels$(if $(filter 1,$(GPU)),-cuda,)
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAVA_BUILD=OFF$(if $(filter 1,$(GPU)), -DGGML_CUDA=on,)
STAMP := $(VENV)/.installed-$(GPU)

.PHONY: install run test lint ingest ui clean llama-wheel help eval bench

help:
	@echo "make run    — install what is missing, ingest corpus/, start the web UI"
	@echo "make test   — install what is missing, run the test suite"
	@echo "make install [GPU=1] — create .venv and install everything (GPU=1: CUDA llama.cpp + faiss-gpu)"
	@echo "make eval   — retrieval quality on the shipped statute questions"
	@echo "make bench  — retrieval latency at 10k and 100k chunks"
	@echo "make lint   — ruff + mypy"

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(MAKE) --no-print-directory llama-wheel
	$(BIN)/pip install -q --find-links "$(WHEELHOUSE)" "llama-cpp-python==$(LLAMA_VERSION)"
	$(BIN)/pip install -q "torch==$(TORCH_VERSION)"
	$(BIN)/pip install -q -e ".[dev,st$(if $(filter 1,$(GPU)),$(comma)gpu,)]"
	@rm -f $(VENV)/.installed-*
	@touch $@
	@echo "설치 완료 (installed): $(BIN)/onprem-bot"

comma := ,

llama-wheel:
	@mkdir -p "$(WHEELHOUSE)"
	@if ls "$(WHEELHOUSE)"/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1; then \
		echo "llama-cpp-python $(LLAMA_VERSION): wheel in $(WHEELHOUSE)"; \
	else \
		echo "llama-cpp-python $(LLAMA_VERSION)를 빌드합니다 (building from source, ~10 min on 2 cores)"; \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
			$(BIN)/pip wheel --no-deps --no-cache-dir "llama-cpp-python==$(LLAMA_VERSION)" -w "$(WHEELHOUSE)"; \
	fi

ingest: install
	$(BIN)/onprem-bot ingest corpus

run: ingest
	$(BIN)/onprem-bot ui

ui: install
	$(BIN)/onprem-bot ui

eval: ingest
	$(BIN)/onprem-bot eval onprem_bot/data/eval/statutes_dev.jsonl

bench: install
	$(BIN)/onprem-bot bench retrieval --chunks 100000

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check onprem_bot ui tests
	$(BIN)/ruff format --check onprem_bot ui tests
	$(BIN)/mypy onprem_bot

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
