# Set-up, demo, tests, benchmarks. `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_DATA := data/simulated
PYTEST_WORKERS ?= 2

.PHONY: setup demo test test-all lint format bench setup-browser clean

setup: $(STAMP)

# Re-install only when the package metadata changes (editable install: code changes need nothing).
$(STAMP): setup.cfg pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e ".[dev,dask,notebooks]"
	@touch $(STAMP)

$(DEMO_DATA)/truth.json: | setup
	$(BIN)/biomarkers simulate --out $(DEMO_DATA) --seed 0 --quiet

demo: setup $(DEMO_DATA)/truth.json
	@run_dir=$$($(BIN)/biomarkers run configs/demo.yaml) && \
	  echo "" && echo "run folder: $$run_dir" && echo "report:     $$run_dir/report.html"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: setup lint
	$(BIN)/python -m pytest -m "not slow" -n $(PYTEST_WORKERS) -q tests biomarkers --doctest-modules

test-all: setup setup-browser lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q tests biomarkers --doctest-modules

bench: setup
	$(BIN)/python benchmarks/bench_pseudobulk.py --cells 100000
	$(BIN)/python benchmarks/bench_discover.py --quick

# Debian's Chromium + Playwright (driving it, no browser download) for the report's browser test.
setup-browser: setup
	command -v chromium >/dev/null || (apt-get update -q && apt-get install -y -q chromium)
	$(BIN)/python -m pip install --quiet -e ".[browser]"

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
