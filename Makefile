# Every target builds its own .venv first; nothing needs installing by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: screenshots web demo test test-soak lint lint-imports bench bench-web bench-delivery bench-value bench-linking bench-validation bench-text bench-backtest sample install clean

$(STAMP): pyproject.toml
	@echo "Building $(VENV): Prefect, Great Expectations, pandas, DuckDB, Splink, SQLAlchemy and the"
	@echo "test tools (about 2 minutes and 1 GB the first time; pip lists each package below)."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --progress-bar off -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Run the nightly job on the bundled sample company (SQLite, ephemeral Prefect) and print both queues.
demo: $(STAMP)
	mkdir -p .demo/prefect
	PREFECT_HOME=$(CURDIR)/.demo/prefect PATRONAGE_HOME=$(CURDIR)/.demo \
	  $(BIN)/patronage demo

## Serve the web page on the demo database (after make demo): http://127.0.0.1:8080
web: $(STAMP)
	PATRONAGE_HOME=$(CURDIR)/.demo $(BIN)/patronage web

## Screenshots of the web page for the README (docs/screenshots; needs /usr/bin/chromium).
screenshots: $(STAMP)
	$(BIN)/python docs/take_screenshots.py

## Run the test suite (unit, end-to-end, publishing on SQLite and PostgreSQL, deploy).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

## Thirty simulated nights with faults injected (SOAK_NIGHTS=… SOAK_CUSTOMERS=… to resize).
test-soak: $(STAMP)
	$(BIN)/python -m pytest -m soak -s -p no:cacheprovider tests/soak

## ruff, ruff format, and the import layers (import-linter, on the installed layout).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory lint-imports

# import-linter reads packages from disk: an editable install maps flows/, tasks/ and schemas/
# into `patronage` only at import time, so the check runs on a real install of the wheel.
lint-imports: $(STAMP)
	rm -rf .lint-build && mkdir .lint-build
	$(BIN)/pip install --quiet --no-deps --no-build-isolation --target .lint-build/site . \
	  > .lint-build/install.log 2>&1 || { cat .lint-build/install.log; exit 1; }
	cd .lint-build && PYTHONPATH=site ../$(BIN)/lint-imports --no-cache ../pyproject.toml

## Regenerate the bundled sample company.
sample: $(STAMP)
	$(BIN)/patronage sample --customers 600 --seed 7 --out patronage/sample_data/company --no-truth

## The web page on PostgreSQL: first pages of My work and Ideas (100k cases, 20k ideas), claims/s.
bench-web: $(STAMP)
	$(BIN)/python benchmarks/bench_web.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_nightly.py

## Value stage on 1M customers / ~20M orders, side by side with lifetimes (CUSTOMERS=… to resize).
bench-value: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/bench_value_model.py

## Linking throughput on 1M customers × 1M conversations (CUSTOMERS=…, CONVERSATIONS=…).
bench-linking: $(STAMP)
	$(BIN)/python benchmarks/bench_linking.py

## Validation cost for 1M orders, alone and as a share of a nightly run (ORDERS=… to resize).
bench-validation: $(STAMP)
	$(BIN)/python benchmarks/bench_validation.py

## The backtest on generated companies (CUSTOMERS=2000,20000 ROLLING=3 by default).
bench-backtest: $(STAMP)
	$(BIN)/python benchmarks/bench_backtest.py

## Text models on Banking77 (../shared/eval): churn precision/recall, grouping F1, speed, memory, size.
bench-text: $(STAMP)
	$(BIN)/pip install --quiet -e '.[baselines]'
	$(BIN)/python benchmarks/bench_text.py

## Delivery throughput: 10,000 messages to the local Zendesk fake, plain and with 10 % 429s.
bench-delivery: $(STAMP)
	$(BIN)/python benchmarks/bench_delivery.py

clean:
	rm -rf $(VENV) .demo .lint-build build
