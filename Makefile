# The two commands of README.md:
#   make serve   set up a virtualenv and run the gateway on its embedded default
#   make test    set up everything the tests need and run lint, types and the suite
# and: make install (the virtualenv only), make peers (the test peers),
#      make display-report (display rules against the labelled set),
#      make bench-store (the consent store's speed), make bench-sign (DKIM signing's),
#      make bench-data (receiving DATA: stock aiosmtpd vs the chunked reader),
#      make profile (where a message's time goes in Gateway.deliver), make clean.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install serve test lint peers display-report bench-store bench-sign bench-data profile clean

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
	sh tests/start-postgres.sh

lint: $(VENV)/.test-deps
	$(BIN)/ruff check gateway policies tests scripts benchmarks
	$(BIN)/ruff format --check gateway policies tests scripts benchmarks
	$(BIN)/mypy

test: $(VENV)/.test-deps peers lint
	$(BIN)/pytest

# Per-rule precision and recall of the display policy on tests/data/display/.
display-report: $(BIN)/tokuden
	$(BIN)/python scripts/display_report.py $(ARGS)

# The consent store with 1,000,000 records on SQLite and PostgreSQL (benchmarks/README.md).
bench-store: $(BIN)/tokuden peers
	$(BIN)/python benchmarks/store_bench.py $(ARGS)

# DKIM signatures per second per core, and signing's share of the gateway's time.
bench-sign: $(BIN)/tokuden peers
	$(BIN)/python benchmarks/sign_bench.py $(ARGS)

# Messages/s and CPU per message receiving 5 KB and 50 KB: stock aiosmtpd vs gateway.datareader.
bench-data: $(BIN)/tokuden
	$(BIN)/python benchmarks/data_bench.py $(ARGS)

# Gateway.deliver over tokuden bench's mix under pyinstrument (ARGS="--stages": CPU per step).
profile: $(BIN)/tokuden
	$(BIN)/pip install --quiet -e '.[profile]'
	$(BIN)/python benchmarks/profile_path.py $(ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
