# Two commands on a fresh Debian machine:
#   make run    set everything up and start the kiosk
#   make test   set everything up and run the whole suite (lint, types, layers, tests)
# and the edit loop:
#   make check  lint, types, layers and the domain, storage and visit-service tests (no GUI walks)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test check system-deps-run system-deps-test demo screenshots bench clean

run: system-deps-run $(STAMP)
	$(BIN)/kiosk run $(KIOSK_ARGS)

test: system-deps-test $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	KIOSK_TEST_DATABASE_URL="$$(PYTHON=$(PYTHON) tools/test-postgres.sh)" $(BIN)/pytest

# The fast lane for the edit loop (about two minutes on two cores): everything `make test` checks statically, and
# the tests that need no window. CI runs `make test`, never this alone.
CHECK_TESTS := tests/domain tests/storage tests/app/test_service.py tests/test_shipped_forms.py \
	tests/test_import_contracts.py
check: system-deps-test $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	KIOSK_TEST_DATABASE_URL="$$(PYTHON=$(PYTHON) tools/test-postgres.sh)" \
		$(BIN)/pytest -q -m "not slow" $(CHECK_TESTS)

demo: system-deps-test $(STAMP)
	$(BIN)/kiosk demo --out out/demo

# Every kind of screen, English and Spanish, landscape and portrait, 200% text, high contrast,
# keyboard open: under a virtual X server with real fonts, into docs/screens/gallery.
screenshots: $(STAMP)
	@PYTHON=$(PYTHON) tools/system-deps.sh screenshots
	xvfb-run -a -s "-screen 0 1300x1300x24" env QT_QPA_PLATFORM=xcb $(BIN)/kiosk screenshots

# Speed and memory against bare baselines measured in the same run; writes BENCHMARKS.md.
# A few minutes; BENCH_ARGS=--quick skips the 1M-visit search.
bench: system-deps-test $(STAMP)
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

system-deps-run:
	@PYTHON=$(PYTHON) tools/system-deps.sh run

system-deps-test:
	@PYTHON=$(PYTHON) tools/system-deps.sh test

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache out
