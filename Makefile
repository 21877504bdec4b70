# The two commands a newcomer needs: `make demo` and `make test`. Everything installs itself into .venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# pytest-xdist processes: most tests wait on HTTP, subprocesses and DuckDB, so two share 2 cores well
TEST_WORKERS ?= 2
export RUNTIME__DLTHUB_TELEMETRY := false

.PHONY: help install demo test test-setup test-slow test-postgres lint format docs bench emulators clean

help:
	@echo "make demo        start the emulated APIs, run the nightly job twice, show reports and queries"
	@echo "make test        the whole test suite (what CI runs)"
	@echo "make test-slow   the long tests too (crash loops, large volumes)"
	@echo "make test-postgres  the PostgreSQL destination tests alone (starts a throwaway server)"
	@echo "make lint        ruff"
	@echo "make docs        docs/analytics.md from schemas/analytics/definitions.yaml"
	@echo "make bench       at 0 and 100 ms a request, against four connections and an undisclosed limit; 100k/1M -> BENCHMARKS.md"
	@echo "make emulators   serve the emulated APIs on localhost until Ctrl-C"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev,dagster]"   # dagster: the orchestration extra its tests cover
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(PY) -m pipelines.demo

# What the BI and PostgreSQL tests need besides .venv: PostgreSQL server binaries and Chromium (Debian packages,
# installed when missing), the DuckDB CLI and an older DuckDB (PyPI, cached in .venv/bi-readers).
test-setup: install
	bash scripts/postgres.sh install
	bash scripts/chromium.sh
	bash scripts/bi_readers.sh >/dev/null

test: test-setup
	$(PY) -m pytest -q -n $(TEST_WORKERS)

test-slow: test-setup
	$(PY) -m pytest -q -n $(TEST_WORKERS) -m "slow or not slow"

test-postgres: test-setup
	$(PY) -m pytest -q -m postgres

lint: install
	$(VENV)/bin/ruff check .

format: install
	$(VENV)/bin/ruff check --fix .

docs: install
	$(PY) -m pipelines.definitions

bench: install
	$(PY) -m benchmarks

emulators: install
	$(PY) -m emulators serve

clean:
	rm -rf .demo .bench warehouse _storage
