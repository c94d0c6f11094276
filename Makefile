PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

EXPORTER ?= otlp

.PHONY: test check lint types pytest demo quickstart bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=25.1"

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e . --group dev
	touch $@

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

types: $(VENV)/.installed
	$(BIN)/mypy

pytest: $(VENV)/.installed
	$(BIN)/python -m pytest --cov --cov-report=term $(PYTEST_ARGS)

test: lint types pytest

# The quick loop while working: lint, types and the tests not marked slow (no coverage gate).
check: lint types
	$(BIN)/python -m pytest -q -m "not slow" $(PYTEST_ARGS)

demo: $(VENV)/.installed
	$(BIN)/python examples/demo/run.py --exporter $(EXPORTER)

quickstart: $(VENV)/.installed
	$(BIN)/python examples/quickstart.py

# Every row of the performance table (benchmarks/rows.py), then the README's tables from
# that one run's JSON (benchmarks/readme.py).
bench: $(VENV)/.installed
	$(BIN)/python benchmarks/rows.py --json benchmarks/results.json
	$(BIN)/python benchmarks/readme.py benchmarks/results.json README.md

clean:
	rm -rf $(VENV) .coverage .mypy_cache .pytest_cache .ruff_cache
