# plantdata: every target sets itself up from nothing (a fresh machine needs only python3.11).
SHELL := /bin/bash
.DEFAULT_GOAL := help

export PLANTDATA_HOME ?= $(CURDIR)/.plantdata
ifneq (,$(findstring ://,$(PLANTDATA_HOME)))
# a data root on object storage holds no Dagster home: this machine's (plantdata run uses the same)
export DAGSTER_HOME ?= $(HOME)/.dagster-plantdata
else
export DAGSTER_HOME := $(PLANTDATA_HOME)/dagster
endif
export UV_PYTHON_DOWNLOADS := never
PYTHON ?= python3.11
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin
BENCH_ROWS ?= 10000000

.PHONY: help setup demo test lint typecheck pytest dagster labelstudio serve bench chaos clean

help:
	@echo "make demo     set up, generate the demo plant, ingest it end to end, print where to look"
	@echo "make test     set up, then ruff, mypy and the whole pytest suite"
	@echo "make dagster  the Dagster UI on http://127.0.0.1:3000 over the same data root"
	@echo "make serve    the web catalog on http://127.0.0.1:8000 (make demo prints a login per role)"
	@echo "make labelstudio  Label Studio on http://127.0.0.1:8080 (admin credentials written to .env on first use)"
	@echo "make bench    ingest, gate, whole pipeline, catalog search and PII benchmarks against raw baselines (BENCH_ROWS=$(BENCH_ROWS)),"
	@echo "             the ingest cost curve at 1M, 10M and 100M rows, and planning over 365 days x 6 sources"
	@echo "make chaos    20 trials of killing plantdata run with SIGKILL and running it again"

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# --compile-bytecode: where PYTHONDONTWRITEBYTECODE is set (CI images often do), nothing else ever writes the .pyc
# files, and every process compiles what it imports again (2.5 s of a `plantdata run` that has nothing to do).
$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	@touch $@

setup: $(VENV)/.synced
	@$(BIN)/python -c 'from pipelines.settings import prepare_home; prepare_home()'
	@$(BIN)/python -m quality.data_docs_assets

demo: setup
	$(BIN)/plantdata demo generate
	$(BIN)/plantdata run
	$(BIN)/plantdata sources status --summary
	$(BIN)/plantdata quality report --summary
	@echo
	$(BIN)/plantdata labelstudio env
	$(BIN)/plantdata annotate demo
	@for spec in demo_plant/datasets/*.yaml; do $(BIN)/plantdata dataset build "$$spec" || exit 1; done
	$(BIN)/plantdata catalog list
	$(BIN)/plantdata dataset list
	@echo
	$(BIN)/plantdata demo logins
	@echo
	@echo "Standardised Parquet:  $(PLANTDATA_HOME)/standardised/<source>/day=YYYY-MM-DD/"
	@echo "Gated Parquet:         $(PLANTDATA_HOME)/gated/<source>/day=YYYY-MM-DD/  (passed the quality gate; working layer, raw values)"
	@echo "Quarantined rows:      $(PLANTDATA_HOME)/quarantine/<source>/...  (file, line, rule, raw text)"
	@echo "Quality scores:        $(BIN)/plantdata quality report [--source S] [--json]"
	@echo "GX Data Docs:          $(PLANTDATA_HOME)/gx/uncommitted/data_docs/local_site/index.html  (works offline)"
	@echo "Expectation suites:    $(PLANTDATA_HOME)/gx/expectations/<source>/{rows,flags,facts}.json; $(BIN)/plantdata quality suites"
	@echo "Per-partition counts:  $(BIN)/plantdata sources status --json"
	@echo "Released datasets:     $(PLANTDATA_HOME)/releases/<dataset>/v<n>/  (personal data pseudonymised)"
	@echo "Catalog:               $(BIN)/plantdata catalog list|show NAME|search TEXT [--json]"
	@echo "Task datasets:         $(PLANTDATA_HOME)/datasets/<name>/v<n>/  (Parquet per split, manifest, datasheet, Croissant); $(BIN)/plantdata dataset list|show NAME|diff NAME V1 V2 [--json]"
	@echo "Catalog SQL:           $(BIN)/plantdata catalog sql \"SELECT table_name, comment FROM duckdb_tables()\""
	@echo "Web catalog:           make serve, then http://127.0.0.1:8000 (logins above; API: /api/openapi.json)"
	@echo "Dagster UI:            make dagster, then http://127.0.0.1:3000"
	@echo "Label Studio:          make labelstudio, then http://127.0.0.1:8080 (admin e-mail and password in .env)"
	@echo "Expert labels:         $(PLANTDATA_HOME)/releases/labels_<project>/v<n>/labels.parquet; plantdata catalog show labels_<project>"
	@echo "Annotation progress:   $(BIN)/plantdata annotate status [--json]; plantdata catalog show historian"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/plantdata labelstudio install
	.ci/install-chromium
	.ci/install-servers
	$(BIN)/pytest -q

test: lint typecheck pytest

# The web catalog over the same data root; the first time, set PLANTDATA_ADMIN_EMAIL and PLANTDATA_ADMIN_PASSWORD
# (or run make demo, which gives the demo's people passwords). Ctrl-C stops it.
serve: setup
	$(BIN)/plantdata serve --host 127.0.0.1 --port 8000

# Signals reset to default first: started in the background from a script, dagster dev would ignore SIGTERM.
dagster: setup
	$(BIN)/python -c 'import os, signal, sys; [signal.signal(s, signal.SIG_DFL) for s in (signal.SIGINT, signal.SIGTERM)]; os.execv(sys.argv[1], sys.argv[1:])' \
		$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

# Credentials in an untracked .env (fresh random ones the first time); Label Studio in its own venv; Ctrl-C stops it.
labelstudio: setup
	$(BIN)/plantdata labelstudio env
	$(BIN)/plantdata labelstudio install
	$(BIN)/plantdata labelstudio start

bench: setup
	$(BIN)/plantdata bench ingest --rows $(BENCH_ROWS) --json
	$(BIN)/plantdata bench gate --rows $(BENCH_ROWS) --json
	$(BIN)/plantdata bench pipeline --rows $(BENCH_ROWS) --json
	$(BIN)/plantdata bench catalog --datasets 10000 --json
	$(BIN)/plantdata bench pii --texts 20000 --json
	$(BIN)/plantdata bench annotate --tasks 10000 --json
	$(BIN)/plantdata bench serve --datasets 10000 --json
	$(BIN)/plantdata bench rerun --days 2,30 --json
	$(BIN)/plantdata bench curve --sizes 1000000,10000000,100000000
	$(BIN)/plantdata bench planning --days 365 --sources 6
	$(BIN)/plantdata bench storage --rows 1000000

chaos: setup
	$(BIN)/plantdata bench chaos --trials 20

clean:
	rm -rf .plantdata .venv .tools .label-studio .mypy_cache .ruff_cache .pytest_cache quality/data_docs_vendor
