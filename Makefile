# `make up` sets everything up and runs the platform; `make test` runs every test.
VENV ?= .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)
# A notice printed at every start that says nothing about the platform: eventlet's
# about itself, where nameko imports it first (ws_gateway, through
# nameko.extensions). It is a warning of a class of its own, which
# ignore::DeprecationWarning does not match and a filter given here can only name by
# the module that imports eventlet; ems/cli.py (`ems run` too) filters it where it
# imports eventlet.
export PYTHONWARNINGS ?= ignore::Warning:nameko.extensions

.PHONY: setup setup-test up test lint format clean

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh --test

# SCALE runs more processes of a service: `make up SCALE=devices=3,users=2`.
up: setup
	$(BIN)/ems prepare
	$(BIN)/honcho start -f Procfile -e var/broker.env $(if $(SCALE),--concurrency "$(SCALE)")

test: setup-test
	npm --prefix web test --silent
	scripts/test.sh $(PYTEST_ARGS)

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	npm --prefix web run lint --silent

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var .pytest_cache
