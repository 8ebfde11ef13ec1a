# Keel build tooling. Everything runs inside a local virtualenv (.venv).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test
MAKEFLAGS += --no-print-directory

PYTHON_BOOTSTRAP := $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
PYTEST_ARGS ?=
LINT_PATHS := src tests bench

.PHONY: install demo test lint fmt bench docs clean

install: $(STAMP)

$(BIN)/python:
	@test -n "$(PYTHON_BOOTSTRAP)" || { echo "python3.11/python3 not found" >&2; exit 1; }
	$(PYTHON_BOOTSTRAP) -m venv $(VENV)

# Reinstall only when pyproject.toml changes (or on a fresh clone).
$(STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install --upgrade pip
	$(PIP) install -e '.[dev]'
	touch $@

demo: install
	$(BIN)/keel demo --serve

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: install
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

bench: install
	shopt -s nullglob; for f in bench/*.py; do echo "== $$f"; $(BIN)/python "$$f"; done

docs: install
	$(BIN)/keel docs lifecycle > docs/order-lifecycle.md.tmp
	mv docs/order-lifecycle.md.tmp docs/order-lifecycle.md

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis var dist build .coverage
	find . -path ./.git -prune -o \( -name __pycache__ -o -name '*.egg-info' \) -type d -print0 \
		| xargs -0 rm -rf
