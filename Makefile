# Two commands on a fresh machine (only python3, pip and make needed):
#   make demo   venv + package + kernel, demo exports, ingest, daily reports
#   make test   the whole test suite (creates the venv first if needed)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DATE ?= 2025-06-30

.PHONY: demo test lint format lab bench mutation clean venv screenshots

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name salesops --display-name "Python (salesops)" >/dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/salesops demo --out data/raw
	$(BIN)/salesops daily --date $(DEMO_DATE)
	@echo "reports: reports/$(DEMO_DATE)/daily-mis/report.html, reports/$(DEMO_DATE)/collections/report.html"

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

# PNG of the index and both reports of the newest date, for reviewing a change (needs the
# Debian package chromium; says so and does nothing without it)
screenshots: $(STAMP)
	$(BIN)/python -m salesops_analysis.reports.browser reports screenshots

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# Mutation testing of the money rules ([tool.mutmut] in pyproject.toml): slow (about half an
# hour for the 4,018 mutants on 2 cores), not part of `make test`. MUTANTS narrows the run,
# e.g. MUTANTS='salesops_analysis.metrics.kpis*'; results accumulate in mutants/, so modules
# can be run in turn, and survivors re-run by name after new tests. Survivors and the score
# go to docs/mutation.md; equivalent mutants are judged in benchmarks/mutation_verdicts.json.
# One OpenMP thread: a model trained in a test of a forked mutant run (scikit-learn) would
# otherwise wait forever on the thread pool of the process it was forked from.
MUTMUT_VERSION ?= 3.8.1
MUTANTS ?=
mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet 'mutmut==$(MUTMUT_VERSION)'
	OMP_NUM_THREADS=1 $(BIN)/mutmut run $(MUTANTS)
	$(BIN)/python benchmarks/mutation_report.py > docs/mutation.md
	@head -20 docs/mutation.md

clean:
	rm -rf mutants $(VENV) data/raw data/*.duckdb* reports/2* reports/index.html screenshots models .pytest_cache .ruff_cache
