# The two commands of README.md:
#   make serve   set up a virtualenv and run the gateway on its embedded default
#   make test    set up everything the tests need and run lint, types and the suite
# and: make install (the virtualenv only), make peers (the test peers), make clean.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install serve test lint peers clean

$(BIN)/tokuden: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-deps: $(BIN)/tokuden
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/tokuden

serve: $(BIN)/tokuden
	$(BIN)/tokuden serve $(ARGS)

peers:
	sh tests/install-peers.sh

lint: $(VENV)/.test-deps
	$(BIN)/ruff check gateway policies tests
	$(BIN)/ruff format --check gateway policies tests
	$(BIN)/mypy

test: $(VENV)/.test-deps peers lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
