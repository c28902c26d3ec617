# Yanxiu — two commands: `make run` starts the whole platform, `make test` runs the tests.
# Both install what they need first (uv into .tools/, the locked environment into .venv/).

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
SYNCED := $(VENV)/.synced-$(shell cat uv.lock pyproject.toml */pyproject.toml services/*/pyproject.toml 2>/dev/null | cksum | cut -d' ' -f1)

.PHONY: run test lint fmt bench install web browser clean help

# The admins' dashboard (web/dashboard, served by the gateway at /dashboard/): `npm ci` when its
# lock changes, `npm run build` when its sources do; dist/index.html is the build's stamp.
WEB := web/dashboard
WEB_SOURCES := $(WEB)/package.json $(WEB)/index.html $(WEB)/vite.config.ts $(WEB)/tsconfig.json \
	$(shell find $(WEB)/src -type f 2>/dev/null)
NPM := npm --prefix $(WEB) --no-audit --no-fund
# Headless Chromium for tests/browser, from Debian (Playwright's own browser download is not
# reachable from CI).
CHROMIUM := /usr/bin/chromium
# A small CJK font, so that the screenshots show the Chinese interface, not empty boxes.
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
BROWSER_PACKAGES := chromium fonts-wqy-microhei

help:
	@echo "make run    install and start the whole platform (gateway on http://127.0.0.1:8000)"
	@echo "make test   install and run the test suite (real PostgreSQL and Kafka-protocol broker)"
	@echo "make lint   ruff and mypy"
	@echo "make bench  run the benchmarks under bench/"
	@echo "make web    build the admins' dashboard (web/dashboard/dist, served at /dashboard/)"

$(UV):
	@echo "== installing uv $(UV_VERSION) into .tools/"
	@$(PYTHON) -m venv .tools
	@.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(SYNCED): $(UV)
	@echo "== installing the locked Python environment into .venv/"
	@$(UV) sync --frozen --all-packages --python 3.11
	@rm -f $(VENV)/.synced-*; touch $@

install: $(SYNCED)

$(WEB)/node_modules/.installed: $(WEB)/package-lock.json
	@echo "== installing the dashboard's locked npm packages into $(WEB)/node_modules/"
	@$(NPM) ci
	@touch $@

$(WEB)/dist/index.html: $(WEB)/node_modules/.installed $(WEB_SOURCES)
	@echo "== building the dashboard into $(WEB)/dist/"
	@$(NPM) run build
	@touch $@

web: $(WEB)/dist/index.html

browser:
	@if [ ! -x $(CHROMIUM) ] || [ ! -f $(CJK_FONT) ]; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "$(CHROMIUM) or $(CJK_FONT) is missing: apt-get install $(BROWSER_PACKAGES)" >&2; \
			[ -x $(CHROMIUM) ]; exit; \
		fi; \
		echo "== installing Chromium and a Chinese font from Debian for tests/browser"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -qq --no-install-recommends $(BROWSER_PACKAGES) >/dev/null 2>&1 \
			|| { apt-get update -qq \
				&& apt-get install -y -qq --no-install-recommends $(BROWSER_PACKAGES) >/dev/null; }; \
	fi

# `yanxiu run` supervises its children and ends with its parent (this make), however it ends.
run: install web
	@$(VENV)/bin/yanxiu run

test: install web browser
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
	@$(VENV)/bin/python -m bench.insights_dashboard --teachers 1000000

clean:
	rm -rf .venv .tools $(WEB)/node_modules $(WEB)/dist
