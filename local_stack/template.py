"""Read template.yaml: its functions (routes, environments, and the background event sources:
DynamoDB streams, EventBridge rules, schedules), its tables, event buses and schedule groups.

The template is the single source of truth: the local stack, the tests and the OpenAPI document
take routes, table schemas, consumers, rules and schedules from here, never from a second list.
Paths in it (CodeUri, ContentUri) are relative to the template's folder, as for ``sam``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from local_stack import ACCOUNT, LOCAL_STACK_NAME, REGION, TEMPLATE, patterns


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


class TemplateError(ValueError):
    """A declaration the local stack cannot run (and, mostly, that AWS would refuse too)."""


@lru_cache(maxsize=4)
def load(path: Path = TEMPLATE) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass  # nosec B506


BASE = TEMPLATE.parent  # CodeUri and ContentUri are relative to the template's folder
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")


@dataclass(frozen=True)
class Route:
    method: str  # upper case
    path: str  # API Gateway resource path, e.g. /patients/{patient_id}
    authorized: bool  # False where the event says Auth.Authorizer: NONE

    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        return re.compile(f"^{regex}$")


@dataclass(frozen=True)
class StreamSource:
    """A SAM ``Type: DynamoDB`` event source: an event source mapping on a table's stream."""

    name: str  # the event's key under the function's Events
    table: str  # the table's logical id
    starting_position: str  # TRIM_HORIZON | LATEST
    batch_size: int = 100
    batching_window_s: float = 0.0
    max_retries: int = -1  # -1: until it succeeds (capped locally, see local_stack/streams.py)
    bisect: bool = False
    report_item_failures: bool = False  # FunctionResponseTypes: [ReportBatchItemFailures]
    on_failure: str | None = None  # DestinationConfig.OnFailure.Destination
    filters: tuple[dict[str, Any], ...] = ()  # FilterCriteria patterns (any may match)
    enabled: bool = True


@dataclass(frozen=True)
class Rule:
    """An EventBridge rule with this function as a target (SAM EventBridgeRule or AWS::Events::Rule)."""

    name: str
    function: str
    bus: str  # the bus's name; "default" for the default bus
    pattern: dict[str, Any]
    input: str | None = None  # a target's constant Input (JSON text) replaces the event
    input_path: str | None = None  # a target's InputPath ($.detail ...) selects part of it
    enabled: bool = True


@dataclass(frozen=True)
class Schedule:
    """A schedule declared in the template with this function as its target: a SAM ``Schedule``
    (an EventBridge scheduled rule: the function gets the envelope) or ``ScheduleV2`` /
    AWS::Scheduler::Schedule (EventBridge Scheduler: the function gets ``Input``, or ``{}``)."""

    name: str
    function: str
    expression: str  # rate(...), cron(...) or at(...)
    kind: str = "scheduler"  # "rule" | "scheduler"
    timezone: str = "UTC"
    input: str | None = None
    group: str = "default"
    enabled: bool = True


@dataclass(frozen=True)
class AsyncConfig:
    """What Lambda does when an asynchronous invocation (EventBridge, Scheduler) raises:
    the function's EventInvokeConfig (retries 0-2, default 2) and where the event then goes."""

    max_retries: int = 2
    on_failure: str | None = None  # EventInvokeConfig OnFailure destination, or DeadLetterQueue's TargetArn


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_dir: Path
    module: str  # e.g. "app"
    handler: str  # e.g. "lambda_handler"
    routes: tuple[Route, ...]
    environment: dict[str, str] = field(default_factory=dict)
    timeout: int = 10
    streams: tuple[StreamSource, ...] = ()
    rules: tuple[Rule, ...] = ()
    schedules: tuple[Schedule, ...] = ()
    async_config: AsyncConfig = AsyncConfig()

    @property
    def arn(self) -> str:
        return function_arn(self.logical_id)


@dataclass(frozen=True)
class Table:
    logical_id: str
    name: str
    properties: dict[str, Any]


def _globals(template: dict[str, Any]) -> dict[str, Any]:
    return (template.get("Globals") or {}).get("Function") or {}


