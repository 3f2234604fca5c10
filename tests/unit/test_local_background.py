"""The local stack's background pieces on their own (no processes, no network): what they read
from a template, schedule expressions, stream records and positions, the bus, the endpoint
variables boto3 reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import boto3
import pytest

from local_stack import template as tpl
from local_stack.dead_letters import DeadLetters
from local_stack.eventbus import EventBus
from local_stack.functions import service_endpoints
from local_stack.scheduler import ExpressionError, Scheduler, next_fire, parse_expression
from local_stack.streams import Checkpoints, Consumer, lambda_record

FIXTURE = Path(__file__).resolve().parents[1] / "integration" / "fixtures" / "events_template.yaml"
UTC = UTC


@pytest.fixture(scope="module")
def fixture():
    return tpl.load(FIXTURE)


def by_id(template) -> dict[str, tpl.Function]:
    return {f.logical_id: f for f in tpl.functions(template)}


# ---------------------------------------------------------------------- template
def test_the_real_templates_background_functions_are_all_read_by_the_local_stack():
    """Every stream and rule trigger declared in clinic.workers is one `make run` wires up (the
    scheduled ones are invoked by the schedules the code creates, which the local scheduler runs)."""
    from clinic import workers

    wired = {f.logical_id: (len(f.streams), len(f.rules)) for f in tpl.functions() if f.streams or f.rules}
    declared = {}
    for worker in workers.WORKERS:
        streams = sum(len(t.tables) for t in worker.triggers if isinstance(t, workers.Stream))
        rules = sum(1 for t in worker.triggers if isinstance(t, workers.Rule))
        if streams or rules:
            declared[worker.logical_id] = (streams, rules)
    assert wired == declared


def test_get_att_arn_and_ref_resolve_to_local_names_and_arns(fixture):
    assert (
        tpl.resolve({"Fn::GetAtt": ["ReminderFunction", "Arn"]}, fixture)
        == "arn:aws:lambda:us-east-1:000000000000:function:ReminderFunction"
    )
    assert (
        tpl.function_for_arn("arn:aws:lambda:us-east-1:000000000000:function:ReminderFunction", fixture)
        == "ReminderFunction"
    )
    assert tpl.function_for_arn("arn:aws:lambda:us-east-1:000000000000:function:Nope", fixture) is None
    assert (
        tpl.resolve({"Fn::GetAtt": "EventsDeadLetterQueue.Arn"}, fixture)
        == "arn:aws:sqs:us-east-1:000000000000:clinic-local-EventsDeadLetterQueue"
    )
    assert tpl.resolve({"Ref": "FixtureBus"}, fixture) == "clinic-local-events"
    assert (
        tpl.resolve({"Fn::GetAtt": ["FixtureBus", "Arn"]}, fixture)
        == "arn:aws:events:us-east-1:000000000000:event-bus/clinic-local-events"
    )
    assert tpl.resolve({"Ref": "FixtureScheduleGroup"}, fixture) == "reminders"
    assert tpl.resolve({"Ref": "ItemsTable"}, fixture) == "clinic-local-ItemsTable"
    assert (
        tpl.resolve({"Fn::Sub": "${ReminderFunction.Arn}|${AWS::AccountId}"}, fixture)
        == "arn:aws:lambda:us-east-1:000000000000:function:ReminderFunction|000000000000"
    )
    assert tpl.buses(fixture) == ["default", "clinic-local-events"]
    assert tpl.schedule_groups(fixture) == ["default", "reminders"]
    assert tpl.bus_name("arn:aws:events:us-east-1:000000000000:event-bus/x") == "x" and tpl.bus_name(None) == "default"


def test_stream_sources_are_read_with_every_supported_property(fixture):
    functions = by_id(fixture)
    (poison,) = functions["PoisonConsumerFunction"].streams
    assert poison == tpl.StreamSource(
        name="Stream",
        table="ItemsTable",
        starting_position="LATEST",
        batch_size=10,
        batching_window_s=1.0,
        max_retries=2,
        bisect=True,
        report_item_failures=False,
        on_failure="arn:aws:sqs:us-east-1:000000000000:clinic-local-EventsDeadLetterQueue",
        filters=({"eventName": ["INSERT"], "dynamodb": {"Keys": {"id": {"S": [{"prefix": "poison-"}]}}}},),
    )
    (partial,) = functions["PartialConsumerFunction"].streams
    assert partial.report_item_failures and partial.starting_position == "TRIM_HORIZON" and not partial.bisect
    (consumer,) = functions["StreamConsumerFunction"].streams
    assert consumer.max_retries == -1 and consumer.on_failure is None  # absent: until success (capped locally)


def test_rules_from_sam_events_and_from_events_rule_resources(fixture):
    rules = {r.name: r for r in tpl.rules(fixture)}
    assert rules["RecorderFunctionCreated"] == tpl.Rule(
        name="RecorderFunctionCreated",
        function="RecorderFunction",
        bus="clinic-local-events",
        pattern={"source": ["fixture.items"], "detail-type": ["ItemCreated", "ItemRenamed"]},
    )
    assert rules["SpecialRule"].function == "SpecialRecorderFunction"
    assert rules["SpecialRule"].pattern == {"source": ["fixture.items"], "detail": {"kind": [{"prefix": "special"}]}}
    assert by_id(fixture)["FlakyFunction"].async_config == tpl.AsyncConfig(
        max_retries=2, on_failure="arn:aws:sqs:us-east-1:000000000000:clinic-local-EventsDeadLetterQueue"
    )


def test_schedules_from_schedule_and_schedule_v2_events(fixture):
    schedules = {s.name: s for s in tpl.schedules(fixture)}
    assert schedules["SweeperFunctionSweep"] == tpl.Schedule(
        name="SweeperFunctionSweep",
        function="SweeperFunction",
        expression="rate(5 minutes)",
        kind="scheduler",
        input='{"sweep": "v2"}',
    )
    assert schedules["SweeperFunctionLegacy"].kind == "rule"
    assert schedules["SweeperFunctionLegacy"].expression == "cron(0 3 * * ? *)"


def _with(fixture, function: str, events: dict) -> dict:
    template = json.loads(json.dumps(fixture))
    template["Resources"][function]["Properties"]["Events"] = events
    return template


@pytest.mark.parametrize(
    "events, message",
    [
        (
            {
                "S": {
                    "Type": "DynamoDB",
                    "Properties": {
                        "Stream": {"Fn::GetAtt": ["ReceivedTable", "StreamArn"]},
                        "StartingPosition": "LATEST",
                    },
                }
            },
            "no StreamSpecification",
        ),
        (
            {
                "S": {
                    "Type": "DynamoDB",
                    "Properties": {
                        "Stream": {"Fn::GetAtt": ["ItemsTable", "StreamArn"]},
                        "StartingPosition": "AT_TIMESTAMP",
                    },
                }
            },
            "StartingPosition",
        ),
        (
            {
                "S": {
                    "Type": "DynamoDB",
                    "Properties": {
                        "Stream": {"Fn::GetAtt": ["ItemsTable", "StreamArn"]},
                        "StartingPosition": "LATEST",
                        "FilterCriteria": {"Filters": [{"Pattern": '{"a": "b"}'}]},
                    },
                }
            },
            "FilterCriteria",
        ),
        ({"R": {"Type": "EventBridgeRule", "Properties": {"Pattern": {"source": "x"}}}}, "must be a list"),
    ],
)
def test_declarations_the_local_stack_cannot_run_stop_it_with_a_clear_message(fixture, events, message):
    with pytest.raises(tpl.TemplateError, match=message):
        tpl.functions(_with(fixture, "HealthFunction", events))


def test_create_table_turns_on_the_stream_the_template_declares():
    from local_stack.tables import create_table_request

    table = tpl.Table("T", "t", {"KeySchema": [], "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"}})
    assert create_table_request(table)["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }


# ---------------------------------------------------------------------- endpoints
def test_boto3_reaches_the_local_eventbridge_and_scheduler_through_the_worker_variables(monkeypatch):
    endpoints = service_endpoints("http://127.0.0.1:3000")
    for name, value in endpoints.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL_EVENTS", "http://wrong.invalid")  # botocore does not read this one
    assert boto3.client("events", region_name="us-east-1").meta.endpoint_url == "http://127.0.0.1:3000/_aws/events"
    assert (
        boto3.client("scheduler", region_name="us-east-1").meta.endpoint_url == "http://127.0.0.1:3000/_aws/scheduler"
    )


# ---------------------------------------------------------------------- schedules
def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize(
    "expression, zone, after, expected",
    [
        ("at(2026-12-01T08:00:00)", "UTC", "2026-11-30T00:00", "2026-12-01T08:00"),
        ("at(2026-12-01T08:00:00)", "Europe/Paris", "2026-11-30T00:00", "2026-12-01T07:00"),
        ("rate(5 minutes)", "UTC", "2026-01-01T00:00", "2026-01-01T00:05"),
        ("rate(1 hour)", "UTC", "2026-01-01T00:00", "2026-01-01T01:00"),
        ("cron(0 3 * * ? *)", "UTC", "2026-01-01T03:00", "2026-01-02T03:00"),
        ("cron(15 10 ? * MON-FRI *)", "UTC", "2026-01-02T11:00", "2026-01-05T10:15"),  # Fri after → Mon
        ("cron(0/20 * * * ? *)", "UTC", "2026-01-01T00:41", "2026-01-01T01:00"),
        ("cron(0 9 1 JAN,JUL ? 2027)", "UTC", "2026-03-01T00:00", "2027-01-01T09:00"),
        ("cron(30 1 ? * 1 *)", "America/New_York", "2026-03-07T00:00", "2026-03-08T06:30"),  # Sunday, EST
        ("cron(0 0 1 1 ? 2020)", "UTC", "2026-01-01T00:00", None),  # never again
    ],
)
def test_next_firing_times(expression, zone, after, expected, monkeypatch):
    monkeypatch.delenv("LOCAL_RATE_SECONDS", raising=False)
    start = at(after)
    assert iso(next_fire(parse_expression(expression), ZoneInfo(zone), start, start)) == expected


def test_local_rate_seconds_speeds_up_every_recurring_schedule(monkeypatch):
    monkeypatch.setenv("LOCAL_RATE_SECONDS", "2")
    for expression in ("rate(5 minutes)", "cron(0 3 * * ? *)"):
        assert next_fire(parse_expression(expression), ZoneInfo("UTC"), 1000.5, 1000.0) == 1002.0
    assert next_fire(parse_expression("at(2026-12-01T08:00:00)"), ZoneInfo("UTC"), 0, 0) == at("2026-12-01T08:00")


@pytest.mark.parametrize(
    "expression",
    [
        "at(2026-12-01)",
        "rate(0 minutes)",
        "rate(5 seconds)",
        "cron(0 3 * * *)",
        "cron(0 3 * * * *)",
        "cron(0 3 L * ? *)",
        "cron(0 25 * * ? *)",
        "every 5 minutes",
    ],
)
def test_expressions_scheduler_refuses(expression):
    with pytest.raises(ExpressionError):
        parse_expression(expression)


class _Invoker:
    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.dead_letters = DeadLetters()

    def submit(self, function, event, source, **details):
        self.calls.append((function, event, source, details))
        return "request-id"


def _scheduler(tmp_path: Path | None = None) -> Scheduler:
    return Scheduler(
        _Invoker(),
        lambda *_: None,
        tmp_path / "schedules.json" if tmp_path else None,
        schedules=[],
        groups=["default", "reminders"],
    )


TARGET = {"Arn": "arn:aws:lambda:us-east-1:000000000000:function:ReminderFunction", "RoleArn": "r", "Input": "{}"}


def test_schedules_survive_a_restart_when_the_store_is_persistent(tmp_path):
    first = _scheduler(tmp_path)
    first.create(
        "later",
        {
            "ScheduleExpression": "at(2099-01-01T00:00:00)",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": TARGET,
            "GroupName": "reminders",
        },
    )
    second = _scheduler(tmp_path)
    assert second.get("later", "reminders")["ScheduleExpression"] == "at(2099-01-01T00:00:00)"
    assert second.entries[("reminders", "later")].next_fire == at("2099-01-01T00:00")


def test_the_scheduler_api_answers_botocores_error_shapes():
    scheduler = _scheduler()
    status, headers, body = scheduler.handle_http("GET", "/schedules/missing", "groupName=reminders", {}, b"")
    assert status == 404 and headers["x-amzn-ErrorType"] == "ResourceNotFoundException" and json.loads(body)["Message"]
    request = json.dumps(
        {
            "ScheduleExpression": "at(2099-01-01T00:00:00)",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": TARGET,
            "GroupName": "nope",
        }
    ).encode()
    assert scheduler.handle_http("POST", "/schedules/x", "", {}, request)[0] == 404  # no such group
    bad = json.dumps(
        {"ScheduleExpression": "rate(0 minutes)", "FlexibleTimeWindow": {"Mode": "OFF"}, "Target": TARGET}
    ).encode()
    status, headers, _ = scheduler.handle_http("POST", "/schedules/x", "", {}, bad)
    assert status == 400 and headers["x-amzn-ErrorType"] == "ValidationException"


def test_the_scheduler_keeps_a_schedules_kms_key_and_refuses_one_that_is_not_a_key_arn():
    """Every schedule the code makes names the stack's key (KmsKeyArn): the local scheduler takes it,
    shows it as GetSchedule does, and refuses what AWS's model refuses (not a KMS key or alias ARN)."""
    scheduler = _scheduler()
    key = tpl.resolve({"Fn::GetAtt": ["DataKey", "Arn"]})  # the real template's key, as a function sees it
    assert key.startswith("arn:aws:kms:us-east-1:000000000000:key/")
    request = {"ScheduleExpression": "at(2099-01-01T00:00:00)", "FlexibleTimeWindow": {"Mode": "OFF"}, "Target": TARGET}
    scheduler.create("with-key", {**request, "KmsKeyArn": key})
    assert scheduler.get("with-key", None)["KmsKeyArn"] == key
    scheduler.update("with-key", {**request, "KmsKeyArn": key, "ScheduleExpression": "at(2099-01-02T00:00:00)"})
    assert scheduler.get("with-key", None)["KmsKeyArn"] == key
    for bad in ("local-DataKey.Arn", "", "arn:aws:sqs:us-east-1:000000000000:queue", 7):
        body = json.dumps({**request, "KmsKeyArn": bad}).encode()
        status, headers, _ = scheduler.handle_http("POST", "/schedules/bad", "", {}, body)
        assert status == 400 and headers["x-amzn-ErrorType"] == "ValidationException", bad
    # botocore sends it as the real service expects (the worker's client, the local endpoint)
    model = boto3.session.Session().client("scheduler", region_name="us-east-1").meta.service_model
    assert "KmsKeyArn" in model.operation_model("CreateSchedule").input_shape.members


