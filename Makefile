# Every target works as the first command on a fresh clone: it builds .venv when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lint format test run demo bench docs clean

# make run: a development server on 127.0.0.1:5000 with SQLite in instance/. The server
# keys' passphrase is generated into instance/ (owner-only): fine for a laptop, never for
# production, where EXCHANGE_KEY_PASSPHRASE comes from a secret store.
INSTANCE := $(CURDIR)/instance
DEV_ENV := EXCHANGE_INSTANCE_PATH=$(INSTANCE) EXCHANGE_KEY_PASSPHRASE_FILE=$(INSTANCE)/key-passphrase

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $@

install: $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/pytest

run: install
	@mkdir -p -m 700 $(INSTANCE)
	@test -s $(INSTANCE)/key-passphrase || (umask 077 && $(BIN)/python -c \
		"import secrets; print(secrets.token_urlsafe(32))" > $(INSTANCE)/key-passphrase)
	@printf 'export %s\n' $(DEV_ENV) > $(INSTANCE)/dev.env
	@$(DEV_ENV) $(BIN)/flask --app wsgi admin init
	$(DEV_ENV) $(BIN)/flask --app wsgi run --host 127.0.0.1 --port 5000

demo: install
	$(BIN)/python -m exchange.demo

bench: install
	$(BIN)/python -m bench

docs: install
	$(BIN)/python docs/protocol_example.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
