"""The OpenAPI 3.1 document of the whole API, generated from the code.

Each function's resolver knows its own route, models and responses (Powertools builds the schema
from the pydantic models); this merges them, and adds what only the template knows: which routes
need a bearer token.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from typing import Any

from local_stack import template as tpl

TITLE = "Clinic appointments API"
DESCRIPTION = (
    "Patients, doctors, working hours and appointments. Every route but GET /health needs a Cognito "
    "ID token (locally: `make token`). Errors are application/problem+json with a stable `code`."
)


def _load_app(function: tpl.Function):
    for layer in map(str, tpl.layer_dirs()):
        if layer not in sys.path:
            sys.path.append(layer)
    name = f"clinic_function_{function.logical_id}"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, function.code_dir / f"{function.module}.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module.app


def build(version: str | None = None) -> dict[str, Any]:
    template = tpl.load()
    version = version or str(template.get("Parameters", {}).get("ServiceVersion", {}).get("Default", "dev"))
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": version, "description": DESCRIPTION},
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {
                "cognito": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                            "description": "A Cognito user-pool ID token (locally: an HS256 token from make token)"},
            },
        },
    }
    for function in tpl.functions():
        schema = _load_app(function).get_openapi_schema(title=TITLE, version=version)
        part = schema.model_dump(mode="json", by_alias=True, exclude_none=True)
        for schema_name, body in (part.get("components") or {}).get("schemas", {}).items():
            document["components"]["schemas"].setdefault(schema_name, body)
        routes = {(r.method.lower(), r.path): r for r in function.routes}
        for path, operations in (part.get("paths") or {}).items():
            for method, operation in operations.items():
                route = routes.get((method, path))
                if route is None:
                    continue  # only what the template routes to this function is reachable
                operation["security"] = [{"cognito": []}] if route.authorized else []
                operation.setdefault("operationId", function.logical_id.removesuffix("Function"))
                document["paths"].setdefault(path, {})[method] = operation
    document["paths"] = dict(sorted(document["paths"].items()))
    return document


def main(out: str | None = None) -> None:
    text = json.dumps(build(), indent=2) + "\n"
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
