# Potok - the two commands of the quick start, and a few helpers for developers.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DB ?= sqlite:///potok-demo.db

.PHONY: demo test check lint bench clean

## demo: set up, fill a SQLite sandbox, serve the API on http://127.0.0.1:8000 (docs at /docs)
demo: $(VENV)/.installed
	$(BIN)/potok --db $(DEMO_DB) demo

## test: install the test tools and run the whole suite (SQLite and PostgreSQL)
test: $(VENV)/.installed-test
	$(BIN)/pytest

## check: lint, types and tests, as CI runs them
check: lint test

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

## bench: the intake benchmark on PostgreSQL (see README for the figures)
bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/intake.py --db postgresql --clients 32 --orders 5000

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache potok-demo.db*
