# Potok - the two commands of the quick start, and a few helpers for developers.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DB ?= sqlite:///potok-demo.db

.PHONY: demo test check lint bench clean messages

## demo: set up, fill a SQLite sandbox, serve the API on http://127.0.0.1:8000 (docs at /docs)
demo: $(VENV)/.installed
	$(BIN)/potok --db $(DEMO_DB) demo

## test: install the test tools and run the whole suite (SQLite and PostgreSQL) on two workers
test: $(VENV)/.installed-test
	$(BIN)/pytest -n 2 --dist loadgroup

## check: lint, types and tests, as CI runs them
check: lint test

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

## bench: the intake benchmark on PostgreSQL (see README for the figures)
bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/intake.py --db postgresql --clients 32 --orders 5000

## messages: refresh the console's Russian catalogue from its templates (then translate what is new)
messages: $(VENV)/.installed-test
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output --project Potok -o console.pot .
	$(BIN)/pybabel update -i console.pot -d src/potok/web/locale -l ru -D console --no-fuzzy-matching --ignore-obsolete
	rm console.pot

# install ARGS into the venv: with uv (itself from PyPI, into the venv), which fetches and
# unpacks the packages side by side and leaves their bytecode to first use (README, quick
# start: the figures), else with pip (also when uv cannot be had or fails)
install = { [ -x $(BIN)/uv ] || $(BIN)/pip install --quiet uv; } \
	&& $(BIN)/uv pip install --quiet --python $(BIN)/python $(1) \
	|| { $(BIN)/pip install --quiet --upgrade pip && $(BIN)/pip install --quiet $(1); }

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(call install,-e .)
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(call install,-e '.[test]')
	if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/browser --no-audit --no-fund --silent; fi
	touch $@

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache potok-demo.db*
