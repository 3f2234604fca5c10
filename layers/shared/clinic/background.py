"""The edge of the background functions (clinic.workers): what the HTTP edge (clinic.api) is to the
routes — one place that logs, counts and fails safely, so a worker's module reads like its job.

- ``stream_records``: a DynamoDB stream batch, one record at a time through Powertools' batch
  processor; a record that raises is reported as a batch item failure, so Lambda retries from it
  (in order) and, after the retries, sends the batch to the dead-letter queue — nothing is skipped.
- ``events``: an EventBridge event (its detail) or a scheduler invocation (its input); an error
  propagates, so Lambda's asynchronous retries and then the dead-letter queue take it.

Errors are logged once, with their type and stack frames but never their message (clinic.observability).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clinic import audit, config, snapstart, workers
from clinic.data.permissions import resource_variables, tables_of
from clinic.observability import log_failure, logger, worker_observed

Record = dict[str, Any]


def table_of(record: dict) -> str:
    """The table a stream record comes from, by its stream's ARN (…:table/<name>/stream/…)."""
    return record.get("eventSourceARN", "").split(":table/", 1)[-1].split("/stream/", 1)[0]


def _worker(function: str) -> workers.Worker:
    worker = workers.BY_FUNCTION.get(function)
    if worker is None:
        raise LookupError(f"{function} is not declared in clinic.workers")
    if config.in_lambda():  # fail closed at init, like the routes: its tables, bus, schedules and key
        needed = config.variables_for(tables_of(worker.all_permissions), paginates=False)
        config.require([*needed, *resource_variables(worker.all_permissions)])
    snapstart.install()  # a restored snapshot forgets its clients, caches and random state
    return worker


def _start(context: Any) -> None:
    """Each invocation starts clean: no request's audit marks or log keys carry over (a worker is
    no HTTP request: it writes its changes' records only where a route's request is behind them),
    and its log lines are correlated by the invocation's own request id."""
    audit.start_request()
    logger.remove_keys(["route"])
    logger.set_correlation_id(getattr(context, "aws_request_id", None))


def stream_records(function: str) -> Callable[[Callable[[Record], None]], Callable[[dict, Any], dict]]:
    """Declare a stream consumer: ``handle`` is called with each record of the batch, in order."""
    _worker(function)

    def declare(handle: Callable[[Record], None]) -> Callable[[dict, Any], dict]:
        from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

        processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)

        def one(record) -> None:
            try:
                handle(record.raw_event)
            except Exception as error:
                log_failure("stream record not handled", error, event_id=record.event_id)
                raise

        def handler(event: dict, context: Any) -> dict:
            _start(context)
            answer = process_partial_response(event=event, record_handler=one, processor=processor, context=context)
            failed = len(answer.get("batchItemFailures", []))
            logger.info("stream batch handled", extra={"records": len(event.get("Records", [])), "failed": failed})
            return answer

        return worker_observed(handler)

    return declare


def events(function: str) -> Callable[[Callable[[dict], None]], Callable[[dict, Any], None]]:
    """Declare an EventBridge or scheduler target: ``handle`` gets the event (or the schedule's input)."""
    _worker(function)

    def declare(handle: Callable[[dict], None]) -> Callable[[dict, Any], None]:
        def handler(event: dict, context: Any) -> None:
            _start(context)
            try:
                handle(event)
            except Exception as error:
                log_failure("event not handled", error, detail_type=str(event.get("detail-type", "")))
                raise
            logger.info("event handled", extra={"detail_type": str(event.get("detail-type", "scheduled"))})

        return worker_observed(handler)

    return declare
