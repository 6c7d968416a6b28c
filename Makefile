# batchops: `make run` starts the offline stack, `make test` runs everything CI checks.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# SAM CLI pins its own boto3, so it gets a venv of its own.
SAM_VENV := .venv-sam
SAM_STAMP := $(SAM_VENV)/.installed
# checkov pins its own boto3 too: a third venv.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

# The Lambda runtime is Python 3.12: prefer a 3.12 interpreter (PATH, then pyenv), else python3.
PYTHON ?= $(shell for c in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 /usr/bin/python3.12 python3; do \
	if command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then echo $$c; break; fi; done)

.PHONY: help venv browser run test lint typecheck cfn-lint pytest unit integration bench cost sam-venv sam-image sam-test checkov clean

help:
	@echo "make run    - the local stack: HTTP API on 127.0.0.1:$${API_PORT:-3000}, AWS endpoint on 127.0.0.1:$${AWS_PORT:-5000}"
	@echo "make test   - ruff, mypy, cfn-lint, checkov and the whole pytest suite (what CI runs)"
	@echo "make browser - Debian's chromium and chromium-driver for the dashboard's browser test, if missing (apt-get)"
	@echo "make bench  - throughput and overhead figures of the offline stack, then its memory over 20 batches"
	@echo "make cost   - what a 10,000-item batch did offline, priced: dollars per 1,000,000 items on AWS"
	@echo "make sam-test - sam validate, sam build, sam local invoke of every event, sam local start-api (needs root for docker)"

# The project itself goes in editable, for the `batchops` command ($(BIN)/batchops); its dependencies are pinned
# in requirements-dev.txt.
$(STAMP): requirements-dev.txt layers/batchops/requirements.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is required (the Lambda runtime is python3.12)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

venv: $(STAMP)

# Exactly 3.12: `sam build` of a python3.12 function needs a python3.12 on PATH, and this venv is it.
$(SAM_STAMP): requirements-sam.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null \
		|| { echo "sam build needs Python 3.12 exactly (found: $(PYTHON)); install it (e.g. pyenv install 3.12)"; exit 1; }
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet -r requirements-sam.txt
	touch $@

sam-venv: $(SAM_STAMP)

# A Docker engine and the Lambda python3.12 base image, built offline when it cannot be pulled.
sam-image:
	local/sam/install_docker.sh start
	local/sam/build_base_image.sh

# `sam build` needs a python3.12 on PATH: the SAM venv's. The Docker engine is stopped at the end, however
# it ends, if (and only if) this target started it. Builds and container starts are slow: 15 min a test.
sam-test: $(STAMP) $(SAM_STAMP)
	trap 'local/sam/install_docker.sh stop' EXIT; \
	local/sam/install_docker.sh start && local/sam/build_base_image.sh && \
	PATH="$(CURDIR)/$(SAM_VENV)/bin:$$PATH" SAM_CLI_TELEMETRY=0 $(BIN)/pytest -o timeout=900 tests/sam

run: $(STAMP)
	$(BIN)/python -m local

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Each handler is its own module named `app`, so each is checked on its own.
typecheck: $(STAMP)
	$(BIN)/mypy
	@for handler in functions/*/app.py; do echo "mypy $$handler"; $(BIN)/mypy $$handler || exit 1; done

cfn-lint: $(STAMP)
	$(BIN)/cfn-lint template.yaml

$(CHECKOV_STAMP): requirements-checkov.txt
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is required (the Lambda runtime is python3.12)"; exit 1; }
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet -r requirements-checkov.txt
	touch $@

# Offline and the same everywhere: a clean environment (no BC_API_KEY, so no platform calls), no policy
# metadata download, no PyPI version check, HOME in the venv (no ~/.bridgecrew key, no ~/.checkov.yaml).
# Fails on any failed check the template does not skip (Metadata: checkov: skip) and on a parse error.
checkov: $(CHECKOV_STAMP)
	env -i PATH="$$PATH" HOME="$(CURDIR)/$(CHECKOV_VENV)" CKV_SKIP_PACKAGE_UPDATE_CHECK=true CKV_PARSE_ERROR_FAIL=true \
		$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --skip-download --quiet --compact

# The dashboard's browser test drives Debian's Chromium through its chromedriver (Selenium, in the venv, is
# told these paths: it never downloads a browser, which a closed network would refuse). Installed only when
# missing; root on CI, sudo elsewhere.
CHROMIUM := /usr/bin/chromium
CHROMEDRIVER := /usr/bin/chromedriver
browser:
	@if [ ! -x $(CHROMIUM) ] || [ ! -x $(CHROMEDRIVER) ]; then \
		sudo=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		echo "installing chromium and chromium-driver (Debian packages) for the browser test"; \
		$$sudo apt-get update && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver; \
	fi

# pytest exits 5 when it collects nothing: that fails here like any other exit code.
pytest: $(STAMP) browser
	$(BIN)/pytest

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP) browser
	$(BIN)/pytest tests/integration

test: lint typecheck cfn-lint checkov pytest

# The benches use the layer's package too (a plain loop over the same adapters, in bench.throughput).
bench: $(STAMP)
	PYTHONPATH=layers/batchops $(BIN)/python -m bench.throughput
	PYTHONPATH=layers/batchops $(BIN)/python -m bench.memory

cost: $(STAMP)
	PYTHONPATH=layers/batchops $(BIN)/python -m bench.cost

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .mypy_cache .ruff_cache .pytest_cache .aws-sam
