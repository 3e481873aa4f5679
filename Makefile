# dsgen's own tasks. `make demo` sets up dsgen and runs a generated demo app;
# `make test` runs the whole test suite (unit, golden, database and end-to-end).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.dsgen-installed
DEMO ?= .cache/demo

.PHONY: demo test test-e2e test-fast lint browser snapshots clean zoo zoo-regress fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "==> installing dsgen into $(VENV) (first run only)"
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Generate the starter app (or re-render it: your edits are kept) and run it.
demo: $(STAMP)
	@echo "==> generating the demo app in $(DEMO)"
	$(BIN)/dsgen new demo --dir $(DEMO) --yes
	@echo "==> starting it: make -C $(DEMO) dev (the first run installs its dependencies)"
	$(MAKE) -C $(DEMO) dev

# Debian's Chromium for the generated apps' browser tests (installed when missing and root).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else echo "install chromium (sudo apt-get install -y chromium)"; exit 1; fi; }

test: $(STAMP) browser
	$(BIN)/ruff check dsgen tests blueprints/*/pattern.py
	$(BIN)/pytest --durations=30

# Only the end-to-end tier: generate each example, install it, run its own suite.
test-e2e: $(STAMP) browser
	$(BIN)/pytest -m e2e

# Everything but the end-to-end tier (seconds, no browser).
test-fast: $(STAMP)
	$(BIN)/pytest -m "not e2e"

# The spec zoo: N random valid specs from SEED, each generated into a project that runs its
# own lint and API tests (browser tests for the first BROWSER); failures are saved, shrunk,
# under tests/zoo/regressions/. Replay one: make zoo SEED=S ONLY=I BROWSER=1.
SEED ?= 1
N ?= 20
BROWSER ?= 0
JOBS ?= 1
zoo: $(STAMP) browser
	$(BIN)/python -m tests.zoo run --seed $(SEED) --n $(N) --browser $(BROWSER) --jobs $(JOBS) $(if $(ONLY),--only $(ONLY))

zoo-regress: $(STAMP) browser
	$(BIN)/python -m tests.zoo regress

lint: $(STAMP)
	$(BIN)/ruff check dsgen tests blueprints/*/pattern.py

# The fuzz tier's big run: N hostile or mutated specs (default 10000; the normal test run
# takes a small seeded sample). Replay a run with the SEED it printed: make fuzz N=… SEED=….
given = $(if $(filter command line environment,$(origin $(1))),$($(1)),$(2))
fuzz: $(STAMP)
	DSGEN_FUZZ_N=$(call given,N,10000) DSGEN_FUZZ_SEED=$(call given,SEED,20261207) \
	  $(BIN)/pytest -m fuzz -q -s -p no:cacheprovider tests/test_fuzz.py

snapshots: $(STAMP)
	$(BIN)/pytest tests/test_golden.py tests/test_lifecycle.py tests/test_migrate.py -m "not e2e" \
	  --snapshot-update

clean:
	rm -rf $(VENV) .cache .pytest_cache .ruff_cache
