"""template.yaml is the single source of truth: linted, valid for SAM, and in step with the code."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from local_stack import ROOT
from local_stack import template as tpl
from tests.handlers.conftest import load_function

TOOLS_BIN = ROOT / ".venv-tools" / "sam" / "bin"


def tool(name: str) -> str:
    path = TOOLS_BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: run `make test` (it creates .venv-tools)")
    return found


def run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"}
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)


def test_cfn_lint_with_serverless_rules_is_clean():
    result = run(tool("cfn-lint"), "template.yaml", "-a", "cfn_lint_serverless.rules")
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_validate_lint_accepts_the_template():
    result = run(tool("sam"), "validate", "--lint", "-t", "template.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def declared_routes() -> set[tuple[str, str]]:
    from clinic.routes import ROUTES

    return {route.key for route in ROUTES}


def template_routes() -> set[tuple[str, str]]:
    return {(r.method, r.path) for f in tpl.functions() for r in f.routes}


def openapi_routes() -> set[tuple[str, str]]:
    from local_stack.openapi import build

    document = build()
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }


def test_routes_of_the_declaration_the_template_and_openapi_are_the_same_set():
    routes = declared_routes()
    assert len(routes) >= 18
    assert template_routes() == routes
    assert openapi_routes() == routes


def test_each_function_serves_exactly_its_declared_route():
    from clinic.routes import BY_FUNCTION
    from clinic.workers import BY_FUNCTION as WORKERS

    for function in tpl.functions():
        if function.logical_id.removesuffix("Function") in WORKERS:
            assert not function.routes, function.logical_id  # a background function serves no route
            continue
        endpoint = load_function(function.logical_id).lambda_handler
        route = BY_FUNCTION[function.logical_id.removesuffix("Function")]
        assert endpoint.route is route, function.logical_id
        assert {(r.method, r.path) for r in function.routes} == {route.key}, function.logical_id
        assert function.code_dir.name == route.code_dir


def test_every_route_but_health_needs_a_token():
    open_routes = {(r.method, r.path) for f in tpl.functions() for r in f.routes if not r.authorized}
    assert open_routes == {("GET", "/health"), ("GET", "/fhir/metadata")}  # and FHIR's CapabilityStatement (API.md)


def test_every_function_has_an_event_file_and_a_log_group():
    template = tpl.load()
    events = {p.stem.split("-")[0] for p in (ROOT / "events").glob("*.json")}
    for function in tpl.functions():
        assert function.code_dir.name in events, f"no events/{function.code_dir.name}.json"
        assert f"{function.logical_id}LogGroup" in template["Resources"]


def test_functions_run_python312_on_arm64_with_tracing_and_the_shared_layer():
    globals_ = tpl.load()["Globals"]["Function"]
    assert globals_["Runtime"] == "python3.12" and globals_["Architectures"] == ["arm64"]
    assert globals_["Tracing"] == "Active"
    assert globals_["Layers"] == [{"Ref": "SharedLayer"}]
    variables = globals_["Environment"]["Variables"]
    assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
    assert variables["POWERTOOLS_LOGGER_LOG_EVENT"] == "false"


def test_tables_are_keyed_by_uuid_id_and_protected():
    for table in tpl.tables():
        props = table.properties
        if table.logical_id not in ("SlotLocksTable", "AuditTable"):  # keyed by owner+hour / subject+time
            assert props["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}], table.logical_id
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["DeletionProtectionEnabled"] is True
        # encrypted with the stack's customer-managed key
        assert props["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": {"Ref": "DataKey"}}
        resource = tpl.load()["Resources"][table.logical_id]
        assert resource["DeletionPolicy"] == "Retain" and resource["UpdateReplacePolicy"] == "Retain"


def test_log_groups_and_the_secret_use_the_customer_managed_key():
    resources = tpl.load()["Resources"]
    for name, resource in resources.items():
        if resource["Type"] == "AWS::Logs::LogGroup":
            assert resource["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["DataKey", "Arn"]}, name
        if resource["Type"] == "AWS::SecretsManager::Secret":
            assert resource["Properties"]["KmsKeyId"] == {"Ref": "DataKey"}, name
    assert resources["DataKey"]["Properties"]["EnableKeyRotation"] is True


def test_samconfig_has_dev_and_prod():
    import tomllib

    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    assert {"dev", "prod"} <= set(config)


def test_sam_build_packages_every_function_and_the_layer(tmp_path):
    # sam build for runtime python3.12 needs a python3.12; the Makefile finds pyenv's.
    result = subprocess.run(
        ["make", "-s", "build", f"SAM_BUILD_DIR={tmp_path}/build"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    built = tmp_path / "build"
    assert (built / "SharedLayer" / "python" / "clinic" / "api.py").exists()
    assert (built / "SharedLayer" / "python" / "aws_lambda_powertools").is_dir()
    for function in tpl.functions():
        assert (built / function.logical_id / "app.py").exists(), function.logical_id


# API Gateway (REST) refuses, at deploy time, a resource path part other than [A-Za-z0-9._-]+ or a whole
# {parameter} ("Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an
# optional plus sign before the closing brace"), and a resource whose siblings name another path parameter ("only
# one is allowed"). Neither cfn-lint nor `sam validate` catches them; the local gateway would serve both.
PATH_PART = re.compile(r"^([A-Za-z0-9._-]+|\{[A-Za-z0-9_]+\+?\})$")


def test_every_route_path_is_one_api_gateway_rest_deploys():
    """Which is why the FHIR operations ($find, $hold, $book) are one route, POST /fhir/Appointment/{appointment_id},
    rather than three with a "$" in the path (clinic.routes, docs/fhir.md)."""
    routes = [route for function in tpl.functions() for route in function.routes]
    parameters_under: dict[str, set[str]] = {}
    for route in routes:
        parts = route.path.strip("/").split("/")
        for index, part in enumerate(parts):
            assert PATH_PART.match(part), (route.path, part)
            if part.startswith("{"):
                parameters_under.setdefault("/".join(parts[:index]), set()).add(part)
    assert {parent: names for parent, names in parameters_under.items() if len(names) > 1} == {}
    assert ("POST", "/fhir/Appointment/{appointment_id}") in {(r.method, r.path) for r in routes}
    assert not PATH_PART.match("$find")
