# Every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
export AWS_DEFAULT_REGION ?= us-east-1

STAGE ?= dev

# checkov pins boto3 (3.3.30: boto3==1.35.49), which the app's pin cannot meet, so it
# is not in requirements-dev.txt: it gets a venv of its own, inside .venv.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := $(VENV)/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)

.PHONY: install run test lint package checkov bench text phone key repair-consent clean browser

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check 'pip<26.3'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile -r requirements-dev.txt
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

$(CHECKOV_STAMP):
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-compile 'checkov==$(CHECKOV_VERSION)'
	rm -f $(CHECKOV_VENV)/.installed-*
	touch $@

checkov: $(CHECKOV_STAMP) ## checkov on build/prod/sam.json (after make package STAGE=prod); findings fixed or skipped, with a reason, in infra/
	$(CHECKOV_VENV)/bin/checkov -f build/prod/sam.json --framework cloudformation --skip-download --quiet --compact

# The console's browser tests drive Debian's headless Chromium through its WebDriver
# (chromium-driver): packages from the distribution, nothing downloaded at test time.
browser: ## chromium + chromium-driver for tests/e2e/test_console.py, installed once (apt, as root)
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y chromium chromium-driver; }

# The suite runs on PYTEST_WORKERS processes (pytest-xdist; each has its own emulator and stacks):
# its end-to-end tests mostly wait on their stacks, so four share two cores well. A module runs
# on one worker, in its order; the modules with long scenarios are collected first
# (tests/conftest.py). ruff and mypy run beside the packaging, and checkov (its install and
# scan, CPU) beside the suite; their output follows, and any of them failing fails the target.
# The venv is installed without compiling every package's bytecode (--no-compile): what a
# test imports is compiled when first imported, the rest never is.
PYTEST_WORKERS ?= 4
test: install ## ruff, mypy, both stages packaged and linted, then the whole suite (parallel) with checkov on prod beside it
	mkdir -p build
	$(MAKE) --no-print-directory lint > build/lint.log 2>&1 & lint=$$!; \
	$(MAKE) --no-print-directory package STAGE=dev && $(MAKE) --no-print-directory package STAGE=prod; packaged=$$?; \
	wait $$lint; linted=$$?; echo "--- ruff and mypy (build/lint.log)"; cat build/lint.log; \
	exit $$(( packaged || linted ))
	$(MAKE) --no-print-directory browser
	$(MAKE) --no-print-directory checkov > build/checkov.log 2>&1 & scan=$$!; \
	RAPPORT_PACKAGED_DIR=build $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder; suite=$$?; \
	wait $$scan; scanned=$$?; echo "--- checkov (build/checkov.log)"; cat build/checkov.log; \
	exit $$(( suite || scanned ))

bench: package ## every benchmark in bench/, one `name: value unit` line per figure
	$(BIN)/python -m bench

text: install ## make text FROM=+447700900123 BODY="hello"
	$(BIN)/python -m local.phone --from '$(FROM)' --body '$(BODY)'

phone: install ## make phone FROM=+447700900123
	$(BIN)/python -m local.phone --from '$(FROM)'

repair-consent: install ## once, after upgrading past 4d3734b: consent registers rebuilt from each contact's history (TABLE_NAME; docs/privacy.md)
	$(BIN)/python -m local.repair_consent

key: install ## make key NAME=alice ROLE=agent (admin, operator, agent, integration): a key on make run's stack, printed once
	$(BIN)/python -m local.keys create '$(NAME)' '$(ROLE)'

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
