"""Idempotency-Key on the POSTs that create or cancel (API.md "Idempotency"), with Powertools'
idempotency utility on its own DynamoDB table.

- The record is keyed by the key, the method and path, and the caller's sub: two callers (or two
  routes) never share an answer.
- It is taken *inside* the route handler, after request validation: a rejected request is never
  remembered. A use case that fails (409, 404, 503 …) deletes its record, so a retry runs again.
- The payload (the validated body) is hashed with the record: the same key with another body is
  422 IDEMPOTENCY_KEY_REUSED.
- A completed record is kept 24 h; an in-progress record expires with the invocation (the Lambda
  context is registered each time), so a function timeout never blocks the key for a day.
- A request that finds the key in progress waits for the first one (bounded) and answers its
  result; only if it is still running after that is the answer 409 IDEMPOTENCY_IN_PROGRESS.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from clinic.config import settings
from clinic.data.dynamo import new_client
from clinic.errors import IdempotencyInProgress, IdempotencyKeyReused
from clinic.services import keyed

TTL_SECONDS = 24 * 3600
WAIT_FOR_FIRST_SECONDS = 5.0

Outcome = dict[str, Any]  # {"status": int, "body": ..., "headers": {...}}; "replayed" added on replays


def _mark_replayed(response: Outcome, _record: Any) -> Outcome:
    return {**response, "replayed": True}


CONFIG = IdempotencyConfig(
    event_key_jmespath="scope",
    payload_validation_jmespath="payload",
    expires_after_seconds=TTL_SECONDS,
    response_hook=_mark_replayed,
)


@lru_cache(maxsize=1)
def _store() -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(table_name=settings().idempotency_table, boto3_client=new_client())


def once(key: str, scope: str, payload: Any, compute: Callable[[], Outcome], context: Any = None) -> Outcome:
    """Run ``compute`` once per (scope, key); later calls with the same key get its outcome. ``context``
    is the Lambda context: an in-progress record expires with this invocation."""
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if remaining_ms is not None:
        CONFIG.register_lambda_context(context)

    @idempotent_function(
        data_keyword_argument="request", persistence_store=_store(), config=CONFIG, key_prefix="clinic"
    )
    def run(request: dict[str, Any]) -> Outcome:
        with keyed(request["scope"]):  # new ids derive from the key (see clinic.services.new_id)
            return compute()

    deadline = time.monotonic() + WAIT_FOR_FIRST_SECONDS
    while True:
        try:
            return run(request={"scope": f"{scope}#{key}", "payload": payload})
        except IdempotencyValidationError:
            raise IdempotencyKeyReused(detail="this Idempotency-Key was used with another request body") from None
        except IdempotencyAlreadyInProgressError:
            time_left = remaining_ms() / 1000 if remaining_ms else WAIT_FOR_FIRST_SECONDS
            if time.monotonic() >= deadline or time_left < 2:
                raise IdempotencyInProgress(
                    detail="a request with this Idempotency-Key is still running; retry shortly"
                ) from None
            time.sleep(0.1)
