"""The local stack's background pieces, over real HTTP, boto3 and DynamoDB Local: stream consumers,
the event bus and its rules, schedules, retries and dead letters.

The real template declares none of them yet, so these run a stack of their own on a fixture
template (tests/integration/fixtures/events_template.yaml, LOCAL_TEMPLATE) whose tiny functions
write down what they receive in its ReceivedTable.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
import requests
from boto3.dynamodb.conditions import Key

from local_stack import ROOT, background

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TEMPLATE = FIXTURES / "events_template.yaml"
ITEMS, RECEIVED, BUS = "clinic-local-ItemsTable", "clinic-local-ReceivedTable", "clinic-local-events"
QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:clinic-local-EventsDeadLetterQueue"
CREDENTIALS = {"region_name": "us-east-1", "aws_access_key_id": "local", "aws_secret_access_key": "local"}  # nosec


class Fixture:
    def __init__(self, running: background.BackgroundStack) -> None:
        self.running, self.url = running, running.url
        self.dynamodb = boto3.resource("dynamodb", endpoint_url=running.dynamodb_endpoint, **CREDENTIALS)
        self.items, self.received = self.dynamodb.Table(ITEMS), self.dynamodb.Table(RECEIVED)
        self.events = boto3.client("events", endpoint_url=f"{self.url}/_aws/events", **CREDENTIALS)
        self.scheduler = boto3.client("scheduler", endpoint_url=f"{self.url}/_aws/scheduler", **CREDENTIALS)

    def got(self, pk: str) -> list[dict]:
        """What a fixture function wrote under pk, in sort-key order."""
        return self.received.query(KeyConditionExpression=Key("pk").eq(pk), ConsistentRead=True)["Items"]

    def invocations(self, function: str) -> list[list[str]]:
        return [list(i["ids"]) for i in self.got(f"{function}#invocations")]

    def dead_letters(self, function: str | None = None) -> list[dict]:
        items = requests.get(f"{self.url}/_local/dead-letters", timeout=10).json()["items"]
        return [i for i in items if function is None or i["function"] == function]

    def bus_events(self, query: str = "") -> list[dict]:
        return requests.get(f"{self.url}/_local/events{query}", timeout=10).json()["items"]


def wait_for(check, timeout: float = 10.0, interval: float = 0.2):
    """check() until it answers something truthy; fail with its last answer after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer or time.monotonic() > deadline:
            assert answer, f"still {answer!r} after {timeout} s"
            return answer
        time.sleep(interval)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    log_file = tmp_path_factory.mktemp("local-events") / "stack.log"
    env = {
        "LOCAL_TEMPLATE": str(TEMPLATE),
        "LOCAL_RETRY_DELAY": "0.1",
        "LOCAL_RATE_SECONDS": "2",
        "LOCAL_CONCURRENCY": "2",
    }
    try:
        running = background.start(log_file, env=env)
    except RuntimeError as error:
        pytest.fail(str(error))
    yield Fixture(running)
    running.stop()