def table_name(logical_id: str, template: dict[str, Any] | None = None) -> str:
    # Only a literal TableName is used: a computed one (!Sub ...) stays clinic-local-<LogicalId>, the
    # name local stores and tests have always had.
    template = template or load()
    explicit = (template["Resources"][logical_id].get("Properties") or {}).get("TableName")
    if isinstance(explicit, str):
        return explicit
    return f"{LOCAL_STACK_NAME}-{logical_id}"


def _resource_name(logical_id: str, key: str, template: dict[str, Any]) -> str:
    properties = template["Resources"][logical_id].get("Properties") or {}
    explicit = resolve(properties.get(key), template) if key in properties else None
    if isinstance(explicit, str) and explicit:
        return explicit
    return f"{LOCAL_STACK_NAME}-{logical_id}"


def function_arn(logical_id: str) -> str:
    """Locally a function's name is its logical id (AWS_LAMBDA_FUNCTION_NAME says so too)."""
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_id}"


def function_for_arn(arn: str, template: dict[str, Any] | None = None) -> str | None:
    """The logical id of the template function an ARN (or a plain name) points at, if any."""
    if not isinstance(arn, str):
        return None
    name = arn.split(":function:", 1)[1].split(":", 1)[0] if ":function:" in arn else arn
    resources = (template or load())["Resources"]
    resource = resources.get(name)
    return name if resource and resource["Type"] in FUNCTION_TYPES else None


def _ref(logical_id: str, template: dict[str, Any]) -> Any:
    resource = template["Resources"][logical_id]
    kind = resource["Type"]
    if kind == "AWS::DynamoDB::Table":
        return table_name(logical_id, template)
    if kind in FUNCTION_TYPES:
        return logical_id
    if kind == "AWS::SQS::Queue":
        return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{_resource_name(logical_id, 'QueueName', template)}"
    if kind == "AWS::SNS::Topic":
        return f"arn:aws:sns:{REGION}:{ACCOUNT}:{_resource_name(logical_id, 'TopicName', template)}"
    if kind == "AWS::Events::EventBus":
        return _resource_name(logical_id, "Name", template)
    if kind == "AWS::Scheduler::ScheduleGroup":
        return _resource_name(logical_id, "Name", template)
    if kind == "AWS::Cognito::UserPool":  # "<region>_<id>", as Cognito's: local tokens name it in iss
        return f"{REGION}_{logical_id}"
    if kind == "AWS::KMS::Key":  # a key id is a UUID: a stable one per stack and key
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{LOCAL_STACK_NAME}/{logical_id}"))
    return f"local-{logical_id}"


def _get_att(logical_id: str, attribute: str, template: dict[str, Any]) -> Any:
    resource = template["Resources"].get(logical_id)
    kind = resource["Type"] if resource else None
    if kind in FUNCTION_TYPES and attribute == "Arn":
        return function_arn(logical_id)
    if kind in FUNCTION_TYPES and attribute == "Alias":  # ${XFunction.Alias}: AutoPublishAlias's ARN
        alias = (resource.get("Properties") or {}).get("AutoPublishAlias") or _globals(template).get(
            "AutoPublishAlias", "live"
        )
        return f"{function_arn(logical_id)}:{alias}"
    if kind == "AWS::DynamoDB::Table":
        arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table_name(logical_id, template)}"
        if attribute == "Arn":
            return arn
        if attribute == "StreamArn":
            return f"{arn}/stream/local"  # the real one is DescribeTable's LatestStreamArn, read at run time
    if kind == "AWS::SQS::Queue":
        name = _resource_name(logical_id, "QueueName", template)
        value = {
            "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}",
            "QueueName": name,
            "QueueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}",
        }.get(attribute)
        if value:
            return value
    if kind == "AWS::SNS::Topic" and attribute in ("TopicArn", "TopicName"):
        name = _resource_name(logical_id, "TopicName", template)
        return name if attribute == "TopicName" else f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"
    if kind == "AWS::Events::EventBus" and attribute in ("Arn", "Name"):
        name = _resource_name(logical_id, "Name", template)
        return name if attribute == "Name" else f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name}"
    if kind == "AWS::Scheduler::ScheduleGroup" and attribute == "Arn":
        return f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/{_resource_name(logical_id, 'Name', template)}"
    if kind == "AWS::IAM::Role" and attribute == "Arn":
        return f"arn:aws:iam::{ACCOUNT}:role/{logical_id}"
    if kind == "AWS::KMS::Key" and attribute in ("Arn", "KeyId"):
        key_id = _ref(logical_id, template)
        return key_id if attribute == "KeyId" else f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}"
    return f"local-{logical_id}.{attribute}"


