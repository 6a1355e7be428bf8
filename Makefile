# LINK Pilot Monitor: `make run` starts the app on its default store with the demo data,
# `make test` runs every test. Both set up the virtual environment first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8501

.PHONY: run test lint bench fuzz setup setup-test clean

$(VENV)/.run-deps: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-deps: $(VENV)/.run-deps requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.run-deps

setup-test: $(VENV)/.test-deps

run: setup
	$(PY) -m linkdash demo --if-empty --as-admin
	$(VENV)/bin/streamlit run app.py --server.address $(HOST) --server.port $(PORT)

test: setup-test
	$(PY) -m pytest

lint: setup-test   # style and import order (ruff, every .py file) and types (mypy, linkdash/); pyproject.toml
	$(VENV)/bin/ruff check .
	$(PY) -m mypy

fuzz: setup-test   # a long fuzzing run of the whole check (a short one is part of `make test`)
	LINKDASH_FUZZ_EXAMPLES=$${LINKDASH_FUZZ_EXAMPLES:-5000} $(PY) -m pytest -q tests/test_fuzz.py

bench: setup-test   # one table at 13, 100 and 1,000 generated pilots; BENCH_ARGS=--quick for a few minutes
	$(PY) benchmarks/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tests/artifacts benchmarks/out
