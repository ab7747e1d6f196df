# Switchboard: two commands for a fresh clone (Python 3.11 to 3.13; PYTHON=python3.13 picks another).
#   make run   — install into .venv, load the demo data and the first eval report, start Switchboard (offline)
#   make test  — install into .venv (plus Debian's chromium for the browser tests) and run the whole suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench eval install mutation clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else "Switchboard needs Python 3.11 to 3.13")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@test -f var/switchboard.db || $(BIN)/switchboard demo
	@test -f var/evals/latest/summary.json || $(BIN)/switchboard eval --report var/evals/latest > /dev/null
	$(BIN)/switchboard serve

test: $(STAMP)
	@bash scripts/ensure-chromium
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n auto --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy core flows tools agent switchboard console bot evals

bench: $(STAMP)
	$(BIN)/switchboard bench

eval: $(STAMP)
	$(BIN)/switchboard eval

# Mutation testing of the safety logic ([tool.mutmut] in pyproject.toml); outside CI's time budget.
mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,mutation]'
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2
	$(BIN)/python scripts/mutation_score.py

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
