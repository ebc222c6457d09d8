# Every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
export AWS_DEFAULT_REGION ?= us-east-1

STAGE ?= dev

.PHONY: install run test lint package bench text phone clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check 'pip<26.3'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

run: install ## the local stack with demo data, until Ctrl-C (ARGS="--tick-seconds 5" ...)
	$(BIN)/python -m local.stack $(ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

package: install ## make package STAGE=prod: build/<stage>/sam.json + deployment.zip, linted
	rm -rf build/$(STAGE)
	$(BIN)/chalice package --stage $(STAGE) --merge-template infra/resources.json build/$(STAGE)
	$(BIN)/cfn-lint build/$(STAGE)/sam.json

test: lint ## ruff, mypy, both stages packaged and linted, then the whole suite
	$(MAKE) --no-print-directory package STAGE=dev
	$(MAKE) --no-print-directory package STAGE=prod
	$(BIN)/python -m pytest

bench: package ## every benchmark in bench/, one `name: value unit` line per figure
	$(BIN)/python -m bench

text: install ## make text FROM=+447700900123 BODY="hello"
	$(BIN)/python -m local.phone --from '$(FROM)' --body '$(BODY)'

phone: install ## make phone FROM=+447700900123
	$(BIN)/python -m local.phone --from '$(FROM)'

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