_PSEUDO = {
    "AWS::StackName": LOCAL_STACK_NAME,
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}


def resolve(value: Any, template: dict[str, Any] | None = None) -> Any:
    """Resolve intrinsics the way the local stack needs: tables to local names, functions, queues,
    buses and schedule groups to local names and ARNs (``!GetAtt XFunction.Arn`` is
    ``arn:aws:lambda:us-east-1:000000000000:function:XFunction``), parameters to defaults, anything
    else to a readable placeholder."""
    template = template or load()
    resources = template.get("Resources", {})
    parameters = template.get("Parameters") or {}
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            if arg in parameters:
                return str(parameters[arg].get("Default", ""))
            if arg in _PSEUDO:
                return _PSEUDO[arg]
            if arg in resources:
                return _ref(arg, template)
            return f"local-{arg}"
        if key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1] if len(arg) > 1 else {})

            def substitute(match: re.Match[str]) -> str:
                name = match.group(1)
                if name in variables:
                    return str(resolve(variables[name], template))
                if "." in name and not name.startswith("AWS::"):
                    return str(resolve({"Fn::GetAtt": name.split(".", 1)}, template))
                return str(resolve({"Ref": name}, template))

            return re.sub(r"\$\{([^}!]+)\}", substitute, text).replace("${!", "${")
        if key == "Fn::GetAtt":
            logical_id, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
            return _get_att(logical_id, attribute, template)
        if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
            return str(arg[0]).join(str(resolve(part, template)) for part in arg[1])
    if isinstance(value, dict):
        return {k: resolve(v, template) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, template) for v in value]
    return value


def bus_name(value: Any) -> str:
    """A bus given by name or ARN, as its name ("default" when absent)."""
    if not value:
        return "default"
    text = str(value)
    return text.split(":event-bus/", 1)[1] if ":event-bus/" in text else text


def _enabled(props: dict[str, Any]) -> bool:
    if props.get("Enabled") is False:
        return False
    return str(props.get("State", "ENABLED")).upper() == "ENABLED"


def _stream_source(where: str, name: str, raw: dict[str, Any], template: dict[str, Any]) -> StreamSource:
    resources = template["Resources"]
    stream = raw.get("Stream")
    table = None
    if isinstance(stream, dict) and "Fn::GetAtt" in stream:
        target = stream["Fn::GetAtt"]
        logical_id, attribute = target if isinstance(target, list) else str(target).split(".", 1)
        if attribute == "StreamArn":
            table = logical_id
    elif isinstance(stream, str) and ":table/" in stream:
        wanted = stream.split(":table/", 1)[1].split("/", 1)[0]
        table = next((t.logical_id for t in tables(template) if t.name == wanted), None)
    if table not in resources or resources[table]["Type"] != "AWS::DynamoDB::Table":
        raise TemplateError(f"{where}: Stream must be !GetAtt <Table>.StreamArn of a table in the template")
    if not (resources[table].get("Properties") or {}).get("StreamSpecification"):
        raise TemplateError(f"{where}: table {table} has no StreamSpecification")
    props = resolve(raw, template)
    position = str(props.get("StartingPosition", "")).upper()
    if position not in ("TRIM_HORIZON", "LATEST"):
        raise TemplateError(
            f"{where}: StartingPosition must be TRIM_HORIZON or LATEST (AT_TIMESTAMP is not supported locally)"
        )
    try:
        filters = tuple(
            patterns.parse(f.get("Pattern")) for f in (props.get("FilterCriteria") or {}).get("Filters") or []
        )
    except patterns.PatternError as error:
        raise TemplateError(f"{where}: FilterCriteria: {error}") from None
    on_failure = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    return StreamSource(
        name=name,
        table=table,
        starting_position=position,
        batch_size=int(props.get("BatchSize", 100)),
        batching_window_s=float(props.get("MaximumBatchingWindowInSeconds", 0)),
        max_retries=int(props.get("MaximumRetryAttempts", -1)),
        bisect=bool(props.get("BisectBatchOnFunctionError", False)),
        report_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
        on_failure=on_failure,
        filters=filters,
        enabled=props.get("Enabled", True) is not False,
    )


