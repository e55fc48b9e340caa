# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
# Python 3.12, as CI and Lambda run: the first of these that runs. Not just `command -v`: a
# pyenv shim for python3.12 exists on PATH even when pyenv's selected version is another,
# and then refuses to run. PYTHON=/path/to/python3.12 overrides.
# Looked up once (:=), not at each use.
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell for p in python3.12 $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12 \
  python3; do "$$p" -c '' 2>/dev/null && { command -v "$$p"; break; }; done)
endif
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The hashed locks `make lock` writes (docs/deploy.md, "Locked dependencies"): dev.txt for
# the venv (runtime + [dev], any platform), runtime.txt for the Lambda package.
LOCK_DEV := requirements/dev.txt
LOCK_RUNTIME := requirements/runtime.txt
LOCK_ARGS ?=
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

GATEWAY_PORT ?= 8000
LEGACY_PORT ?= 8001
FLIGHTS_PORT ?= 8002
export GATEWAY_PORT LEGACY_PORT FLIGHTS_PORT

.PHONY: help install lock run test lint typecheck pytest bench bench-deps system-deps schema clean

help:
	@echo "make run    start the monolith stub, the flights service and the gateway (Ctrl-C stops all)"
	@echo "make test   install everything tests need, then ruff, mypy --strict and pytest"
	@echo "make bench  run the benchmarks and rewrite docs/benchmarks.md"
	@echo "make package / make offline   serverless packaging and local emulation (docs/deploy.md)"
	@echo "make lock   re-resolve requirements/*.txt from pyproject.toml (LOCK_ARGS=--upgrade)"

# Checked before the venv is made: an older Python fails here, naming the version it needs.
PYTHON_TOO_OLD = echo "make: Python 3.12 is needed (3.11 at the least), as CI and Lambda run;\
 PYTHON=$(or $(PYTHON),<none found>) is $$($(or $(PYTHON),false) -V 2>/dev/null || echo not runnable).\
 Install python3.12, or: make PYTHON=/path/to/python3.12 ..." >&2; exit 1

# Exactly the locked versions, each checked against its sha256 (pip refuses anything
# unpinned or unhashed), then the project itself without resolving anything more.
$(STAMP): pyproject.toml $(LOCK_DEV)
	@$(or $(PYTHON),false) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	  || { $(PYTHON_TOO_OLD); }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r $(LOCK_DEV)
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# node_modules: the serverless tooling and GraphiQL's files (gateway/ide.py, for make run).
install: $(STAMP) node_modules

# uv, not pip-tools: it resolves for a platform and Python other than its own (the Lambda's
# manylinux x86_64 python3.12 from any dev machine) and writes a universal dev lock (markers
# for macOS, Windows, 3.11), with every file's hash from the index. Existing pins are kept
# unless LOCK_ARGS=--upgrade. dev.txt first (runtime + [dev]), then runtime.txt held to its
# pins, so Lambda gets what the tests ran against. A dev tool (in [dev]): CI never runs it;
# tests/test_lock.py checks its output against pyproject.toml.
lock: $(STAMP)
	$(VENV)/bin/uv pip compile pyproject.toml --quiet --generate-hashes $(LOCK_ARGS) \
	  --extra dev --universal --python-version 3.11 \
	  --custom-compile-command 'make lock' -o $(LOCK_DEV)
	$(VENV)/bin/uv pip compile pyproject.toml --quiet --generate-hashes $(LOCK_ARGS) \
	  --python-version 3.12 --python-platform x86_64-manylinux_2_34 -c $(LOCK_DEV) \
	  --custom-compile-command 'make lock' -o $(LOCK_RUNTIME)

run: $(STAMP) node_modules
	$(PY) -m gateway.devstack

# redis-server (Debian's package) for the cache tests: tests start their own on free ports;
# chromium for the GraphiQL test (tests/test_graphiql.py).
system-deps:
	@command -v redis-server >/dev/null && command -v redis-cli >/dev/null && command -v chromium >/dev/null || { \
	  echo "installing redis-server and chromium from Debian's packages"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq redis-server redis-tools chromium >/dev/null; }

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
