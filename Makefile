# Two commands on a fresh machine (Python 3.11+ and pip): `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: run test lint test-fast bench-store bench-scoring bench-serving sample clean

$(BIN)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit("churn needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	@# uv installs the pinned set in about 20 s where pip takes 1-2 minutes; pip does it where uv cannot be had.
	@# Both compile the bytecode at install: with PYTHONDONTWRITEBYTECODE set (as on CI) nothing else writes
	@# it, and every process would compile MLflow, scikit-learn and pandas again (10 s of CPU a process).
	{ $(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9 && \
	  $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.txt; } || \
	  $(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

## Set up and serve the API on the embedded default store (http://127.0.0.1:8000/docs)
run: $(BIN)/.installed
	$(BIN)/python main.py serve

## Set up and run ruff and the architecture checks, then the whole test suite (two workers: pytest-xdist) with mypy beside it
test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	@# the suite starts about forty processes: the project's own bytecode is compiled once, not in each
	$(BIN)/python -m compileall -q -j 0 main.py churn adapters entrypoints tests bench
	@# mypy (half a minute of CPU on a cold cache) runs beside the tests, which wait on servers much of the time
	$(BIN)/mypy & types=$$!; $(BIN)/python -m pytest -q -n 2 --dist loadfile; tests=$$?; wait $$types; checked=$$?; \
	test $$tests -eq 0 -a $$checked -eq 0

## ruff (rules and line length in pyproject.toml) and mypy (strict on churn/)
lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy

## Unit tests only (seconds)
test-fast: $(BIN)/.installed
	$(BIN)/python -m pytest -q tests/unit

bench-store: $(BIN)/.installed
	$(BIN)/python bench/store.py

bench-scoring: $(BIN)/.installed
	$(BIN)/python bench/scoring.py

bench-serving: $(BIN)/.installed
	$(BIN)/python bench/serving.py

## Regenerate data/sample_customers.csv
sample:
	$(PYTHON) data/make_sample.py

clean:
	rm -rf $(VENV) var .pytest_cache
