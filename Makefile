# Two commands do everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test test-sqlite test-postgres lint install assets chromium worker clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed
assets: node_modules/.installed

# Debian's Chromium drives the browser tests (Playwright's own browser download is not used).
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

run: install assets
	mkdir -p var
	$(PY) -m coprod.devserver

worker: install
	$(PY) -m coprod worker

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# One test process per core (at most four): each has its own database, mail server and
# browser, and a file's tests stay together so its servers start once.
PYTEST := $(PY) -m pytest -q -n auto --maxprocesses=4 --dist loadfile

test-sqlite: install assets chromium
	COPROD_TEST_DB=sqlite $(PYTEST)

test-postgres: install assets chromium
	COPROD_TEST_DB=postgres $(PYTEST)

test: lint test-sqlite test-postgres

clean:
	rm -rf $(VENV) node_modules var .pytest_cache .mypy_cache .ruff_cache