def _pattern(where: str, pattern: Any) -> dict[str, Any]:
    try:
        return patterns.parse(pattern)
    except patterns.PatternError as error:
        raise TemplateError(f"{where}: {error}") from None


def _events(logical_id: str, props: dict[str, Any], template: dict[str, Any]):
    routes, streams, rules, schedules = [], [], [], []
    for name, event in (props.get("Events") or {}).items():
        kind, raw = event["Type"], event.get("Properties") or {}
        where = f"{logical_id}.Events.{name}"
        if kind == "Api":
            auth = (raw.get("Auth") or {}).get("Authorizer")
            routes.append(Route(method=raw["Method"].upper(), path=raw["Path"], authorized=auth != "NONE"))
        elif kind == "DynamoDB":
            streams.append(_stream_source(where, name, raw, template))
        elif kind in ("EventBridgeRule", "CloudWatchEvent"):
            ev = resolve(raw, template)
            rules.append(
                Rule(
                    name=str(ev.get("RuleName") or f"{logical_id}{name}"),
                    function=logical_id,
                    bus=bus_name(ev.get("EventBusName")),
                    pattern=_pattern(where, ev.get("Pattern")),
                    input=ev.get("Input"),
                    input_path=ev.get("InputPath"),
                    enabled=_enabled(ev),
                )
            )
        elif kind in ("Schedule", "ScheduleV2"):
            ev = resolve(raw, template)
            v2 = kind == "ScheduleV2"
            schedules.append(
                Schedule(
                    name=str(ev.get("Name") or f"{logical_id}{name}"),
                    function=logical_id,
                    expression=str(ev["ScheduleExpression"] if v2 else ev["Schedule"]),
                    kind="scheduler" if v2 else "rule",
                    timezone=str(ev.get("ScheduleExpressionTimezone") or "UTC"),
                    input=ev.get("Input"),
                    group=str(ev.get("GroupName") or "default"),
                    enabled=_enabled(ev),
                )
            )
    return routes, streams, rules, schedules


def _resource_targets(template: dict[str, Any]):
    """Rules and schedules declared as resources (AWS::Events::Rule, AWS::Scheduler::Schedule)
    whose targets are template functions: {function logical id: ([Rule], [Schedule])}."""
    found: dict[str, tuple[list[Rule], list[Schedule]]] = {}
    for logical_id, resource in template["Resources"].items():
        kind = resource["Type"]
        if kind == "AWS::Events::Rule":
            props = resolve(resource.get("Properties") or {}, template)
            for target in props.get("Targets") or []:
                function = function_for_arn(target.get("Arn"), template)
                if function is None:
                    continue  # a queue, a topic...: not run locally
                rules, schedules = found.setdefault(function, ([], []))
                if props.get("ScheduleExpression"):
                    schedules.append(
                        Schedule(
                            name=str(props.get("Name") or logical_id),
                            function=function,
                            expression=str(props["ScheduleExpression"]),
                            kind="rule",
                            input=target.get("Input"),
                            enabled=_enabled(props),
                        )
                    )
                if props.get("EventPattern"):
                    rules.append(
                        Rule(
                            name=str(props.get("Name") or logical_id),
                            function=function,
                            bus=bus_name(props.get("EventBusName")),
                            pattern=_pattern(f"{logical_id}.EventPattern", props["EventPattern"]),
                            input=target.get("Input"),
                            input_path=target.get("InputPath"),
                            enabled=_enabled(props),
                        )
                    )
        elif kind == "AWS::Scheduler::Schedule":
            props = resolve(resource.get("Properties") or {}, template)
            target = props.get("Target") or {}
            function = function_for_arn(target.get("Arn"), template)
            if function is None:
                continue
            found.setdefault(function, ([], []))[1].append(
                Schedule(
                    name=str(props.get("Name") or logical_id),
                    function=function,
                    expression=str(props["ScheduleExpression"]),
                    kind="scheduler",
                    timezone=str(props.get("ScheduleExpressionTimezone") or "UTC"),
                    input=target.get("Input"),
                    group=str(props.get("GroupName") or "default"),
                    enabled=_enabled(props),
                )
            )
    return found


