"""Read template.yaml: its functions, their routes and environments, and its tables.

The template is the single source of truth: the local stack, the tests and the OpenAPI document
take routes and table schemas from here, never from a second list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from local_stack import LOCAL_STACK_NAME, ROOT, TEMPLATE


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form intrinsics (!Ref, !Sub, !GetAtt, ...)."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@lru_cache(maxsize=4)
def load(path: Path = TEMPLATE) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass  # nosec B506


@dataclass(frozen=True)
class Route:
    method: str  # upper case
    path: str  # API Gateway resource path, e.g. /patients/{patient_id}
    authorized: bool  # False where the event says Auth.Authorizer: NONE

    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        return re.compile(f"^{regex}$")


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_dir: Path
    module: str  # e.g. "app"
    handler: str  # e.g. "lambda_handler"
    routes: tuple[Route, ...]
    environment: dict[str, str] = field(default_factory=dict)
    timeout: int = 10


@dataclass(frozen=True)
class Table:
    logical_id: str
    name: str
    properties: dict[str, Any]


def _globals(template: dict[str, Any]) -> dict[str, Any]:
    return (template.get("Globals") or {}).get("Function") or {}


def table_name(logical_id: str, template: dict[str, Any] | None = None) -> str:
    template = template or load()
    properties = template["Resources"][logical_id].get("Properties") or {}
    explicit = properties.get("TableName")
    if isinstance(explicit, str):
        return explicit
    return f"{LOCAL_STACK_NAME}-{logical_id}"


def resolve(value: Any, template: dict[str, Any] | None = None) -> Any:
    """Resolve intrinsics the way the local stack needs: tables to local names, parameters to
    defaults, anything else to a readable placeholder."""
    template = template or load()
    resources = template.get("Resources", {})
    parameters = template.get("Parameters", {})
    if isinstance(value, dict) and len(value) == 1:
        (key, arg), = value.items()
        if key == "Ref":
            if arg in parameters:
                return str(parameters[arg].get("Default", ""))
            if arg in resources and resources[arg]["Type"] == "AWS::DynamoDB::Table":
                return table_name(arg, template)
            if arg == "AWS::StackName":
                return LOCAL_STACK_NAME
            if arg == "AWS::Region":
                return "us-east-1"
            return f"local-{arg}"
        if key == "Fn::Sub":
            text = arg if isinstance(arg, str) else arg[0]
            return re.sub(r"\$\{([^}!]+)\}", lambda m: str(resolve({"Ref": m.group(1).split(".")[0]}, template)), text)
        if key == "Fn::GetAtt":
            return f"local-{'.'.join(arg)}"
    if isinstance(value, dict):
        return {k: resolve(v, template) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, template) for v in value]
    return value


def functions(template: dict[str, Any] | None = None) -> list[Function]:
    template = template or load()
    global_props = _globals(template)
    global_env = (global_props.get("Environment") or {}).get("Variables") or {}
    result = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        module, handler = props.get("Handler", global_props.get("Handler", "app.lambda_handler")).rsplit(".", 1)
        routes = []
        for event in (props.get("Events") or {}).values():
            if event["Type"] != "Api":
                continue
            ev = event["Properties"]
            auth = (ev.get("Auth") or {}).get("Authorizer")
            routes.append(Route(method=ev["Method"].upper(), path=ev["Path"], authorized=auth != "NONE"))
        env = {**global_env, **((props.get("Environment") or {}).get("Variables") or {})}
        resolved_env = {k: str(resolve(v, template)) for k, v in env.items()}
        result.append(Function(
            logical_id=logical_id,
            code_dir=ROOT / props["CodeUri"],
            module=module,
            handler=handler,
            routes=tuple(routes),
            environment=resolved_env,
            timeout=int(props.get("Timeout", global_props.get("Timeout", 3))),
        ))
    return result


def function(logical_id: str) -> Function:
    for candidate in functions():
        if candidate.logical_id == logical_id:
            return candidate
    raise KeyError(f"no function {logical_id} in template.yaml")


def tables(template: dict[str, Any] | None = None) -> list[Table]:
    template = template or load()
    return [
        Table(logical_id=lid, name=table_name(lid, template), properties=res.get("Properties") or {})
        for lid, res in template["Resources"].items()
        if res["Type"] == "AWS::DynamoDB::Table"
    ]


def layer_dirs(template: dict[str, Any] | None = None) -> list[Path]:
    template = template or load()
    return [
        ROOT / res["Properties"]["ContentUri"]
        for res in template["Resources"].values()
        if res["Type"] == "AWS::Serverless::LayerVersion"
    ]
