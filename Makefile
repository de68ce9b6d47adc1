# Two entry points for a fresh machine: `make demo` and `make test`. Both set everything up first.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint typecheck check screenshots bench soak clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)
	@bash scripts/ensure-chromium.sh $(PY)

# examples/orders.csv holds every outcome, some of which need a person: exit 1 is the expected end.
demo: setup
	$(VENV)/bin/ccw-agent bulk examples/orders.csv --mock --workers 2 \
		--report demo-report.csv --report demo-report.json || [ $$? -eq 1 ]
	@echo "demo: every outcome of examples/orders.csv is in demo-report.csv (exit 1 = rows that need a person)"

test: setup lint typecheck
	$(VENV)/bin/pytest -q -n auto --dist worksteal

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy

screenshots: setup
	$(PY) scripts/screenshots.py

bench: setup
	$(PY) scripts/bench.py --orders 16 --latency-orders 24
	$(PY) scripts/bench_memory.py

# One long run with faults on, stopped and resumed; writes its figures to docs/soak.md.
soak: setup
	$(PY) scripts/soak.py --orders 1000 --workers 4 --write-docs

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo-report.csv demo-report.json
