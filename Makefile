# Two commands on a fresh machine: `make run` and `make test`. Each creates what it needs.
#   .venv        the app: the layer's dependencies, the local stack, pytest   (requirements/dev.txt)
#   .venv-tools/sam      sam, cfn-lint (+ serverless rules), bandit        (requirements/tools-sam.txt)
#   .venv-tools/checkov  checkov                                           (requirements/tools-checkov.txt)
# They are apart on purpose: the app, sam and checkov each pin boto3/pydantic differently.
# requirements/constraints-*.txt pin every transitive package too, so an install is reproducible.

PYTHON ?= python3
VENV := .venv
TOOLS := .venv-tools
PIP_FLAGS := --disable-pip-version-check --no-input -q
APP_STAMP := $(VENV)/.installed
TOOLS_STAMP := $(TOOLS)/sam/.installed $(TOOLS)/checkov/.installed
# sam build for runtime python3.12 needs a python3.12 on PATH (pyenv's, where there is one).
PY312_DIR := $(firstword $(wildcard $(shell pyenv root 2>/dev/null)/versions/3.12*/bin) $(dir $(shell command -v python3.12 2>/dev/null)))
SAM_BUILD_DIR ?= .aws-sam/build
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: help run test test-fast fuzz token invoke reset build validate lint scan bench openapi clean

help:
	@echo "make run      serve the API on http://127.0.0.1:$${PORT:-3000} (DynamoDB Local, demo data)"
	@echo "make test     install what is needed, then run every test and scanner"
	@echo "make token ROLE=staff|doctor|patient [ID=<id>]   print a local bearer token"
	@echo "make invoke FUNCTION=<LogicalId> EVENT=events/<file>.json   run one function, like sam local invoke"
	@echo "make reset    wipe the local DynamoDB data"
	@echo "make build    sam build (needs python3.12 on PATH)"
	@echo "make bench    measure booking latency and throughput on the local stack"
	@echo "make fuzz     fuzz every operation against the OpenAPI document (FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} per operation)"

$(APP_STAMP): requirements/dev.txt requirements/constraints-dev.txt layers/shared/requirements.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_FLAGS) -r requirements/dev.txt -c requirements/constraints-dev.txt
	touch $@

$(TOOLS)/%/.installed: requirements/tools-%.txt requirements/constraints-%.txt
	test -x $(TOOLS)/$*/bin/python || $(PYTHON) -m venv $(TOOLS)/$*
	$(TOOLS)/$*/bin/pip install $(PIP_FLAGS) -r requirements/tools-$*.txt -c requirements/constraints-$*.txt
	touch $@

run: $(APP_STAMP)
	$(VENV)/bin/python -m local_stack serve

test: $(APP_STAMP) $(TOOLS_STAMP)
	$(VENV)/bin/python -m pytest

# Unit and handler tests only: seconds, for the edit-test loop.
test-fast: $(APP_STAMP)
	$(VENV)/bin/python -m pytest -m "unit or handlers" -q

# The contract fuzzed at length: schemathesis, FUZZ_EXAMPLES examples per operation (make test runs 10).
fuzz: $(APP_STAMP)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} $(VENV)/bin/python -m pytest tests/integration/test_fuzz.py -q

token: $(APP_STAMP)
	@$(VENV)/bin/python -m local_stack token --role $(or $(ROLE),staff) $(if $(ID),--id $(ID))

invoke: $(APP_STAMP)
	@test -n "$(FUNCTION)" -a -n "$(EVENT)" || (echo "usage: make invoke FUNCTION=HealthFunction EVENT=events/health.json"; exit 2)
	$(VENV)/bin/python -m local_stack invoke $(FUNCTION) $(EVENT)

reset:
	rm -rf .local/dynamodb-data .local/demo-ids.json .local/stream-checkpoints.json .local/schedules.json
	@echo "local data wiped (with stream positions and schedules); the next 'make run' starts empty and seeds demo data"

openapi: $(APP_STAMP)
	$(VENV)/bin/python -m local_stack openapi --out docs/openapi.json

validate: $(TOOLS)/sam/.installed
	$(TOOLS)/sam/bin/sam validate --lint
	$(TOOLS)/sam/bin/cfn-lint template.yaml -a cfn_lint_serverless.rules

build: $(TOOLS)/sam/.installed
	@test -n "$(PY312_DIR)" || (echo "sam build needs python3.12 on PATH"; exit 2)
	PATH="$(PY312_DIR):$$PATH" $(TOOLS)/sam/bin/sam build --build-dir $(SAM_BUILD_DIR)

bench: $(APP_STAMP)
	$(VENV)/bin/python -m tests.bench

clean:
	rm -rf $(VENV) $(TOOLS) .aws-sam .pytest_cache .hypothesis
