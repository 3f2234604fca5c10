"""X-Ray tracing as Lambda runs it with the template's ``Tracing: Active``: the handler and every AWS call
traced, nothing of a response captured, and only botocore patched (clinic.observability).

Each check runs in a fresh interpreter (patching is process-wide and permanent), with what Lambda sets for
a traced function (LAMBDA_TASK_ROOT, a sampled _X_AMZN_TRACE_ID per invocation), a DynamoDB client answered
by botocore's Stubber, and the X-Ray SDK's emitter replaced by a list: no network.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import LAYER

PROBE = r"""
import json, os, sys
sys.path[:0] = [sys.argv[1]]
from clinic import observability
import boto3
from botocore.stub import Stubber

client = boto3.client("dynamodb", region_name="us-east-1")
stubber = Stubber(client)
stubber.add_response("get_item", {"Item": {"id": {"S": "p-1"}, "name": {"S": "Ada Patient"}}})
stubber.activate()


def get_patient(event, context):
    item = client.get_item(TableName="Patients", Key={"id": {"S": "p-1"}})["Item"]
    return {"statusCode": 200, "body": item["name"]["S"]}


handler = observability.handler_observed(get_patient)  # at import, as a function's module does
sent = []
if observability.tracing_enabled():
    from aws_xray_sdk.core import xray_recorder

    class Emitter:  # what the X-Ray daemon would receive, one document per subsegment
        def send_entity(self, entity):
            sent.append(json.loads(entity.serialize()))

        def set_daemon_address(self, address):
            pass

    xray_recorder.configure(emitter=Emitter())


class Context:
    function_name, function_version, memory_limit_in_mb = "GetPatientFunction", "$LATEST", 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:GetPatientFunction"
    aws_request_id = "request-1"


os.environ["_X_AMZN_TRACE_ID"] = "Root=1-65f00000-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1"
answer = handler({"requestContext": {"requestId": "api-request-1"}}, Context())
print(json.dumps({"answer": answer, "sent": sent, "modules": sorted(sys.modules)}))
"""


def run(**env: str) -> dict:
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_FUNCTION_NAME": "GetPatientFunction",
        "LAMBDA_TASK_ROOT": str(LAYER),
        "POWERTOOLS_SERVICE_NAME": "clinic-appointments",
        "POWERTOOLS_METRICS_NAMESPACE": "ClinicAppointments",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",  # the Stubber answers: nothing is signed for AWS
        "PYTHONDONTWRITEBYTECODE": "1",
        **env,
    }
    answer = subprocess.run(
        [sys.executable, "-c", PROBE, str(LAYER)], env=environment, capture_output=True, text=True, timeout=120
    )
    assert answer.returncode == 0, answer.stderr[-3000:]
    return json.loads(answer.stdout.strip().splitlines()[-1])


def test_a_traced_request_sends_the_handler_and_its_dynamodb_call_and_no_response():
    traced = run()
    assert traced["answer"]["statusCode"] == 200
    by_name = {document["name"]: document for document in traced["sent"]}
    assert set(by_name) == {"## get_patient", "dynamodb"}
    handler, call = by_name["## get_patient"], by_name["dynamodb"]
    assert handler["annotations"] == {"ColdStart": True, "Service": "clinic-appointments"}
    assert handler["trace_id"] == call["trace_id"] == "1-65f00000-0123456789abcdef01234567"
    assert handler["parent_id"] == "0123456789abcdef"  # Lambda's own segment, from the trace header
    assert call["parent_id"] == handler["id"]
    assert (call["namespace"], call["aws"]["operation"], call["aws"]["table_name"]) == ("aws", "GetItem", "Patients")
    assert "Ada Patient" not in json.dumps(traced["sent"])  # neither the response nor the item is captured
    assert "metadata" not in handler


def test_tracing_patches_botocore_alone():
    """Powertools' default (patch_all) would import or probe sqlite3, http.client, requests, httpx... at init."""
    modules = run()["modules"]
    patched = {m for m in modules if m.startswith("aws_xray_sdk.ext.") and m.count(".") == 2}
    assert patched == {"aws_xray_sdk.ext.botocore", "aws_xray_sdk.ext.boto_utils", "aws_xray_sdk.ext.util"}
    assert "sqlite3" not in modules


def test_without_tracing_nothing_of_x_ray_is_imported_or_sent():
    untraced = run(POWERTOOLS_TRACE_DISABLED="true")
    assert untraced["answer"]["statusCode"] == 200
    assert untraced["sent"] == []
    assert not [m for m in untraced["modules"] if m.startswith(("aws_xray_sdk", "wrapt"))]
