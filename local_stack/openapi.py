"""The OpenAPI 3.1 document of the whole API, generated from the code at build and test time.

Each route is declared once (layers/shared/clinic/routes.py); its function's endpoint
(``clinic.api.endpoint``) names its input models, its answer and its 409 codes. From those and the
pydantic models' JSON schemas this writes one operation per route: its operation id is the handler's
name, its parameters (path ids as ``uuid``, the query model's fields, the Idempotency-Key header of
keyed routes), its request body, and exactly the answers it can give (429 is API Gateway's throttling,
on every route) — with their headers (``X-Request-Id`` always, ``Location`` on 201,
``Idempotent-Replayed`` on keyed routes, ``Retry-After`` on 429 and 503). Nothing here runs in a
function: the functions never import OpenAPI code. Redocly's recommended lint passes on it with no
warning (tests/template/test_openapi.py) and openapi-python-client makes a working client of it
(tests/integration/test_generated_client.py).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from functools import cache
from typing import Any

from local_stack import ROOT
from local_stack import template as tpl

TITLE = "Clinic appointments API"
LOCAL_SERVER = "http://127.0.0.1:3000"  # make run's default address (docs/openapi.json names it)
DESCRIPTION = (
    "Patients, doctors, working hours and appointments. Every route but GET /health needs a Cognito "
    "ID token (locally: `make token`). Errors are application/problem+json with a stable `code`."
)
PROBLEM_JSON = "application/problem+json"
REF = "#/components/schemas/{model}"
PROBLEMS = {
    400: "Malformed JSON: not UTF-8, not JSON, a repeated key or NaN",
    401: "Unauthenticated: no valid bearer token",
    403: "Forbidden: the caller's role may not use this route (or a deactivated doctor's token)",
    404: "Not found (also: a record the caller has no business with)",
    409: "Conflict",
    413: "Payload too large: the body is over 64 KiB",
    415: "Unsupported media type: the body must be JSON",
    422: "Validation error: one entry per field in `errors`",
    429: "Too many requests: over the stage's throttling limits; retry after Retry-After seconds",
    503: "Service unavailable: retry after Retry-After seconds (the outcome of a write is unknown)",
}
# API Gateway throttles every route (the stage's ThrottlingRateLimit/BurstLimit, and the account's limits),
# and template.yaml's THROTTLED gateway response answers that as problem+json with Retry-After
# (tests/template/test_openapi.py keeps the two in step). No function ever answers it.
GATEWAY_PROBLEMS = {429}
RETRY_AFTER = {429, 503}
TAGS = {  # one per first path segment (a new one gets a plain description, so Redocly's tag-description holds)
    "appointments": "Booking, rescheduling, status changes and cancelling of appointments.",
    "doctors": "Doctors and their working hours, free slots (availability) and schedules.",
    "health": "Liveness and storage reachability; no token needed.",
    "patients": "Patient records, patient search, a patient's appointments and their access history.",
    "appointment-series": "Weekly series of appointments, booked and cancelled all or nothing.",
    "settings": "The clinic-wide booking policy, holds, waitlist and reminder settings.",
    "fhir": "The read-only FHIR R4 view (application/fhir+json; errors are OperationOutcome): docs/fhir.md.",
    "locations": "The clinic's sites: each with a fixed time zone; doctors' working hours may name one.",
    "resources": "Rooms and equipment, each at one location, of a kind that appointment types may need.",
}
HEADERS = {
    "X-Request-Id": {
        "description": "The request's id (API Gateway's), also in every log line.",
        "schema": {"type": "string"},
    },
    "Location": {"description": "The new record's path.", "schema": {"type": "string"}},
    "Idempotent-Replayed": {
        "description": "true when this is the stored answer to an earlier request with the same Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}},
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes retries safe: the same key and body within 24 h answer the first response again (with "
    "Idempotent-Replayed: true) and create nothing new; another body is 422 IDEMPOTENCY_KEY_REUSED; "
    "while the first request runs, 409 IDEMPOTENCY_IN_PROGRESS.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


def _layer_on_path() -> None:
    for layer in map(str, tpl.layer_dirs()):
        if layer not in sys.path:
            sys.path.append(layer)


@cache
def load_endpoint(function: str):
    """The endpoint a function's module declares (imported once, under its own module name)."""
    _layer_on_path()
    from clinic.routes import BY_FUNCTION

    route = BY_FUNCTION[function]
    name = f"clinic_function_{function}"
    module = sys.modules.get(name)
    if module is None:
        path = ROOT / "functions" / route.code_dir / "app.py"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module.lambda_handler


