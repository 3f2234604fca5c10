"""Time limits on purpose: one DynamoDB call, retries and backoff included, gives up well inside the
function's Timeout, and the Timeout is well under API Gateway's 29 s integration timeout; and a
request starts no call whose worst case could outlast the invocation. Then a slow table ends as the
function's own 503, never a Lambda timeout (502) or a gateway timeout (504)."""

from __future__ import annotations

import pytest
from botocore.config import Config

from clinic.data import dynamo
from clinic.data.dynamo import CLIENT_CONFIG
from local_stack import template as tpl

API_GATEWAY_INTEGRATION_TIMEOUT = 29
MARGIN = 2  # seconds left for the handler's own work and the 503 answer


def test_given_the_client_config_when_every_attempt_times_out_then_the_call_ends_inside_the_function_timeout():
    timeout = tpl.load()["Globals"]["Function"]["Timeout"]
    assert CLIENT_CONFIG.retries["mode"] == "standard"
    assert dynamo.WORST_CALL_SECONDS + MARGIN <= timeout < API_GATEWAY_INTEGRATION_TIMEOUT - MARGIN


def test_given_no_function_overrides_the_timeout_then_the_global_budget_holds_for_every_function():
    for function in tpl.functions():
        assert function.timeout == tpl.load()["Globals"]["Function"]["Timeout"], function.logical_id


def test_the_worst_case_is_what_the_comments_say():
    # 2 attempts × (1 s connect + 2 s read) + at most 1 s backoff before the retry
    assert CLIENT_CONFIG.retries["total_max_attempts"] == 2
    assert dynamo.WORST_CALL_SECONDS == 7
    # botocore's old "max_attempts: 3" meant four attempts: far over the Timeout
    assert (
        dynamo.worst_call_seconds(Config(retries={"total_max_attempts": 4}, connect_timeout=2, read_timeout=3))
        == 4 * 5 + 1 + 2 + 4
    )


def test_the_backoff_bounds_are_botocores():
    from botocore.retries.standard import ExponentialBackoff

    assert max(ExponentialBackoff._DEFAULT_BACKOFF_CONFIG.values()) == dynamo.BACKOFF_SCALE_SECONDS
    assert ExponentialBackoff._BASE == 2
    assert dynamo.BACKOFF_CAP_SECONDS == ExponentialBackoff._MAX_BACKOFF


def test_a_healthy_request_has_seconds_to_start_its_calls():
    timeout = tpl.load()["Globals"]["Function"]["Timeout"]
    window = timeout - dynamo.WORST_CALL_SECONDS - dynamo.ANSWER_SECONDS
    assert window >= 2  # a healthy request makes all of its calls within tens of milliseconds


class Invocation:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_given_enough_time_left_when_a_call_starts_then_it_is_allowed():
    with dynamo.deadline_of(Invocation(10_000)):
        dynamo._enforce_deadline()  # does not raise


def test_given_too_little_time_left_for_a_worst_case_call_then_it_is_refused_before_it_is_sent():
    just_too_little = Invocation(int((dynamo.WORST_CALL_SECONDS + dynamo.ANSWER_SECONDS) * 1000) - 1)
    with dynamo.deadline_of(just_too_little), pytest.raises(dynamo.DeadlineExceeded):
        dynamo._enforce_deadline()
    dynamo._enforce_deadline()  # the deadline ends with its invocation


def test_given_no_lambda_context_then_there_is_no_deadline():
    with dynamo.deadline_of(None):
        dynamo._enforce_deadline()


def test_given_dynamodb_leaves_keys_unprocessed_then_batch_get_asks_again_after_a_pause(monkeypatch):
    # Given a throttled table: the first answer processes one key of three, the second the rest
    table = "Appointments"
    answers = [
        {"Responses": {table: [{"id": "a"}]}, "UnprocessedKeys": {table: {"Keys": [{"id": "b"}, {"id": "c"}]}}},
        {"Responses": {table: [{"id": "b"}, {"id": "c"}]}, "UnprocessedKeys": {}},
    ]
    asked, pauses = [], []

    class Throttled:
        def batch_get_item(self, RequestItems):
            asked.append([k["id"] for k in RequestItems[table]["Keys"]])
            return answers.pop(0)

    monkeypatch.setattr(dynamo, "resource", lambda: Throttled())
    monkeypatch.setattr(dynamo.time, "sleep", pauses.append)
    # When three records are read
    found = dynamo.batch_get(table, ["a", "b", "c"])
    # Then the unprocessed keys are asked again, after a short pause, and every record is answered
    assert sorted(i["id"] for i in found) == ["a", "b", "c"]
    assert asked == [["a", "b", "c"], ["b", "c"]]
    assert len(pauses) == 1 and 0 <= pauses[0] <= 0.05