def _async_config(props: dict[str, Any], global_props: dict[str, Any], template: dict[str, Any]) -> AsyncConfig:
    config = resolve(props.get("EventInvokeConfig") or global_props.get("EventInvokeConfig") or {}, template)
    dead_letter = resolve(props.get("DeadLetterQueue") or global_props.get("DeadLetterQueue") or {}, template)
    on_failure = ((config.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    return AsyncConfig(
        max_retries=int(config.get("MaximumRetryAttempts", 2)), on_failure=on_failure or dead_letter.get("TargetArn")
    )


def functions(template: dict[str, Any] | None = None) -> list[Function]:
    template = template or load()
    global_props = _globals(template)
    global_env = (global_props.get("Environment") or {}).get("Variables") or {}
    targets = _resource_targets(template)
    result = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        module, handler = props.get("Handler", global_props.get("Handler", "app.lambda_handler")).rsplit(".", 1)
        routes, streams, rules, schedules = _events(logical_id, props, template)
        extra_rules, extra_schedules = targets.get(logical_id, ([], []))
        env = {**global_env, **((props.get("Environment") or {}).get("Variables") or {})}
        resolved_env = {k: str(resolve(v, template)) for k, v in env.items()}
        result.append(
            Function(
                logical_id=logical_id,
                code_dir=BASE / props.get("CodeUri", global_props.get("CodeUri", "")),
                module=module,
                handler=handler,
                routes=tuple(routes),
                environment=resolved_env,
                timeout=int(props.get("Timeout", global_props.get("Timeout", 3))),
                streams=tuple(streams),
                rules=tuple(rules + extra_rules),
                schedules=tuple(schedules + extra_schedules),
                async_config=_async_config(props, global_props, template),
            )
        )
    return result


def global_environment(template: dict[str, Any] | None = None) -> dict[str, str]:
    """The variables the template's Globals give every function, resolved as the functions get them."""
    template = template or load()
    variables = (_globals(template).get("Environment") or {}).get("Variables") or {}
    return {name: str(resolve(value, template)) for name, value in variables.items()}


def function(logical_id: str) -> Function:
    for candidate in functions():
        if candidate.logical_id == logical_id:
            return candidate
    raise KeyError(f"no function {logical_id} in {TEMPLATE.name}")


def tables(template: dict[str, Any] | None = None) -> list[Table]:
    template = template or load()
    return [
        Table(logical_id=lid, name=table_name(lid, template), properties=res.get("Properties") or {})
        for lid, res in template["Resources"].items()
        if res["Type"] == "AWS::DynamoDB::Table"
    ]


def buses(template: dict[str, Any] | None = None) -> list[str]:
    """The event buses PutEvents accepts: the default bus and every AWS::Events::EventBus."""
    template = template or load()
    return [
        "default",
        *(
            _resource_name(lid, "Name", template)
            for lid, res in template["Resources"].items()
            if res["Type"] == "AWS::Events::EventBus"
        ),
    ]


def schedule_groups(template: dict[str, Any] | None = None) -> list[str]:
    """The default schedule group and every AWS::Scheduler::ScheduleGroup."""
    template = template or load()
    return [
        "default",
        *(
            _resource_name(lid, "Name", template)
            for lid, res in template["Resources"].items()
            if res["Type"] == "AWS::Scheduler::ScheduleGroup"
        ),
    ]


def rules(template: dict[str, Any] | None = None) -> list[Rule]:
    return [rule for f in functions(template) for rule in f.rules]


def schedules(template: dict[str, Any] | None = None) -> list[Schedule]:
    return [schedule for f in functions(template) for schedule in f.schedules]


def layer_dirs(template: dict[str, Any] | None = None) -> list[Path]:
    template = template or load()
    return [
        BASE / res["Properties"]["ContentUri"]
        for res in template["Resources"].values()
        if res["Type"] == "AWS::Serverless::LayerVersion"
    ]
