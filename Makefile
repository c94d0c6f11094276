PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

EXPORTER ?= otlp

.PHONY: test check lint types pytest docs dist demo quickstart bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

# Everything: tests, linters, docs, build tools (dependency groups need pip 25.1).
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q --upgrade "pip>=25.1"
	$(BIN)/python -m pip install -q -e . --group dev
	touch $@

# Only what the demo needs: the SDK, both exporters and the collector's protobuf, as
# extras, which the venv's own pip installs without an upgrade first.
$(VENV)/.demo-installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e ".[otlp,zipkin]"
	touch $@

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

types: $(VENV)/.installed
	$(BIN)/mypy

pytest: $(VENV)/.installed
	$(BIN)/python -m pytest --cov --cov-report=term $(PYTEST_ARGS)

# The documentation site (mkdocs.yml, docs/) into site/; --strict fails on any broken
# link or reference.
docs: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

test: lint types docs pytest

# The quick loop while working: lint, types and the tests not marked slow (no coverage gate).
check: lint types
	$(BIN)/python -m pytest -q -m "not slow" $(PYTEST_ARGS)

# An sdist and a wheel into dist/ (`pip install dist/tracelog_otel-*.whl`).
dist: $(VENV)/.installed
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

demo: $(VENV)/.demo-installed
	$(BIN)/python examples/demo/run.py --exporter $(EXPORTER)

quickstart: $(VENV)/.demo-installed
	$(BIN)/python examples/quickstart.py

# Every row of the performance table (benchmarks/rows.py), then the README's tables from
# that one run's JSON (benchmarks/readme.py).
bench: $(VENV)/.installed
	$(BIN)/python benchmarks/rows.py --json benchmarks/results.json
	$(BIN)/python benchmarks/readme.py benchmarks/results.json docs/performance.md

clean:
	rm -rf $(VENV) .coverage .mypy_cache .pytest_cache .ruff_cache site dist
