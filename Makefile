# Two commands (see README): `make run` sets up and runs the default workflow;
# `make test` sets up and runs the tests.  Setup is idempotent: the virtual
# environment is (re)built only when it is missing or pyproject.toml changed.
PYTHON3 ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= all

.PHONY: setup run test lint report bench clean clean-cache

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

lint: setup
	$(BIN)/snakemake --lint
	$(BIN)/snakemake -n --quiet

report: setup
	$(BIN)/snakemake --report results/report.html

bench: setup
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/dictionary.py --quick

clean:
	rm -rf results logs benchmarks .snakemake

clean-cache:
	find src -name __pycache__ -type d -prune -exec rm -rf {} +
