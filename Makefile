# Every target works as the first command on a fresh clone: it builds .venv when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install interop lint format messages test test-sqlite test-postgresql run serve dev-instance demo bench fuzz docs clean

# make run: a development server on 127.0.0.1:5000 with SQLite in instance/. The server
# keys' passphrase is generated into instance/ (owner-only): fine for a laptop, never for
# production, where EXCHANGE_KEY_PASSPHRASE comes from a secret store.
INSTANCE := $(CURDIR)/instance
# `make run PORT=5001`, `make serve PORT=8001`: the port, and the URL that invitations print.
RUN_PORT = $(or $(PORT),5000)
SERVE_PORT = $(or $(PORT),8000)
PUBLIC_URL ?= http://127.0.0.1:5000
run: PUBLIC_URL = http://127.0.0.1:$(RUN_PORT)
serve: PUBLIC_URL = http://127.0.0.1:$(SERVE_PORT)
DEV_ENV = EXCHANGE_INSTANCE_PATH=$(INSTANCE) EXCHANGE_KEY_PASSPHRASE_FILE=$(INSTANCE)/key-passphrase EXCHANGE_PUBLIC_URL=$(PUBLIC_URL)

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $@

install: $(STAMP)

# An independent C2SP tlog-witness (aics-witness from PyPI) for the interop test
# (tests/exchange/witness/test_interop_aics.py). It needs Python >= 3.12 and the project
# runs on 3.11, so it gets a venv of its own; the test fails in CI where it is missing.
INTEROP := .venv-interop
INTEROP_PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3 /usr/bin/python3.1[2-9] /usr/local/bin/python3.1[2-9]))
$(INTEROP)/.installed:
	@if [ -z "$(INTEROP_PYTHON)" ]; then echo "no Python >= 3.12: skipping $(INTEROP)"; exit 0; fi; \
	$(INTEROP_PYTHON) -m venv $(INTEROP) && \
	$(INTEROP)/bin/python -m pip install --quiet aics-witness==0.1.0 && touch $@

interop: $(INTEROP)/.installed

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# make messages: re-extract the words of the HTML report and of `hotline report compliance`
# (babel.cfg) into exchange/reports/locales/messages.pot, and merge them into each
# language's messages.po, where new ones wait for their translation (tests/exchange/
# reports/test_i18n.py fails until every Korean msgstr is filled in and not fuzzy). The
# .po files are compiled in memory when a report is written: no .mo file to build or keep.
LOCALES_DIR := exchange/reports/locales
messages: install
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --omit-header -o $(LOCALES_DIR)/messages.pot .
	$(BIN)/pybabel update -i $(LOCALES_DIR)/messages.pot -d $(LOCALES_DIR) --no-fuzzy-matching --ignore-obsolete --no-wrap

# The whole suite on SQLite, then on PostgreSQL (127.0.0.1:5432, or
# HOTLINE_TEST_POSTGRES_URL) every test that can reach it (tests/conftest.py), each test
# on a database of its own. Where PostgreSQL is not there, its run skips with the
# reason; with CI=true it fails instead.
# Each test module on one worker: a module's live server (LiveServer, the adversary's
# stage) is then started once, not once per worker that happens to get one of its tests.
PYTEST_OPTIONS ?= -n auto --dist loadscope
test: lint test-sqlite test-postgresql

# The SQLite run also measures branch coverage and fails under the gate in pyproject.toml.
test-sqlite: install interop
	HOTLINE_TEST_DB=sqlite $(BIN)/pytest $(PYTEST_OPTIONS) --cov --cov-report=term

test-postgresql: install interop
	HOTLINE_TEST_DB=postgresql $(BIN)/pytest $(PYTEST_OPTIONS)

# The instance folder and its generated passphrase, shared by `make run` and `make serve`.
dev-instance: install
	@mkdir -p -m 700 $(INSTANCE)
	@test -s $(INSTANCE)/key-passphrase || (umask 077 && $(BIN)/python -c \
		"import secrets; print(secrets.token_urlsafe(32))" > $(INSTANCE)/key-passphrase)
	@printf 'export %s\n' $(DEV_ENV) > $(INSTANCE)/dev.env
	@$(DEV_ENV) $(BIN)/flask --app wsgi admin init

run: dev-instance
	$(DEV_ENV) $(BIN)/flask --app wsgi run --host 127.0.0.1 --port $(RUN_PORT)

# make serve: the production setup on this machine: gunicorn (gunicorn.conf.py) with
# several workers on 127.0.0.1:8000, on SQLite in instance/ or on the database that
# EXCHANGE_DATABASE_URL names (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/hotline).
# Rate limits are per process unless EXCHANGE_REDIS_URL is set (redis://127.0.0.1:6379/0).
GUNICORN_WORKERS ?= 4
# Beside it, one notification worker (webhooks, e-mail, the deadline scheduler), stopped
# with the server.
serve: dev-instance
	$(DEV_ENV) $(BIN)/flask --app wsgi worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(DEV_ENV) GUNICORN_BIND=127.0.0.1:$(SERVE_PORT) GUNICORN_WORKERS=$(GUNICORN_WORKERS) $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

demo: install
	$(BIN)/python -m exchange.ops.demo

# The api suite's load generator is wrk (Debian's package) where it can be installed;
# without it, bench.load's Python client processes, which saturate before the server does.
bench: install
	@command -v wrk >/dev/null || (apt-get update -q && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q wrk) || echo "wrk is not installed: Python clients generate the load"
	$(BIN)/python -m bench

# make fuzz: schemathesis against a live server process, every operation for every role
# and without a token, FUZZ_EXAMPLES per operation and mode (the suite runs a bounded
# version in-process: tests/security/test_fuzz_api.py). FUZZ_SEED replays a run.
FUZZ_EXAMPLES ?= 200
fuzz: install
	$(BIN)/python -m tests.security.live_fuzz --examples $(FUZZ_EXAMPLES) $(if $(FUZZ_SEED),--seed $(FUZZ_SEED))

docs: install
	$(BIN)/python docs/protocol_example.py

clean:
	rm -rf $(VENV) $(INTEROP) build *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
