# Every target sets up .venv when needed: a fresh machine needs nothing else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint clean system-packages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python main.py run --demo

system-packages:
	@bash .ci/system-packages

# The PostgreSQL leg: the storage-heavy tests, the end-to-end journeys and the replicas' faults,
# again on a throwaway PostgreSQL cluster (the whole suite twice would pass 10 minutes).
PG_TESTS := $(addprefix tests/test_,$(addsuffix .py,\
	store_postgres smoke_store store_db store_bank tickets inbox_store staff_views \
	outbox_claims notices notices_telegram communications contracts invoices pending_action \
	mailbox_ledger mailbox_worker import_concurrency staff_accounts dialogs_registration \
	telegram_e2e webhook webhook_main webhook_parts requests_telegram bundles web_tickets \
	notices_in_flight outgoing_lost_connection replicas_leadership replicas_start replicas_faults))

test: system-packages $(STAMP)
	$(BIN)/python -m pytest -q
	AREACLIENTI_TEST_BACKEND=postgresql $(BIN)/python -m pytest -q $(PG_TESTS)

# Every benchmark runs, even after one misses its target; the missed ones are named at the end.
bench: $(STAMP)
	@missed=""; for b in bench/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || missed="$$missed $$b"; done; \
	if [ -n "$$missed" ]; then echo "targets missed:$$missed"; exit 1; fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