def _schemas(models: list[type]) -> tuple[dict[type, dict], dict[str, Any]]:
    """Each model's schema reference, and the component schemas they need (pydantic's own generator)."""
    from pydantic.json_schema import models_json_schema

    refs, document = models_json_schema([(m, "serialization") for m in models], ref_template=REF)
    return {model: ref for (model, _mode), ref in refs.items()}, document.get("$defs", {})


def _input_schemas(models: list[type]) -> tuple[dict[type, dict], dict[str, Any]]:
    from pydantic.json_schema import models_json_schema

    refs, document = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    return {model: ref for (model, _mode), ref in refs.items()}, document.get("$defs", {})


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional query parameter's schema, without pydantic's "or null" (absent is how it is omitted)."""
    options = schema.get("anyOf")
    if options and len(options) == 2 and {"type": "null"} in options:
        inner = dict(next(o for o in options if o != {"type": "null"}))
        for key in ("description", "default"):
            if key in schema and schema[key] is not None:
                inner.setdefault(key, schema[key])
        return inner
    return {k: v for k, v in schema.items() if k != "title"}


def _query_parameters(model: type) -> list[dict[str, Any]]:
    schema = model.model_json_schema(by_alias=True, ref_template=REF)
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        prop = _without_null({k: v for k, v in prop.items() if k != "title"})
        description = prop.pop("description", None)
        parameter = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _headers(*names: str) -> dict[str, Any]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def _problem(status: int, text: str) -> dict[str, Any]:
    headers = ("X-Request-Id", "Retry-After") if status in RETRY_AFTER else ("X-Request-Id",)
    return {
        "description": text,
        "headers": _headers(*headers),
        "content": {PROBLEM_JSON: {"schema": {"$ref": REF.format(model="Problem")}}},
    }


def _names_a_record(model: type) -> bool:
    """Whether a body names a record by id anywhere, nested ones included (a working-hour interval's location)."""
    schema = model.model_json_schema()
    models = [schema, *schema.get("$defs", {}).values()]
    return any(name.endswith("_id") for each in models for name in each.get("properties", {}))


def _operation(endpoint, route, answer_refs: dict, body_refs: dict) -> dict[str, Any]:
    from clinic.routes import ANYONE

    authorized = route.roles is not ANYONE
    has_body, has_query = endpoint.body_model is not None, endpoint.query_model is not None
    named = getattr(endpoint, "path_values", None) or {}  # a parameter of named values (the FHIR operations)
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "enum": list(named[name])}
            if name in named
            else {"type": "string", "format": "uuid"},
        }
        for name in re.findall(r"\{(\w+)\}", route.path)
    ]
    if has_query:
        parameters += _query_parameters(endpoint.query_model)
    if route.keyed:
        parameters.append(IDEMPOTENCY_KEY)
    success: dict[str, Any] = {"description": endpoint.summary or "Success"}
    headers = ["X-Request-Id"]
    if endpoint.status == 201:
        headers.append("Location")
    if route.keyed:
        headers.append("Idempotent-Replayed")
    success["headers"] = _headers(*headers)
    if endpoint.answers is not None and endpoint.status != 204:
        success["content"] = {endpoint.content_type: {"schema": answer_refs[endpoint.answers]}}
    responses: dict[str, Any] = {str(endpoint.status): success}
    for status, text in endpoint.other_answers.items():
        responses[str(status)] = {**success, "description": text}
    problems = {503, *GATEWAY_PROBLEMS}
    if authorized:
        problems |= {401, 403}
    if parameters and any(p["in"] == "path" for p in parameters):
        problems.add(404)
    if has_body:
        problems |= {400, 413, 415, 422}
        if _names_a_record(endpoint.body_model):
            problems.add(404)  # the body names a record (a patient, a doctor, a location) that may not exist
    if has_query or route.keyed:
        problems.add(422)
    if endpoint.conflicts:
        problems.add(409)
    if endpoint.problem is not None and has_query:
        # a FHIR search: an unsupported parameter under Prefer: handling=strict; a referenced record not found
        problems |= {400, 404}
    for status in sorted(problems):
        if str(status) in responses:
            continue
        text = PROBLEMS[status] + (f": {endpoint.conflicts}" if status == 409 else "")
        responses[str(status)] = _problem(status, text)
    if endpoint.problem is not None:  # the function's errors in its own format; the gateway's stay problem+json
        if has_query:
            responses["400"]["description"] = (
                "Bad request: an unsupported search parameter, under Prefer: handling=strict"
            )
        schema = answer_refs[endpoint.problem_answers]
        for status in problems - {401, *GATEWAY_PROBLEMS}:
            responses[str(status)]["content"] = {endpoint.content_type: {"schema": schema}}
    operation: dict[str, Any] = {
        "operationId": endpoint.name,
        "summary": endpoint.summary,
        "tags": [route.path.strip("/").split("/")[0]],
    }
    if endpoint.description:
        operation["description"] = endpoint.description
    operation["security"] = [{"cognito": []}] if authorized else []
    if parameters:
        operation["parameters"] = parameters
    if has_body:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body_refs[endpoint.body_model]}},
        }
    operation["responses"] = dict(sorted(responses.items()))
    return operation


