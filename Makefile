# Two commands (see README): `make run` sets up and runs the default workflow;
# `make test` sets up and runs the tests.  Setup is idempotent: the virtual
# environment is (re)built only when it is missing or pyproject.toml changed.
PYTHON3 ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= all

.PHONY: setup run test test-all lint report bench docs clean clean-cache

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON3) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[workflow,test]"
	touch $(STAMP)

run: setup
	$(BIN)/snakemake --cores $(CORES)

test: setup
	$(BIN)/python -m pytest

# Every test, the `extended` ones too (what they repeat: see their docstrings).
test-all: setup
	$(BIN)/python -m pytest -m ""

# ruff and mypy (configured in pyproject.toml) come with the lint extra, installed into
# .venv once, and again only when pyproject.toml changed.
LINT_STAMP := $(VENV)/.installed-lint

lint: $(LINT_STAMP)
	$(BIN)/snakemake --lint
	$(BIN)/snakemake -n --quiet
	$(BIN)/ruff check src workflow/scripts
	$(BIN)/mypy

$(LINT_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[lint]"
	touch $(LINT_STAMP)

report: setup
	$(BIN)/snakemake --report results/report.html

# The documentation (docs/): the docs extra (Sphinx, numpydoc) is installed into .venv
# once, and again only when pyproject.toml changed; warnings are errors.
DOCS_STAMP := $(VENV)/.installed-docs

docs: $(DOCS_STAMP)
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

$(DOCS_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	touch $(DOCS_STAMP)

bench: setup
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/dictionary.py --quick

clean:
	rm -rf results logs benchmarks .snakemake

clean-cache:
	find src -name __pycache__ -type d -prune -exec rm -rf {} +
