# gisdesk: `make run` serves the demo, `make test` runs every test, `make bench` measures.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench setup system venv assets db demo clean-db help

help:
	@echo "make run    set up and serve the demo on http://127.0.0.1:$${GISDESK_PORT:-5000}"
	@echo "make test   set up and run the whole test suite (browser tests included)"
	@echo "make bench  benchmarks against raw PostGIS/GDAL (writes bench/results.json)"

system:
	@bash .ci/install-system-packages

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip
	@$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

assets: venv
	@if [ -f package-lock.json ]; then \
	  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
	    npm ci --no-audit --no-fund --loglevel=error; fi; fi

setup: system venv assets

db: setup
	@$(BIN)/gisdesk db up
	@$(BIN)/gisdesk db migrate

demo: db
	@$(BIN)/gisdesk demo --if-empty

run: demo
	@$(BIN)/gisdesk serve --demo-banner

test: setup
	@$(BIN)/gisdesk db up
	@$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: db
	@$(BIN)/python -m gisdesk.bench

clean-db:
	@$(BIN)/gisdesk db down || true
	@rm -rf var
