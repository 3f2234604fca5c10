"""Operations as code: the dashboard shows what the code emits, the alarms can deploy and act, and
every alarm has its runbook section.

The business metrics are read from the code (every ``count("Name", **dims)`` call in layers/ and
functions/, plus Powertools' ColdStart), never from a list kept here: a new ``count(...)`` without
a dashboard line fails this file.
"""

from __future__ import annotations

import ast
import json
import re
import typing
from dataclasses import dataclass
from pathlib import Path

import pytest

from local_stack import ROOT
from local_stack import template as tpl

SOURCES = (ROOT / "layers", ROOT / "functions")
RUNBOOK = ROOT / "docs" / "runbook.md"
ALARM_TYPES = ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")


# ------------------------------------------------------------------ what the code emits
@dataclass(frozen=True)
class Emitted:
    name: str
    dimensions: tuple[tuple[str, str | None], ...]  # (key, literal value or None when computed)
    where: str


def _python_files() -> list[Path]:
    return sorted(p for folder in SOURCES for p in folder.rglob("*.py") if ".aws-sam" not in p.parts)


def emitted_metrics() -> list[Emitted]:
    found = []
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            is_count = (isinstance(func, ast.Name) and func.id == "count") or (
                isinstance(func, ast.Attribute)
                and func.attr == "count"
                and isinstance(func.value, ast.Name)
                and func.value.id in ("observability", "obs")
            )
            if not is_count or not node.args or not isinstance(node.args[0], ast.Constant):
                continue
            if not isinstance(node.args[0].value, str):
                continue
            dims = tuple(
                sorted(
                    (k.arg, k.value.value if isinstance(k.value, ast.Constant) else None)
                    for k in node.keywords
                    if k.arg
                )
            )
            found.append(Emitted(node.args[0].value, dims, f"{path.relative_to(ROOT)}:{node.lineno}"))
        # Powertools' cold-start metric: ColdStart with function_name and service.
        if re.search(r"capture_cold_start_metric\s*=\s*True", path.read_text(encoding="utf-8")):
            found.append(Emitted("ColdStart", (("function_name", None),), str(path.relative_to(ROOT))))
    return found


def emitted_names() -> set[str]:
    return {m.name for m in emitted_metrics()}


# ------------------------------------------------------------------ the dashboard
@dataclass(frozen=True)
class Line:
    namespace: str
    name: str
    dimensions: dict[str, str]
    options: dict


def resources() -> dict:
    return tpl.load()["Resources"]


def of_type(kind: str) -> dict[str, dict]:
    return {k: v for k, v in resources().items() if v["Type"] == kind}


