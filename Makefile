# 電子申請サービス: build, run and test.
#
#   make run      install, prepare the embedded (SQLite) site and serve it on 127.0.0.1:8000
#   make test     set up everything the tests need, lint, then the whole test suite
#   make install  the virtualenv in .venv (skipped while .venv/.installed is newer than pyproject.toml)
#   make bench    benchmarks
#   make lint / make fmt

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BOOT_PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
# Tests run against PostgreSQL (pytest-django makes test_denshi_test) unless DATABASE_URL is set.
TEST_DATABASE_URL := $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/denshi_test)
PYTEST_ARGS ?=

.PHONY: help install run test bench lint fmt messages messages-update clean

help:
	@sed -n '3,8p' Makefile | sed 's/^# \{0,1\}//'

install: $(STAMP)
	@:

$(STAMP): pyproject.toml
	@test -n "$(BOOT_PYTHON)" || { echo "install: no python3.11 or python3 on PATH" >&2; exit 1; }
	@if [ ! -x $(PY) ]; then \
		echo "install: creating $(VENV) with $(BOOT_PYTHON) ($$($(BOOT_PYTHON) --version 2>&1))"; \
		rm -rf $(VENV); \
		if ! $(BOOT_PYTHON) -m venv $(VENV); then \
			echo "install: venv failed; Debian's Python needs python3-venv" >&2; \
			rm -rf $(VENV); \
			scripts/apt-ensure.sh python3-venv; \
			$(BOOT_PYTHON) -m venv $(VENV); \
		fi; \
	fi
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)
	@echo "install: done ($$($(PY) --version))"

# Links in mails (resume, sign-in, status) point at the server make run starts.
run: export SITE_URL ?= http://$(HOST):$(PORT)
# The tree the README documents: PROCEDURES_DIR from the environment (or `make run
# PROCEDURES_DIR=...`), else the shipped one; exported so the server's check reads the same.
run: export PROCEDURES_DIR ?= procedures
run: install
	scripts/apt-ensure.sh gettext libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk
	mkdir -p "$${VAR_DIR:-var}"
	$(MANAGE) migrate --noinput
	$(MAKE) --no-print-directory messages
	$(MANAGE) load_procedures '$(PROCEDURES_DIR)'
	$(MANAGE) ensure_demo_admin
	$(MANAGE) ensure_demo_staff
	$(MANAGE) collectstatic --noinput --verbosity 0
	$(MANAGE) runserver $(HOST):$(PORT)

test:
	scripts/test-setup.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-logo
	$(VENV)/bin/mypy
	DATABASE_URL='$(TEST_DATABASE_URL)' $(MANAGE) makemigrations --check --dry-run
	DATABASE_URL='$(TEST_DATABASE_URL)' $(VENV)/bin/pytest $(PYTEST_ARGS)

# Every benchmark runs and prints its figures even when an earlier one misses its target
# (exit 3) or is not valid (exit 1); make bench then exits 1 if any was not valid, else 3
# if any missed its target, else 0.
BENCHES := run start_page procedure_load burst page_weight normalize uploads inbox delivery_rate csv_export pdf_receipt

bench:
	scripts/bench-setup.sh
	@worst=0; for b in $(BENCHES); do \
		echo "== benchmarks/$$b.py"; \
		rc=0; $(PY) benchmarks/$$b.py || rc=$$?; \
		if [ $$rc -ne 0 ] && { [ $$worst -eq 0 ] || [ $$rc -eq 1 ]; }; then worst=$$rc; fi; \
	done; exit $$worst

# gettext catalogues -> .mo. compilemessages walks the whole tree, so keep it out of the venv
# and node_modules; with no .po file anywhere there is nothing to do (and Django would error).
## Refresh locale/*/django.po from the source, compile, and check every Japanese entry is done.
messages-update: install
	command -v msgfmt >/dev/null || scripts/apt-ensure.sh gettext
	$(MANAGE) makemessages -l ja -l en --no-location --no-obsolete \
		--ignore='.venv/*' --ignore='node_modules/*' --ignore='var/*' \
		--ignore='tests/*' --ignore='benchmarks/*'
	$(MANAGE) compilemessages --ignore=.venv --ignore=node_modules --ignore=var --ignore=.git
	$(VENV)/bin/pytest tests/test_i18n.py -q

messages: install
	@if find . \( -path ./.venv -o -path ./node_modules -o -path ./.git -o -path ./var \) -prune \
		-o -name '*.po' -print | grep -q .; then \
		command -v msgfmt >/dev/null || scripts/apt-ensure.sh gettext; \
		echo "$(MANAGE) compilemessages"; \
		$(MANAGE) compilemessages --ignore=.venv --ignore=node_modules --ignore=var --ignore=.git; \
	else \
		echo "messages: no .po files"; \
	fi

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf var/staticfiles .pytest_cache .ruff_cache
