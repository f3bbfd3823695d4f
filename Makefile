# touchdown: `make demo` runs the main job, `make test` runs the test suite.
# Both create .venv on first use and install the pinned dependencies (requirements.lock).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
OUT    ?= out
# Developers and CI keep the LOLA grid beside the repository (../shared/data); users fetch it with
# `touchdown data fetch`. Without either, the demo flies over synthetic terrain and says so.
ifeq ($(TOUCHDOWN_DATA),)
ifneq ($(wildcard ../shared/data/terrain/LDEM_4.LBL),)
export TOUCHDOWN_DATA := $(abspath ../shared/data)
endif
endif

.PHONY: help venv browser test test-fast lint demo lock clean

help:
	@echo "make demo       fly the demo and write its results under $(OUT)/"
	@echo "make test       lint, then the full test suite (what CI runs)"
	@echo "make test-fast  the suite without tests marked slow"
	@echo "make browser    install Debian's chromium for the report browser test (as root, with apt)"
	@echo "make lock       re-pin requirements.lock from a fresh resolve"

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24"
	$(BIN)/python -m pip install -q -c requirements.lock -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check --output-format concise src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

# The report test renders pages in headless Chromium through Playwright (no browser download: Debian's).
browser:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian's chromium for the report browser test"; \
	  apt-get install -y -q chromium >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; \
	else \
	  echo "make browser: no Chromium and no root apt-get; install chromium yourself" \
	       "(or set TOUCHDOWN_NO_BROWSER=1 to skip the browser test)" >&2; \
	fi

# -n auto: one test process per core (pytest-xdist); 7 min on 2 cores against 11 in one process
test: lint browser
	$(BIN)/python -m pytest -n auto

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n auto -m "not slow"

demo: $(STAMP)
	$(BIN)/python -m touchdown demo --out $(OUT)

lock:
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/pip install -q ".[dev]"
	.lockvenv/bin/pip freeze --exclude touchdown | sort > requirements.lock
	rm -rf .lockvenv

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .ruff_cache
