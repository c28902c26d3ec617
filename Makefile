# Yanxiu — two commands: `make run` starts the whole platform, `make test` runs the tests.
# Both install what they need first (uv into .tools/, the locked environment into .venv/).

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
SYNCED := $(VENV)/.synced-$(shell cat uv.lock pyproject.toml */pyproject.toml services/*/pyproject.toml 2>/dev/null | cksum | cut -d' ' -f1)

.PHONY: run test lint fmt bench install clean help

help:
	@echo "make run    install and start the whole platform (gateway on http://127.0.0.1:8000)"
	@echo "make test   install and run the test suite (real PostgreSQL and Kafka-protocol broker)"
	@echo "make lint   ruff and mypy"
	@echo "make bench  run the benchmarks under bench/"

$(UV):
	@echo "== installing uv $(UV_VERSION) into .tools/"
	@$(PYTHON) -m venv .tools
	@.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(SYNCED): $(UV)
	@echo "== installing the locked Python environment into .venv/"
	@$(UV) sync --frozen --all-packages --python 3.11
	@rm -f $(VENV)/.synced-*; touch $@

install: $(SYNCED)

# `yanxiu run` supervises its children and ends with its parent (this make), however it ends.
run: install
	@$(VENV)/bin/yanxiu run

test: install
	@$(VENV)/bin/pytest -q

lint: install
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy

fmt: install
	@$(VENV)/bin/ruff format .
	@$(VENV)/bin/ruff check --fix .

bench: install
	@$(VENV)/bin/python -m bench.propagation
	@$(VENV)/bin/python -m bench.enrollment_import --rows 100000
	@$(VENV)/bin/python -m bench.enrollment_pages --teachers 1000000
	@$(VENV)/bin/python -m bench.learning_heartbeats
	@$(VENV)/bin/python -m bench.heartbeat_log_pruning
	@$(VENV)/bin/python -m bench.credits_ledger --entries 1000000
	@$(VENV)/bin/python -m bench.lessons_allocation --teachers 1000000 --lessons 30000 --rounds 3
	@$(VENV)/bin/python -m bench.api_paths --teachers 10000
	@$(VENV)/bin/python -m bench.deadline_day --teachers 10000

clean:
	rm -rf .venv .tools