def dashboard_body() -> dict:
    (dashboard,) = of_type("AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    assert set(body) == {"Fn::Sub"} and isinstance(body["Fn::Sub"], str), "DashboardBody is one !Sub JSON string"
    return json.loads(body["Fn::Sub"])


def dashboard_lines() -> list[Line]:
    lines = []
    for widget in dashboard_body()["widgets"]:
        for metric in (widget.get("properties") or {}).get("metrics", []):
            if not isinstance(metric[0], str):
                continue  # an expression
            options = metric[-1] if isinstance(metric[-1], dict) else {}
            plain = [m for m in metric if isinstance(m, str)]
            assert "." not in plain, "no '.' shorthand: every line names its metric in full"
            namespace, name, rest = plain[0], plain[1], plain[2:]
            assert len(rest) % 2 == 0, metric
            lines.append(Line(namespace, name, dict(zip(rest[::2], rest[1::2], strict=True)), options))
    return lines


def function_ids() -> list[str]:
    return [f.logical_id for f in tpl.functions()]


def table_ids() -> list[str]:
    return list(of_type("AWS::DynamoDB::Table"))


def function_env() -> dict:
    return tpl.load()["Globals"]["Function"]["Environment"]["Variables"]


def custom_lines() -> list[Line]:
    return [line for line in dashboard_lines() if line.namespace == function_env()["POWERTOOLS_METRICS_NAMESPACE"]]


def test_given_the_code_when_scanned_then_it_emits_business_metrics():
    # Guards the scanner itself: if this finds nothing, the two tests below prove nothing.
    names = emitted_names()
    assert {"AppointmentBooked", "BookingConflict", "ColdStart"} <= names, names


def test_every_metric_the_code_emits_is_on_the_dashboard():
    on_dashboard = {line.name for line in custom_lines()}
    missing = sorted(m.where + " " + m.name for m in emitted_metrics() if m.name not in on_dashboard)
    assert not missing, f"emitted but not on the dashboard: {missing}"


def test_every_custom_metric_on_the_dashboard_is_emitted_by_the_code():
    stale = sorted({line.name for line in custom_lines()} - emitted_names())
    assert not stale, f"on the dashboard but emitted nowhere: {stale}"


def test_custom_metric_lines_carry_the_dimensions_the_code_emits():
    service = function_env()["POWERTOOLS_SERVICE_NAME"]
    by_name: dict[str, set[str]] = {}
    values: dict[tuple[str, str], set[str]] = {}
    for metric in emitted_metrics():
        by_name.setdefault(metric.name, set()).update(k for k, _ in metric.dimensions)
        for key, value in metric.dimensions:
            if value is not None:
                values.setdefault((metric.name, key), set()).add(value)
    for line in custom_lines():
        # Powertools adds `service` to every metric; count(...) adds its keyword dimensions.
        assert set(line.dimensions) == {"service"} | by_name[line.name], line
        assert line.dimensions["service"] == service, line
    for (name, key), wanted in values.items():
        shown = {line.dimensions[key] for line in custom_lines() if line.name == name}
        assert wanted <= shown, f"{name} by {key}: the code emits {sorted(wanted)}, the dashboard shows {sorted(shown)}"


def test_status_changes_are_shown_for_every_status_a_patch_can_set():
    from clinic.models.appointments import StatusChange

    shown = {line.dimensions.get("status") for line in custom_lines() if line.name == "AppointmentStatusChanged"}
    assert set(typing.get_args(StatusChange)) <= shown


def test_cold_starts_are_shown_per_function():
    shown = {line.dimensions["function_name"] for line in custom_lines() if line.name == "ColdStart"}
    assert shown == {f"${{{f}}}" for f in function_ids()}


def test_every_function_has_errors_throttles_duration_and_concurrency():
    for metric in ("Errors", "Throttles", "Duration", "ConcurrentExecutions"):
        shown = {
            line.dimensions.get("FunctionName")
            for line in dashboard_lines()
            if line.namespace == "AWS/Lambda" and line.name == metric
        }
        assert shown == {f"${{{f}}}" for f in function_ids()}, metric
    assert len(function_ids()) >= 17


def test_every_table_has_throttles_errors_capacity_and_conflicts():
    for metric in (
        "ThrottledRequests",
        "SystemErrors",
        "ConsumedReadCapacityUnits",
        "ConsumedWriteCapacityUnits",
        "TransactionConflict",
    ):
        shown = {
            line.dimensions.get("TableName")
            for line in dashboard_lines()
            if line.namespace == "AWS/DynamoDB" and line.name == metric
        }
        assert shown == {f"${{{t}}}" for t in table_ids()}, metric


def test_api_requests_errors_and_latency_percentiles_use_the_apis_name_and_stage():
    api = resources()["ClinicApi"]["Properties"]
    assert api["Name"] == {"Fn::Sub": "${AWS::StackName}-api"}
    lines = [line for line in dashboard_lines() if line.namespace == "AWS/ApiGateway"]
    assert {line.name for line in lines} >= {"Count", "4XXError", "5XXError", "Latency"}
    for line in lines:
        assert line.dimensions == {"ApiName": "${AWS::StackName}-api", "Stage": "${Stage}"}, line
    stats = {line.options.get("stat") for line in lines if line.name == "Latency"}
    assert {"p50", "p90", "p99"} <= stats


# ------------------------------------------------------------------ alarms
def alarms() -> dict[str, dict]:
    return {k: v for k, v in resources().items() if v["Type"] in ALARM_TYPES}


def refs(value) -> set[str]:
    """Logical ids a property refers to (Ref, GetAtt, and ${X} inside Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0])
            elif key == "Fn::Sub":
                text = inner if isinstance(inner, str) else inner[0]
                found |= set(re.findall(r"\$\{([A-Za-z0-9]+)[}.]", text))
            found |= refs(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= refs(inner)
    return found


def test_the_alarm_topic_is_encrypted_with_the_data_key_and_the_email_is_optional():
    topic = resources()["AlarmTopic"]
    assert topic["Type"] == "AWS::SNS::Topic"
    assert topic["Properties"]["KmsMasterKeyId"] == {"Ref": "DataKey"}
    parameter = tpl.load()["Parameters"]["AlarmEmail"]
    assert parameter["Default"] == ""
    assert "HasAlarmEmail" in tpl.load()["Conditions"]


def test_every_alarm_notifies_the_topic_or_feeds_a_composite_that_does():
    everything = alarms()
    composed = set().union(
        *(
            refs(a["Properties"]["AlarmRule"])
            for a in everything.values()
            if a["Type"] == "AWS::CloudWatch::CompositeAlarm"
        )
    )
    for logical_id, alarm in everything.items():
        props = alarm["Properties"]
        if props.get("ActionsEnabled") is False:
            assert logical_id in composed, f"{logical_id} has no actions and feeds no composite alarm"
            continue
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}], logical_id
        assert props["OKActions"] == [{"Ref": "AlarmTopic"}], logical_id
    assert composed <= set(everything), "composite rules name alarms of this template"


def test_metric_math_alarms_respect_cloudwatch_limits():
    for logical_id, alarm in of_type("AWS::CloudWatch::Alarm").items():
        props = alarm["Properties"]
        queries = props["Metrics"]
        stats = [q for q in queries if "MetricStat" in q]
        assert len(stats) <= 10, f"{logical_id}: a metric-math alarm may reference at most 10 metrics"
        assert [q.get("ReturnData") for q in queries].count(True) == 1, logical_id
        for query in stats:
            window = query["MetricStat"]["Period"] * props["EvaluationPeriods"]
            assert window <= 86400, f"{logical_id}: Period x EvaluationPeriods must be at most one day"


def slo_windows(slo: str) -> dict[str, tuple[float, set[int]]]:
    """composite id → (threshold of its windows, window periods) for one SLO."""
    found = {}
    for logical_id, composite in of_type("AWS::CloudWatch::CompositeAlarm").items():
        if not logical_id.lower().startswith(slo):
            continue
        windows = [resources()[w]["Properties"] for w in refs(composite["Properties"]["AlarmRule"])]
        assert " AND " in composite["Properties"]["AlarmRule"]["Fn::Sub"]
        thresholds = {w["Threshold"] for w in windows}
        assert len(thresholds) == 1, logical_id
        periods = {q["MetricStat"]["Period"] for w in windows for q in w["Metrics"] if "MetricStat" in q}
        found[logical_id] = (thresholds.pop(), periods)
    return found


@pytest.mark.parametrize("slo", ["availability", "latency"])
def test_each_slo_pages_on_fast_burn_and_tickets_on_slow_burn(slo):
    # Google SRE Workbook: 14.4x over 1 h and 5 min pages; 6x over 6 h and 30 min opens a ticket.
    assert sorted(slo_windows(slo).values(), key=lambda v: -v[0]) == [(14.4, {3600, 300}), (6, {21600, 1800})]


def test_function_and_table_alarms_cover_every_function_and_table():
    def dimension_values(metric: str, name: str) -> set:
        values = set()
        for alarm in of_type("AWS::CloudWatch::Alarm").values():
            for query in alarm["Properties"]["Metrics"]:
                stat = query.get("MetricStat")
                if stat and stat["Metric"]["MetricName"] == metric:
                    values |= {json.dumps(d["Value"]) for d in stat["Metric"]["Dimensions"] if d["Name"] == name}
        return values

    functions = {json.dumps({"Ref": f}) for f in function_ids()}
    tables = {json.dumps({"Ref": t}) for t in table_ids()}
    assert dimension_values("Errors", "FunctionName") == functions
    assert dimension_values("Throttles", "FunctionName") == functions
    assert dimension_values("ThrottledRequests", "TableName") == tables


def runbook_headings() -> list[str]:
    return [line for line in RUNBOOK.read_text(encoding="utf-8").splitlines() if line.startswith("#")]


def runbook_section_of(alarm: dict) -> str:
    """The runbook section an alarm's description names ("Runbook: docs/runbook.md, section X.")."""
    found = re.search(r"docs/runbook\.md, section ([A-Za-z0-9]+)", alarm["Properties"]["AlarmDescription"])
    assert found, alarm["Properties"]["AlarmDescription"]
    return found.group(1)


def test_every_alarm_has_a_runbook_section_and_points_to_it():
    # (alarms of one family — e.g. the function errors of a large area, split in groups of ten — share
    # the family's section, so adding an endpoint never needs a new runbook section)
    headings = runbook_headings()
    for alarm in alarms().values():
        section = runbook_section_of(alarm)
        assert any(re.search(rf"\b{section}\b", h) for h in headings), f"docs/runbook.md has no section {section}"


def test_every_runbook_alarm_section_says_what_to_read_do_and_check():
    text = RUNBOOK.read_text(encoding="utf-8")
    sections = re.split(r"^## ", text, flags=re.M)[1:]
    for logical_id, alarm in alarms().items():
        name = runbook_section_of(alarm)
        (section,) = [s for s in sections if re.search(rf"\b{name}\b", s.splitlines()[0])] or [None]
        assert section, logical_id
        for part in ("What it means", "Dashboard", "First three things", "Recovered when"):
            assert part in section, f"{logical_id}: the runbook section lacks '{part}'"


def test_runbook_sections_name_widgets_the_dashboard_has():
    titles = {w["properties"]["title"] for w in dashboard_body()["widgets"] if "title" in w.get("properties", {})}
    named = set()
    for line in RUNBOOK.read_text(encoding="utf-8").splitlines():
        if line.startswith("**Dashboard**"):
            named |= set(re.findall(r'"([^"]+)"', line))
    assert named, "no **Dashboard** lines in the runbook"
    assert named <= titles, f"the runbook names widgets the dashboard lacks: {sorted(named - titles)}"
