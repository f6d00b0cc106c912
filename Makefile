# The two entry points of the README. Both bootstrap the virtualenv on first use.
PY ?= $(shell command -v python3.11 || command -v python3)
BIN := .venv/bin
ARGS ?=

.PHONY: verify test

$(BIN)/pytest: pyproject.toml
	$(PY) -m venv .venv
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

## Main job: verify infra/ (static + live on the embedded local stack), write reports/.
verify: $(BIN)/pytest
	$(BIN)/pingvas-policy --infra infra $(ARGS)

## The suite's own tests (self-tests on fixtures, plus the main job), lint first.
test: $(BIN)/pytest
	$(BIN)/ruff check .
	$(BIN)/pytest $(ARGS)
