# Two commands on a fresh machine: `make run` and `make test`. Each creates what it needs.
#   .venv        the app: the layer's dependencies, the local stack, pytest, ruff   (requirements/dev.txt)
#   .venv-tools/sam      sam, cfn-lint (+ serverless rules), bandit        (requirements/tools-sam.txt)
#   .venv-tools/checkov  checkov                                           (requirements/tools-checkov.txt)
#   .venv-tools/openapi-client  openapi-python-client (+ httpx, attrs)     (requirements/tools-openapi-client.txt)
#   tools/fhir-validator/node_modules  the FHIR validator the tests call   (package-lock.json, npm ci)
#   tools/openapi-lint/node_modules    Redocly CLI, the OpenAPI linter     (package-lock.json, npm ci)
#   web/node_modules                   the web app's build tools and axe-core (package-lock.json, npm ci)
# They are apart on purpose: the app, sam, checkov and openapi-python-client each pin pydantic, httpx
# or boto3 differently.
# requirements/constraints-*.txt pin every transitive package too, so an install is reproducible.

PYTHON ?= python3
VENV := .venv
TOOLS := .venv-tools
PIP_FLAGS := --disable-pip-version-check --no-input -q
APP_STAMP := $(VENV)/.installed
TOOLS_STAMP := $(TOOLS)/sam/.installed $(TOOLS)/checkov/.installed $(TOOLS)/openapi-client/.installed
FHIR_VALIDATOR := tools/fhir-validator
FHIR_STAMP := $(FHIR_VALIDATOR)/node_modules/.installed
OPENAPI_LINT := tools/openapi-lint
OPENAPI_LINT_STAMP := $(OPENAPI_LINT)/node_modules/.installed
# The web app (web/): npm ci when its lockfile changes; built into web/dist when its sources or the API's
# OpenAPI document (docs/openapi.json, which its types are generated from) change.
WEB := web
WEB_STAMP := $(WEB)/node_modules/.installed
WEB_BUILD := $(WEB)/dist/index.html
WEB_SOURCES := $(shell find $(WEB)/src -type f -not -name schema.d.ts 2>/dev/null) $(addprefix $(WEB)/,index.html callback.html vite.config.ts tsconfig.json)
OPENAPI_SOURCES := $(shell find layers/shared/clinic functions -name '*.py' 2>/dev/null) local_stack/openapi.py
# The browser tests drive Debian's chromium (never a browser a test library downloads).
CHROMIUM := /usr/bin/chromium
# sam build for runtime python3.12 needs a python3.12 on PATH (pyenv's, where there is one).
PY312_DIR := $(firstword $(wildcard $(shell pyenv root 2>/dev/null)/versions/3.12*/bin) $(dir $(shell command -v python3.12 2>/dev/null)))
SAM_BUILD_DIR ?= .aws-sam/build
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: help run test test-fast clock lint fuzz token invoke reset template build validate bench openapi clean web chromium deploy-site

help:  ## list every target
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(APP_STAMP): requirements/dev.txt requirements/constraints-dev.txt layers/shared/requirements.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_FLAGS) -r requirements/dev.txt -c requirements/constraints-dev.txt
	touch $@

$(TOOLS)/%/.installed: requirements/tools-%.txt requirements/constraints-%.txt
	test -x $(TOOLS)/$*/bin/python || $(PYTHON) -m venv $(TOOLS)/$*
	$(TOOLS)/$*/bin/pip install $(PIP_FLAGS) -r requirements/tools-$*.txt -c requirements/constraints-$*.txt
	touch $@

# npm ci installs exactly package-lock.json (and fails if package.json disagrees with it).
$(FHIR_STAMP): $(FHIR_VALIDATOR)/package.json $(FHIR_VALIDATOR)/package-lock.json
	cd $(FHIR_VALIDATOR) && npm ci --no-audit --no-fund
	touch $@

$(OPENAPI_LINT_STAMP): $(OPENAPI_LINT)/package.json $(OPENAPI_LINT)/package-lock.json
	cd $(OPENAPI_LINT) && npm ci --no-audit --no-fund
	touch $@

# --ignore-scripts: nothing the app builds with needs an install script.
$(WEB_STAMP): $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

docs/openapi.json: $(APP_STAMP) $(OPENAPI_SOURCES)
	$(VENV)/bin/python -m local_stack openapi --out $@

$(WEB_BUILD): $(WEB_STAMP) docs/openapi.json $(WEB_SOURCES)
	cd $(WEB) && npm run build --silent

web: $(WEB_BUILD)  ## build the web app into web/dist (types from docs/openapi.json, typecheck, vite build)

# Debian's chromium, for the browser tests; installed when missing (CI runs as root on a fresh machine).
$(CHROMIUM):
	@test "$$(id -u)" = 0 || (echo "the browser tests need Debian's chromium: sudo apt-get install -y chromium"; exit 2)
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

