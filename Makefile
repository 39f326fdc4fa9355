# The two commands a new user needs are `make demo` and `make test`; `make help` lists the rest.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
AS_OF  ?= 2026-11-23
DATA   ?= data/samples
REPORTS ?= reports
STAMP  := $(VENV)/.installed-stamp

.DEFAULT_GOAL := help
.PHONY: help install demo test test-slow test-all bench sample-data lab clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the package with its test dependencies

demo: install ## install, then run the weekly job on data/samples (report + .eml in reports/<as-of>/)
	$(BIN)/workbench weekly --data $(DATA) --as-of $(AS_OF) --reports $(REPORTS) --force

test: install ## install, then run the default test suite (slow suites excluded)
	$(BIN)/python -m pytest -m "not slow"

test-slow: install ## the opt-in slow suites (long backtests, larger data)
	$(BIN)/python -m pytest -m slow

test-all: install ## every test, slow ones included
	$(BIN)/python -m pytest

bench: install ## run the benchmarks in benchmarks/ and write benchmarks/results/
	$(BIN)/python benchmarks/run_all.py

sample-data: install ## regenerate the committed sample dataset in data/samples/
	$(BIN)/workbench sample-data --out $(DATA) --skus 40 --years 2 --seed 7 --no-truth

# As root JupyterLab needs --allow-root; executed reports are trusted first so their charts and tables draw.
LAB_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
lab: install ## open JupyterLab on the notebooks (executed reports in reports/ are trusted first)
	-find $(REPORTS) notebooks -name '*.ipynb' -not -path '*/.*' -exec $(BIN)/jupyter trust {} + >/dev/null 2>&1
	$(BIN)/jupyter lab $(LAB_ROOT) --ServerApp.root_dir=. $(LAB_ARGS)

clean: ## remove the virtual environment and caches (keeps reports/)
	rm -rf $(VENV) .pytest_cache benchmarks/.cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
