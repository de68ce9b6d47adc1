# Two entry points for a fresh machine: `make demo` and `make test`. Both set everything up first.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint typecheck check screenshots bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)
	@bash scripts/ensure-chromium.sh $(PY)

demo: setup
	$(VENV)/bin/ccw-agent bulk examples/orders.csv --mock --workers 2 --report demo-report.csv

test: setup lint typecheck
	$(VENV)/bin/pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

screenshots: setup
	$(PY) scripts/screenshots.py

bench: setup
	$(PY) scripts/bench_bulk.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo-report.csv demo-report.json
