# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

GATEWAY_PORT ?= 8000
LEGACY_PORT ?= 8001
FLIGHTS_PORT ?= 8002
export GATEWAY_PORT LEGACY_PORT FLIGHTS_PORT

.PHONY: help install run test lint typecheck pytest bench bench-deps system-deps schema clean

help:
	@echo "make run    start the monolith stub, the flights service and the gateway (Ctrl-C stops all)"
	@echo "make test   install everything tests need, then ruff, mypy --strict and pytest"
	@echo "make bench  run the benchmarks and rewrite docs/benchmarks.md"
	@echo "make package / make offline   serverless packaging and local emulation (docs/deploy.md)"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m gateway.devstack

# redis-server (Debian's package) for the cache tests: tests start their own on free ports.
system-deps:
	@command -v redis-server >/dev/null && command -v redis-cli >/dev/null || { \
	  echo "installing redis-server from Debian's packages"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq redis-server redis-tools >/dev/null; }

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy --strict gateway legacy_stub services tests bench

pytest: $(STAMP) system-deps node_modules
	$(VENV)/bin/pytest -q

test: lint typecheck pytest

# wrk (Debian's package) drives the load; redis-server serves the L2 scenarios.
bench-deps: system-deps
	@command -v wrk >/dev/null || { echo "installing wrk from Debian's packages"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk >/dev/null; }

bench: $(STAMP) bench-deps
	$(PY) -m bench

schema: $(STAMP)
	$(PY) -m gateway schema export

clean:
	rm -rf $(VENV) node_modules .serverless .mypy_cache .ruff_cache .pytest_cache

-include mk/serverless.mk
