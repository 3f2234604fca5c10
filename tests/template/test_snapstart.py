"""SnapStart on every function, and nothing invoking an unpublished $LATEST: after SAM's transform,
the API, the event source mappings, the rules' targets and the scheduler's targets all name the
"live" alias of a published version (SnapStart only ever runs published versions)."""

from __future__ import annotations

import json

from clinic import routes, workers

FUNCTIONS = sorted({r.logical_id for r in routes.ROUTES} | {w.logical_id for w in workers.WORKERS})


def alias_of(function: str) -> dict:
    return {"Ref": f"{function}Aliaslive"}


def test_every_function_publishes_a_version_snapshotted_by_snapstart_behind_the_live_alias(translated):
    for function in FUNCTIONS:
        assert translated[function]["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}, function
        alias = translated[f"{function}Aliaslive"]
        assert alias["Type"] == "AWS::Lambda::Alias" and alias["Properties"]["Name"] == "live"
        version = alias["Properties"]["FunctionVersion"]["Fn::GetAtt"][0]
        assert translated[version]["Type"] == "AWS::Lambda::Version"


def test_given_the_api_then_every_integration_and_permission_invokes_the_alias(translated):
    paths = translated["ClinicApi"]["Properties"]["Body"]["paths"]
    integrations = [
        operation["x-amazon-apigateway-integration"]
        for methods in paths.values()
        for operation in methods.values()
        if isinstance(operation, dict) and "x-amazon-apigateway-integration" in operation
    ]
    uris = [i["uri"]["Fn::Sub"] for i in integrations if i.get("type") == "aws_proxy"]  # (CORS preflights: mock)
    assert len(uris) == len(routes.ROUTES)
    assert uris and all("Aliaslive}" in uri for uri in uris), [u for u in uris if "Aliaslive}" not in u]
    permissions = [r["Properties"] for r in translated.values() if r["Type"] == "AWS::Lambda::Permission"]
    assert permissions and all(p["FunctionName"]["Ref"].endswith("Aliaslive") for p in permissions)


def test_given_the_background_functions_then_streams_rules_and_the_scheduler_invoke_the_alias(translated):
    mappings = [
        r["Properties"]["FunctionName"] for r in translated.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"
    ]
    targets = [
        t["Arn"] for r in translated.values() if r["Type"] == "AWS::Events::Rule" for t in r["Properties"]["Targets"]
    ]
    assert mappings and targets
    assert all(m["Ref"].endswith("Aliaslive") for m in mappings + targets), mappings + targets
    # the schedules the code creates: their target ARNs, and the role the scheduler invokes them with
    variables = translated["ScheduleTimersFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["REMINDER_TARGET_ARN"] == {"Fn::Sub": "${SendReminderFunctionAliaslive}"}
    assert variables["HOLD_EXPIRY_TARGET_ARN"] == {"Fn::Sub": "${ExpireHoldFunctionAliaslive}"}
    statements = translated["SchedulerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    invoke = next(s for s in statements if s["Action"] == "lambda:InvokeFunction")
    assert invoke["Resource"] == [alias_of("SendReminderFunction"), alias_of("ExpireHoldFunction")]


def test_asynchronous_failures_are_configured_on_the_alias_that_is_invoked(translated):
    configs = [r["Properties"] for r in translated.values() if r["Type"] == "AWS::Lambda::EventInvokeConfig"]
    assert configs and all(c["Qualifier"] == "live" for c in configs), json.dumps(configs)[:500]