def test_each_committed_change_reaches_the_consumer_once_in_order_and_filters_drop_the_rest(stack):
    stack.items.put_item(Item={"id": "item-a", "kind": "plain", "blob": b"\x00\xff"})
    stack.items.put_item(Item={"id": "skip-1"})  # no filter of StreamConsumerFunction matches
    stack.items.update_item(
        Key={"id": "item-a"}, UpdateExpression="SET kind = :k", ExpressionAttributeValues={":k": "renamed"}
    )
    stack.items.delete_item(Key={"id": "item-a"})
    stack.items.put_item(Item={"id": "item-b"})

    got = wait_for(
        lambda: (
            len(stack.got("StreamConsumerFunction#item-a")) >= 3
            and stack.got("StreamConsumerFunction#item-b")
            and stack.got("StreamConsumerFunction#item-a")
        )
    )
    time.sleep(1.0)  # a duplicate, if any, would arrive by now
    got = stack.got("StreamConsumerFunction#item-a")
    assert [g["event_name"] for g in got] == ["INSERT", "MODIFY", "REMOVE"]  # in sequence-number order
    delivered = [i for ids in stack.invocations("StreamConsumerFunction") for i in ids]
    assert [d for d in delivered if d.startswith("item-a")] == ["item-a:INSERT", "item-a:MODIFY", "item-a:REMOVE"]
    assert delivered.count("item-b:INSERT") == 1
    assert not any(d.startswith("skip-") for d in delivered)

    # The record is the one Lambda delivers.
    stream_arn = boto3.client("dynamodb", endpoint_url=stack.running.dynamodb_endpoint, **CREDENTIALS).describe_table(
        TableName=ITEMS
    )["Table"]["LatestStreamArn"]
    insert, modify, remove = (json.loads(g["record"]) for g in got)
    assert insert["eventSource"] == "aws:dynamodb" and insert["eventVersion"] == "1.1"
    assert insert["awsRegion"] == "us-east-1" and insert["eventSourceARN"] == stream_arn
    assert isinstance(insert["eventID"], str) and insert["eventID"]
    change = insert["dynamodb"]
    assert change["Keys"] == {"id": {"S": "item-a"}} and change["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert change["NewImage"]["blob"] == {"B": "AP8="}  # binary as base64, as in the JSON Lambda gets
    assert isinstance(change["ApproximateCreationDateTime"], float) and change["SizeBytes"] > 0
    assert "OldImage" not in change
    assert modify["dynamodb"]["OldImage"]["kind"] == {"S": "plain"}
    assert modify["dynamodb"]["NewImage"]["kind"] == {"S": "renamed"}
    assert "NewImage" not in remove["dynamodb"] and remove["dynamodb"]["OldImage"]["kind"] == {"S": "renamed"}
    assert not stack.dead_letters("StreamConsumerFunction")


def test_an_event_reaches_exactly_the_functions_whose_rules_match_and_is_listed(stack):
    # From a function: the consumer puts ItemCreated for each INSERT (through AWS_ENDPOINT_URL_EVENTBRIDGE).
    stack.items.put_item(Item={"id": "item-special", "kind": "special-offer"})
    stack.items.put_item(Item={"id": "item-plain", "kind": "plain"})
    # From outside: straight to the endpoint.
    answer = stack.events.put_events(
        Entries=[
            {
                "Source": "fixture.items",
                "DetailType": "ItemRenamed",
                "EventBusName": BUS,
                "Detail": json.dumps({"id": "direct-special", "kind": "special-x"}),
            },
            {
                "Source": "somebody.else",
                "DetailType": "ItemRenamed",
                "EventBusName": BUS,
                "Detail": json.dumps({"id": "direct-other", "kind": "special-x"}),
            },
            {"Source": "fixture.items", "DetailType": "ItemRenamed", "EventBusName": "no-such-bus", "Detail": "{}"},
            {"Source": "fixture.items", "DetailType": "ItemRenamed", "EventBusName": BUS, "Detail": "[1]"},
        ]
    )
    assert answer["FailedEntryCount"] == 2
    assert answer["Entries"][2]["ErrorCode"] and answer["Entries"][3]["ErrorCode"] == "MalformedDetail"

    wait_for(
        lambda: (
            stack.got("RecorderFunction#item-plain")
            and stack.got("SpecialRecorderFunction#item-special")
            and stack.got("SpecialRecorderFunction#direct-special")
            and stack.got("RecorderFunction#direct-special")
        )
    )
    time.sleep(0.8)
    assert len(stack.got("RecorderFunction#item-special")) == 1  # SAM EventBridgeRule: source + detail-type
    assert stack.got("SpecialRecorderFunction#item-plain") == []  # AWS::Events::Rule: detail.kind prefix
    for function in ("RecorderFunction", "SpecialRecorderFunction"):
        assert stack.got(f"{function}#direct-other") == []  # another source matches no rule

    renamed = stack.bus_events("?detail_type=ItemRenamed")
    assert [e["detail"]["id"] for e in renamed] == ["direct-special", "direct-other"]  # oldest first
    assert renamed[0]["id"] == answer["Entries"][0]["EventId"]
    created = stack.bus_events("?detail_type=ItemCreated")
    assert {"item-special", "item-plain"} <= {e["detail"]["id"] for e in created}
    envelope = next(e for e in created if e["detail"]["id"] == "item-special")
    assert envelope["version"] == "0" and envelope["source"] == "fixture.items"
    assert envelope["account"] == "000000000000" and envelope["region"] == "us-east-1"
    assert envelope["resources"] == [] and envelope["time"].endswith("Z")
    assert envelope["detail"] == {"id": "item-special", "kind": "special-offer"}
    delivered = json.loads(stack.got("SpecialRecorderFunction#item-special")[0]["event"])
    assert delivered == envelope  # the target gets the envelope as it is
    assert {e["detail-type"] for e in stack.bus_events()} >= {"ItemCreated", "ItemRenamed"}


def test_an_async_target_is_retried_then_dead_lettered(stack):
    stack.events.put_events(
        Entries=[
            {
                "Source": "fixture.flaky",
                "DetailType": "Flaky",
                "EventBusName": BUS,
                "Detail": json.dumps({"id": "recovers", "fail_times": 2}),
            },
            {
                "Source": "fixture.flaky",
                "DetailType": "Flaky",
                "EventBusName": BUS,
                "Detail": json.dumps({"id": "never", "fail_times": 99}),
            },
        ]
    )
    done = wait_for(lambda: stack.got("FlakyFunction#recovers"))
    assert done[0]["attempt"] == 3  # failed twice, Lambda retried twice (EventInvokeConfig: 2)
    (dead,) = wait_for(lambda: stack.dead_letters("FlakyFunction"))
    assert dead["source"] == "aws:events" and dead["error_type"] == "RuntimeError"
    assert dead["attempts"] == 3 and dead["destination"] == QUEUE_ARN
    assert dead["payload"]["detail"] == {"id": "never", "fail_times": 99}
    assert dead["rule"] == "FlakyFunctionFlaky" and dead["event_id"]
    time.sleep(0.5)
    assert stack.got("FlakyFunction#never#attempts")[0]["n"] == 3  # and no more


def test_a_poison_record_is_bisected_out_retried_and_dead_lettered_and_the_shard_moves_on(stack):
    stack.items.put_item(Item={"id": "poison-a", "bad": True})
    stack.items.put_item(Item={"id": "poison-b"})
    wait_for(lambda: stack.got("PoisonConsumerFunction#poison-b"))
    (dead,) = wait_for(lambda: stack.dead_letters("PoisonConsumerFunction"))
    assert dead["source"] == "aws:dynamodb" and dead["error_type"] == "ValueError"
    assert dead["attempts"] == 3 and dead["destination"] == QUEUE_ARN  # MaximumRetryAttempts: 2
    assert [r["dynamodb"]["Keys"]["id"]["S"] for r in dead["payload"]["Records"]] == ["poison-a"]
    assert "NewImage" not in dead["payload"]["Records"][0]["dynamodb"]  # keys only: images can hold a reason
    assert dead["DDBStreamBatchInfo"]["batchSize"] == 1
    # Both arrived in one batch (1 s window); the failing batch was split, the good half went through.
    assert stack.invocations("PoisonConsumerFunction") == [
        ["poison-a", "poison-b"],
        ["poison-a"],
        ["poison-a"],
        ["poison-a"],
        ["poison-b"],
    ]
    assert len(stack.got("PoisonConsumerFunction#poison-b")) == 1


def test_report_batch_item_failures_resumes_at_the_failed_record(stack):
    for item in ({"id": "partial-1"}, {"id": "partial-2", "fail_once": True}, {"id": "partial-3"}):
        stack.items.put_item(Item=item)
    wait_for(lambda: stack.got("PartialConsumerFunction#partial-2"))
    assert stack.invocations("PartialConsumerFunction") == [
        ["partial-1", "partial-2", "partial-3"],
        ["partial-2", "partial-3"],
    ]
    assert len(stack.got("PartialConsumerFunction#partial-1")) == 1  # before the failure: not delivered again
    assert not stack.dead_letters("PartialConsumerFunction")


def _at(seconds: float) -> str:
    return f"at({datetime.now(UTC) + timedelta(seconds=seconds):%Y-%m-%dT%H:%M:%S})"


def test_a_due_at_schedule_fires_once_a_deleted_one_never_and_an_updated_one_at_its_new_time(stack):
    # at() has whole seconds: "in 2 s" is due 1 to 2 s from now.
    for name, seconds in (("once", 2), ("deleted", 2), ("updated", 3)):
        created = requests.post(f"{stack.url}/schedules", json={"name": name, "seconds": seconds}, timeout=30)
        assert created.status_code == 201, created.text  # the function's create_schedule went through
    stack.scheduler.delete_schedule(Name="deleted", GroupName="reminders")
    updated_at = time.time()
    current = stack.scheduler.get_schedule(Name="updated", GroupName="reminders")
    stack.scheduler.update_schedule(
        Name="updated",
        GroupName="reminders",
        ScheduleExpression=_at(5),
        ScheduleExpressionTimezone="UTC",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=current["Target"],
        ActionAfterCompletion="DELETE",
    )
    assert stack.scheduler.get_schedule(Name="updated", GroupName="reminders")["ScheduleExpression"].startswith("at(")

    (fired,) = wait_for(lambda: stack.got("reminder#once"), timeout=8)
    assert json.loads(fired["event"]) == {"name": "once"}  # the target's Input is the event
    (late,) = wait_for(lambda: stack.got("reminder#updated"), timeout=8)
    assert int(late["sk"]) / 1e9 >= updated_at + 3.5  # not at its first time (+3 s), at its new one (+5 s)
    time.sleep(1.0)
    assert len(stack.got("reminder#once")) == 1 and len(stack.got("reminder#updated")) == 1
    assert stack.got("reminder#deleted") == []
    with pytest.raises(stack.scheduler.exceptions.ResourceNotFoundException):
        stack.scheduler.get_schedule(Name="once", GroupName="reminders")  # ActionAfterCompletion: DELETE
    with pytest.raises(stack.scheduler.exceptions.ConflictException):
        for _ in range(2):
            stack.scheduler.create_schedule(
                Name="twice",
                GroupName="reminders",
                ScheduleExpression="at(2099-01-01T00:00:00)",
                FlexibleTimeWindow={"Mode": "OFF"},
                Target=current["Target"],
            )


def test_template_schedules_fire_periodically(stack):
    sweeps = wait_for(lambda: [json.loads(s["event"]) for s in stack.got("sweeper")], timeout=6)
    assert {"sweep": "v2"} in sweeps  # ScheduleV2: the Input
    scheduled = [s for s in sweeps if s.get("detail-type") == "Scheduled Event"]  # Schedule: a scheduled rule
    assert scheduled and scheduled[0]["source"] == "aws.events"
    assert scheduled[0]["resources"] == ["arn:aws:events:us-east-1:000000000000:rule/SweeperFunctionLegacy"]


def test_make_invoke_runs_a_stream_consumer_on_a_stream_event_file(stack):
    port = stack.url.rsplit(":", 1)[1]
    env = {
        **os.environ,
        "LOCAL_TEMPLATE": str(TEMPLATE),
        "DYNAMODB_ENDPOINT": stack.running.dynamodb_endpoint,
        "PORT": port,
    }
    done = subprocess.run(
        [sys.executable, "-m", "local_stack", "invoke", "StreamConsumerFunction", str(FIXTURES / "stream_event.json")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert stack.got("StreamConsumerFunction#item-invoked")[0]["event_name"] == "INSERT"
    # Its put_events reached the running stack's bus, and the rule's target.
    wait_for(lambda: stack.got("RecorderFunction#item-invoked"))


def test_nothing_else_was_dead_lettered(stack):
    assert {d["function"] for d in stack.dead_letters()} <= {"FlakyFunction", "PoisonConsumerFunction"}
