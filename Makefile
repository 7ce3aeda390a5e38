# Two commands for a fresh machine with Python 3.11 and make:
#   make run   installs into .venv and runs the hub on embedded defaults (Temporal dev server + SQLite + worker + API)
#   make test  installs with test extras and runs lint and the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test install install-test lint clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	@touch $@ $(VENV)/.installed-run

install: $(VENV)/.installed-run
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/psa dev

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# Two processes by default (these machines have two cores; each process starts its own Temporal test server and
# databases); PYTEST_WORKERS=0 runs in one process. The slowest tests are listed: CI must stay under 15 minutes.
PYTEST_WORKERS ?= 2
test: lint
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal --durations=15

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# 10,000 tickets with live SLA timers on one worker and the dev server (~25 min), then the SOC alert storm (10,000
# signed webhooks), then the billing run (2,000 customers, 200,000 time entries, ~15 min); BENCH_ARGS=--quick for a
# smoke run of all. `make bench-soc`, `make bench-billing` and `make bench-qbr` (one QBR deck, then the
# quarterly run for 500 customers) run one alone.
.PHONY: bench bench-soc bench-billing bench-qbr
bench: install-test
	$(BIN)/python -m bench.sla_bench $(BENCH_ARGS)
	$(BIN)/python -m bench.soc_storm $(BENCH_ARGS)
	$(BIN)/python -m bench.billing_bench $(BENCH_ARGS)
	$(BIN)/python -m bench.qbr_bench
	$(BIN)/python -m bench.qbr_batch_bench $(BENCH_ARGS)

bench-soc: install-test
	$(BIN)/python -m bench.soc_storm $(BENCH_ARGS)

bench-billing: install-test
	$(BIN)/python -m bench.billing_bench $(BENCH_ARGS)

bench-qbr: install-test
	$(BIN)/python -m bench.qbr_bench
	$(BIN)/python -m bench.qbr_batch_bench $(BENCH_ARGS)

# The API fuzzer at length: schemathesis with PSA_FUZZ_EXAMPLES examples per operation (make test runs 20), on SQLite
# and on PostgreSQL when PSA_TEST_POSTGRES_URL is set; prints its figures per role and database.
PSA_FUZZ_EXAMPLES ?= 500
PSA_FUZZ_DATABASES ?= sqlite postgres
.PHONY: fuzz
fuzz: install-test
	PSA_FUZZ_EXAMPLES=$(PSA_FUZZ_EXAMPLES) PSA_FUZZ_DATABASES="$(PSA_FUZZ_DATABASES)" $(BIN)/pytest tests/fuzz
