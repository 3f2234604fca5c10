"""template.yaml is the single source of truth: linted, valid for SAM, and in step with the code."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from local_stack import ROOT
from local_stack import template as tpl
from local_stack.functions import worker_environment
from tests.benchkit import shipped
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


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """`make build`: sam build from template.yaml, as users and CI run it, once for the tests below."""
    build_dir = tmp_path_factory.mktemp("sam") / "build"
    # sam build for runtime python3.12 needs a python3.12; the Makefile finds pyenv's.
    result = subprocess.run(
        ["make", "-s", "build", f"SAM_BUILD_DIR={build_dir}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return build_dir


def test_sam_build_packages_every_function_and_the_layer(built):
    assert (built / "SharedLayer" / "python" / "clinic" / "api.py").exists()
    assert (built / "SharedLayer" / "python" / "aws_lambda_powertools").is_dir()
    for function in tpl.functions():
        assert (built / function.logical_id / "app.py").exists(), function.logical_id


def test_every_function_and_the_layer_is_built_by_the_bytecode_makefile():
    """New functions included: infra/generate.py gives each the build method, and infra/build/Makefile
    compiles with the template's runtime."""
    template = tpl.load()
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion"):
            metadata = resource.get("Metadata") or {}
            assert (metadata.get("BuildMethod"), metadata.get("ContextPath")) == ("makefile", "infra/build"), logical_id
    makefile = (ROOT / "infra" / "build" / "Makefile").read_text(encoding="utf-8")
    assert f"RUNTIME := {shipped.runtime()}\n" in makefile
    assert set(template["Resources"]["SharedLayer"]["Properties"]["CompatibleRuntimes"]) == {shipped.runtime()}


def runtime_python() -> str:
    python = shipped.runtime_python()
    if python is None:
        pytest.fail(f"no {shipped.runtime()} here: sam build needs it too")
    return python


def test_the_build_ships_current_bytecode_of_the_runtimes_python_for_every_source(built):
    """Every .py of the layer (ours and the dependencies') and of every function has its checked-hash
    .pyc for the runtime's Python, compiled from exactly the source shipped beside it."""
    python = runtime_python()
    roots = [built / "SharedLayer" / "python", *(built / f.logical_id for f in tpl.functions())]
    checked = shipped.check_bytecode(python, *roots)
    assert checked["tag"] == "cpython-" + shipped.runtime().removeprefix("python").replace(".", "")
    assert checked["problems"] == []
    assert checked["sources"] > 1000  # boto3, botocore, pydantic, Powertools and ours: all of it


# Imports every function of the build (the layer on sys.path as Lambda puts it, in the template's
# environment: tracing on) with an audit hook: nothing from the build may be compiled (a module with a
# usable .pyc is not), and every module imported from the build has its .pyc. Native extensions the build
# holds for another machine (arm64) come from ``natives`` (the same versions, for this one): every Python
# module comes from the build.
LOAD_PROBE = r"""
import importlib.machinery, importlib.util, json, os, sys
build, layer, natives, *functions = sys.argv[1:]
compiled = []

def audit(event, args):  # the import system compiles a source (builtins.compile) only when its .pyc will not do
    if event == "compile" and isinstance(args[1], str) and args[1].startswith(build):
        compiled.append(args[1])

sys.addaudithook(audit)

class Natives:
    def find_spec(self, name, path, target=None):
        search = [natives] if path is None else [natives + p[len(layer):] for p in path if p.startswith(layer)]
        spec = importlib.machinery.PathFinder.find_spec(name, search) if search else None
        return spec if spec and isinstance(spec.loader, importlib.machinery.ExtensionFileLoader) else None

sys.meta_path.insert(0, Natives())  # before the path finder: pydantic_core/_pydantic_core/ is a folder too
sys.path[:] = [layer, *sys.path]
modules = []
for function in functions:
    spec = importlib.util.spec_from_file_location(os.path.basename(function), os.path.join(function, "app.py"))
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(module.lambda_handler)
    modules.append(module)
from_build = {m.__file__ for m in list(sys.modules.values()) if (getattr(m, "__file__", None) or "").startswith(build)}
sources = {f for f in from_build if f.endswith(".py")}
print(json.dumps({
    "changed": [f for f, m in zip(functions, modules) if getattr(m, "CHANGED", False)],
    "sources": len(sources),
    "natives": sorted(f for f in from_build if f.endswith(".so")),
    "without_pyc": sorted(f for f in sources if not os.path.exists(importlib.util.cache_from_source(f))),
    "compiled": compiled,
    "xray": "aws_xray_sdk.core" in sys.modules,
}))
"""


def load(python: str, build: Path, layer: Path, natives: Path, functions: list[Path], **env: str) -> dict:
    environment = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1", **env}
    answer = subprocess.run(
        [python, "-S", "-c", LOAD_PROBE, str(build), str(layer), str(natives), *map(str, functions)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert answer.returncode == 0, answer.stderr[-3000:]
    return json.loads(answer.stdout.strip().splitlines()[-1])


def lambda_environment(build: Path) -> dict[str, str]:
    """Every function's template environment at once (each function finds its own variables), tracing
    as the template sets it (Active: Powertools' Tracer and the X-Ray SDK load at init) and what Lambda sets."""
    assert tpl.load()["Globals"]["Function"]["Tracing"] == "Active"
    environment: dict[str, str] = {}
    for function in tpl.functions():
        environment.update(worker_environment(function, "http://127.0.0.1:9"))
    environment.pop("POWERTOOLS_TRACE_DISABLED")  # the local stack's; the template does not set it
    environment.update({"LAMBDA_TASK_ROOT": str(build), "AWS_LAMBDA_FUNCTION_NAME": "Loaded"})
    return environment


@pytest.fixture(scope="module")
def natives(built, tmp_path_factory) -> Path:
    return shipped.host_natives(runtime_python(), built / "SharedLayer" / "python", tmp_path_factory.mktemp("natives"))


def test_the_functions_load_the_shipped_bytecode_and_compile_nothing(built, natives):
    python = runtime_python()
    layer = built / "SharedLayer" / "python"
    functions = [built / f.logical_id for f in tpl.functions()]
    loaded = load(python, built, layer, natives, functions, **lambda_environment(built))
    assert loaded["xray"]  # traced, as the template sets it: the X-Ray SDK's modules too
    assert loaded["sources"] > 400  # boto3, pydantic, Powertools, the X-Ray SDK, ours, every app.py
    assert loaded["without_pyc"] == []
    assert loaded["compiled"] == []  # so every module came from its .pyc
    assert loaded["changed"] == []


def test_a_stale_pyc_is_never_run(built, natives, tmp_path):
    """A source changed after the build, its .pyc now stale: Python compiles the source and runs it."""
    function = tmp_path / "HealthFunction"
    shutil.copytree(built / "HealthFunction", function)
    app = function / "app.py"
    app.write_text(app.read_text(encoding="utf-8") + "\nCHANGED = True  # after the build\n", encoding="utf-8")
    loaded = load(runtime_python(), tmp_path, built / "SharedLayer" / "python", natives, [function])
    assert loaded["compiled"] == [str(app)]
    assert loaded["changed"] == [str(function)]


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