# ---------------------------------------------------------------------- the bus
def test_put_events_records_the_envelope_and_hands_matching_rules_their_input():
    invoker = _Invoker()
    rules = [
        tpl.Rule("all", "A", "bus", {"source": ["s"]}),
        tpl.Rule("detail-only", "B", "bus", {"source": ["s"]}, input_path="$.detail"),
        tpl.Rule("constant", "C", "bus", {"source": ["s"]}, input='{"fixed": 1}'),
        tpl.Rule("other-bus", "D", "default", {"source": ["s"]}),
        tpl.Rule("off", "E", "bus", {"source": ["s"]}, enabled=False),
    ]
    bus = EventBus(invoker, lambda *_: None, rules=rules, buses=["default", "bus"])
    answer = bus.put_events(
        [{"Source": "s", "DetailType": "T", "Detail": '{"id": 1}', "EventBusName": "bus", "Time": 1_800_000_000}]
    )
    assert answer["FailedEntryCount"] == 0
    (envelope,) = bus.list()
    assert envelope == {
        "version": "0",
        "id": answer["Entries"][0]["EventId"],
        "detail-type": "T",
        "source": "s",
        "account": "000000000000",
        "time": "2027-01-15T08:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {"id": 1},
    }
    assert [(f, e) for f, e, _, _ in invoker.calls] == [("A", envelope), ("B", {"id": 1}), ("C", {"fixed": 1})]
    assert bus.list(detail_type="other") == []