chromium: $(CHROMIUM)  ## install Debian's chromium for the browser tests (apt-get, as root)

deploy-site: $(TOOLS)/sam/.installed $(WEB_BUILD)  ## after sam deploy: upload web/dist and its config.json to STACK=<name>'s site bucket
	@test -n "$(STACK)" || (echo "usage: make deploy-site STACK=<stack name>"; exit 2)
	$(TOOLS)/sam/bin/python -m infra.deploy_site --stack $(STACK)

run: $(APP_STAMP) $(WEB_BUILD)  ## serve the API and the web app (/app/) on http://127.0.0.1:$PORT (3000): DynamoDB Local, demo data [IN_MEMORY=1]
	$(VENV)/bin/python -m local_stack serve$(if $(filter-out 0,$(IN_MEMORY)), --in-memory)

# Tests that need no local stack run on both cores, a file per worker (module fixtures stay whole);
# then the clock sweep: the tests marked clock_sensitive again, at each instant of tests/clock_sweep.py;
# the integration tests share one local stack and run after them, one at a time.
# What make test needs, installed side by side (pip, npm and apt wait on the network and the disk).
TEST_NEEDS := $(APP_STAMP) $(TOOLS_STAMP) $(FHIR_STAMP) $(OPENAPI_LINT_STAMP) $(WEB_BUILD) $(CHROMIUM)

test:  ## install what is needed, then run every linter, test and scanner
	@$(MAKE) --no-print-directory -j4 $(TEST_NEEDS)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/python -m pytest -m "not integration" -n 2 --dist loadfile --durations=10
	$(VENV)/bin/python -m pytest --clock-sweep -n 2 -q --durations=5
	$(VENV)/bin/python -m pytest -m integration --durations=10

test-fast: $(APP_STAMP) $(FHIR_STAMP)  ## unit and handler tests only: the edit-test loop
	$(VENV)/bin/python -m pytest -m "unit or handlers" -q

clock: $(APP_STAMP)  ## the clock_sensitive tests at every instant of the sweep; AT=<instant> (e.g. 2026-12-06T23:30-05:00) at that one
	$(VENV)/bin/python -m pytest $(if $(AT),-m clock_sensitive --clock-at $(AT),--clock-sweep -n 2) -q

lint: $(APP_STAMP)  ## ruff: lint and format check (make test runs it too)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fuzz: $(APP_STAMP)  ## schemathesis over every operation (FUZZ_EXAMPLES per operation, default 200)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} $(VENV)/bin/python -m pytest tests/integration/test_fuzz.py -q

token: $(APP_STAMP)  ## print a local bearer token: ROLE=staff|doctor|patient [ID=<id>]
	@$(VENV)/bin/python -m local_stack token --role $(or $(ROLE),staff) $(if $(ID),--id $(ID))

invoke: $(APP_STAMP)  ## run one function on one event, like sam local invoke: FUNCTION=<LogicalId> EVENT=events/<file>.json
	@test -n "$(FUNCTION)" -a -n "$(EVENT)" || (echo "usage: make invoke FUNCTION=HealthFunction EVENT=events/health.json"; exit 2)
	$(VENV)/bin/python -m local_stack invoke $(FUNCTION) $(EVENT)

reset: $(APP_STAMP)  ## wipe the local DynamoDB data (refused while make run is up)
	@$(VENV)/bin/python -m local_stack reset

template: $(APP_STAMP)  ## write template.yaml from infra/base.yaml and the route declaration
	$(VENV)/bin/python -m infra.generate

openapi: $(APP_STAMP)  ## write the OpenAPI document to docs/openapi.json
	$(VENV)/bin/python -m local_stack openapi --out docs/openapi.json

validate: $(TOOLS)/sam/.installed  ## sam validate --lint and cfn-lint with the serverless rules
	$(TOOLS)/sam/bin/sam validate --lint
	$(TOOLS)/sam/bin/cfn-lint template.yaml -a cfn_lint_serverless.rules

build: $(TOOLS)/sam/.installed  ## sam build (needs python3.12 on PATH; pyenv's is found)
	@test -n "$(PY312_DIR)" || (echo "sam build needs python3.12 on PATH"; exit 2)
	PATH="$(PY312_DIR):$$PATH" $(TOOLS)/sam/bin/sam build --build-dir $(SAM_BUILD_DIR)

bench: $(APP_STAMP)  ## measure latency, DynamoDB calls, throughput and contention on the local stack
	$(VENV)/bin/python -m tests.bench

clean:  ## remove every environment and build output
	rm -rf $(VENV) $(TOOLS) $(FHIR_VALIDATOR)/node_modules $(OPENAPI_LINT)/node_modules .aws-sam .pytest_cache .hypothesis $(WEB)/node_modules $(WEB)/dist