def served_from(document: dict[str, Any], url: str) -> dict[str, Any]:
    """The document naming ``url`` as its local server: what a running stack serves, so Swagger UI's
    "Try it out" calls the stack that served it (PORT=3100: port 3100), not the default address."""
    local, *others = document["servers"]
    return {**document, "servers": [{**local, "url": url}, *others]}


def build(version: str | None = None) -> dict[str, Any]:
    _layer_on_path()
    from clinic.models.common import Problem
    from clinic.routes import ROUTES

    template = tpl.load()
    version = version or str(template.get("Parameters", {}).get("ServiceVersion", {}).get("Default", "dev"))
    endpoints = [(load_endpoint(route.function), route) for route in ROUTES]
    answer_refs, answer_defs = _schemas([Problem, *{e.answers for e, _ in endpoints if e.answers is not None}])
    problem_models = list({e.problem_answers for e, _ in endpoints if e.problem_answers is not None})
    if problem_models:  # endpoints answering errors in their own format (FHIR: OperationOutcome)
        problem_refs, problem_defs = _schemas(problem_models)
        answer_refs.update(problem_refs)
        answer_defs.update(problem_defs)
    body_refs, body_defs = _input_schemas(list({e.body_model for e, _ in endpoints if e.body_model is not None}))
    paths: dict[str, dict[str, Any]] = {}
    for endpoint, route in endpoints:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(endpoint, route, answer_refs, body_refs)
    schemas = {**answer_defs, **body_defs}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": version,
            "description": DESCRIPTION,
            "license": {"name": "Proprietary", "url": "https://clinic.example.org/license"},
        },
        "servers": [
            {"url": LOCAL_SERVER, "description": "The local stack (make run)"},
            {
                "url": "https://{api}.execute-api.{region}.amazonaws.com/{stage}",
                "description": "A deployed stack",
                "variables": {
                    "api": {"default": "api-id", "description": "The stack's ApiUrl output"},
                    "region": {"default": "us-east-1"},
                    "stage": {"default": "dev", "enum": ["dev", "prod"]},
                },
            },
        ],
        "tags": [
            {"name": tag, "description": TAGS.get(tag, f"The /{tag} routes.")}
            for tag in sorted({r.path.strip("/").split("/")[0] for r in ROUTES})
        ],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "headers": HEADERS,
            "securitySchemes": {
                "cognito": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A Cognito user-pool ID token (locally: an HS256 token from make token)",
                },
            },
        },
    }


def main(out: str | None = None) -> None:
    text = json.dumps(build(), indent=2) + "\n"
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