# ---------------------------------------------------------------------- streams
def test_a_stream_record_becomes_the_record_lambda_delivers():
    raw = {
        "eventID": "e",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "ddblocal",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
            "Keys": {"id": {"S": "a"}},
            "NewImage": {"id": {"S": "a"}, "b": {"B": b"\x01"}, "bs": {"BS": [b"\x02"]}},
            "SequenceNumber": "1",
            "SizeBytes": 9,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    record = lambda_record(raw, "arn:stream")
    assert list(record) == [
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
    ]
    assert record["awsRegion"] == "us-east-1" and record["eventSourceARN"] == "arn:stream"
    assert record["dynamodb"]["ApproximateCreationDateTime"] == at("2026-12-01T08:00")
    assert record["dynamodb"]["NewImage"]["b"] == {"B": "AQ=="} and record["dynamodb"]["NewImage"]["bs"] == {
        "BS": ["Ag=="]
    }
    json.dumps(record)  # plain JSON all the way down


class _Streams:
    """A one-shard stream: records what iterator each consumer asked for."""

    def __init__(self) -> None:
        self.asked: list[dict] = []

    def describe_stream(self, **_):
        return {"StreamDescription": {"Shards": [{"ShardId": "shardId-1"}]}}

    def get_shard_iterator(self, **kwargs):
        self.asked.append({k: v for k, v in kwargs.items() if k in ("ShardIteratorType", "SequenceNumber")})
        return {"ShardIterator": "it"}


class _Table:
    def __init__(self, arn: str) -> None:
        self.arn = arn

    def describe_table(self, **_):
        return {"Table": {"LatestStreamArn": self.arn}}


def _consumer(checkpoints: Checkpoints, stream_arn: str = "arn:stream/1") -> tuple[Consumer, _Streams]:
    source = tpl.StreamSource(name="Stream", table="ItemsTable", starting_position="LATEST")
    consumer = Consumer("F", source, "http://127.0.0.1:1", lambda *_: None, lambda *_: None, DeadLetters(), checkpoints)
    consumer.dynamodb, consumer.streams = _Table(stream_arn), _Streams()
    consumer.table = "t"
    consumer.prepare()
    return consumer, consumer.streams


def test_stream_positions_resume_after_a_restart_with_a_persistent_store(tmp_path, monkeypatch):
    monkeypatch.setattr(tpl, "table_name", lambda *_: "t")
    path = tmp_path / "stream-checkpoints.json"
    _, streams = _consumer(Checkpoints(path))
    assert streams.asked == [{"ShardIteratorType": "LATEST"}]  # first run: StartingPosition
    _, streams = _consumer(Checkpoints(path))
    assert streams.asked == [{"ShardIteratorType": "LATEST"}]  # nothing handled yet: LATEST again, no replay
    consumer, _ = _consumer(Checkpoints(path))
    consumer._handled(consumer.shards["shardId-1"], "0005")
    _, streams = _consumer(Checkpoints(path))
    assert streams.asked == [{"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": "0005"}]
    _, streams = _consumer(Checkpoints(path), stream_arn="arn:stream/2")  # the table was created anew
    assert streams.asked == [{"ShardIteratorType": "LATEST"}]


def test_an_in_memory_store_starts_every_consumer_at_its_starting_position(monkeypatch):
    monkeypatch.setattr(tpl, "table_name", lambda *_: "t")
    for _ in range(2):
        _, streams = _consumer(Checkpoints(None))
        assert streams.asked == [{"ShardIteratorType": "LATEST"}]
