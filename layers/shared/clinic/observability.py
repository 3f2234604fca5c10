"""The Powertools logger and metrics every function shares, and its tracer when tracing is on.

Service name, metrics namespace and log level come from the template's Globals
(POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL).
Log ids only: never names, birth dates, phones, e-mails, conditions or reasons.
"""

from __future__ import annotations

import gc
import os
import traceback
import warnings
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit, single_metric

logger = Logger()
metrics = Metrics()

# A read flushes no business metric; Powertools then warns on stderr in plain text, one line per
# request, which breaks "every log line is one JSON object" (tests/integration/test_canary.py).
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

__all__ = [
    "MetricUnit",
    "count",
    "handler_observed",
    "log_failure",
    "logger",
    "metrics",
    "tracer",
    "tracing_enabled",
    "worker_observed",
]


def tracing_enabled() -> bool:
    """X-Ray only where there is a daemon to send to: in Lambda, unless Powertools is told not to."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and os.environ.get(
        "POWERTOOLS_TRACE_DISABLED", ""
    ).lower() not in ("true", "1")


# What X-Ray traces besides the handler: the AWS calls, all of which go through botocore (boto3 and
# Powertools' parameters and idempotency included). Powertools' default, patch_all, also imports or
# probes every other library the X-Ray SDK knows (sqlite3, http.client, requests, psycopg2, pymongo,
# httpx...) at init, for nothing: none of them is used here. tests/unit/test_tracing.py checks both.
TRACED_LIBRARIES = ("botocore",)


@lru_cache(maxsize=1)
def tracer():
    """The execution environment's one Tracer (Powertools'), made on first use — only when tracing is on:
    Powertools' Tracer imports the X-Ray SDK even when disabled (with wrapt and asyncio), a share of a
    cold start that a function without tracing must not pay."""
    from aws_lambda_powertools.tracing import Tracer

    return Tracer(patch_modules=TRACED_LIBRARIES)


def _traced(handler: Callable[[dict, Any], Any]) -> Callable[[dict, Any], Any]:
    """The handler in an X-Ray subsegment (## <name>, annotated ColdStart and Service) when tracing is
    on; never capturing its response or error (patient data)."""
    if not tracing_enabled():
        return handler
    return tracer().capture_lambda_handler(capture_response=False, capture_error=False)(handler)


_initialised = False


def _end_of_init() -> None:
    """Once per function process, when its handler is made (the end of its init): what the init made —
    modules, classes, models, the SDKs' tables — lives as long as the process, so it is moved out of the
    garbage collector's reach (gc.freeze). Otherwise the first full collection, which the allocations of a
    first request often trigger, walks all of it: 15–45 ms of a cold start here (make bench's gc times),
    and again now and then in warm requests. The init leaves next to no cyclic garbage to keep (a
    collection right after a function's import finds a few dozen objects). Then the collector, paused for
    the imports (clinic/__init__.py), runs again."""
    import clinic

    global _initialised
    if clinic._function_init and not _initialised:
        _initialised = True
        gc.freeze()
        if clinic._gc_paused:
            gc.enable()


def handler_observed(handler: Callable[[dict, Any], dict]) -> Callable[[dict, Any], dict]:
    """A Lambda handler with logs correlated by the API Gateway request id, metrics flushed with the
    cold start counted, and — only when tracing is on — an X-Ray trace that never captures responses
    or errors."""
    observed = _traced(metrics.log_metrics(capture_cold_start_metric=True)(handler))
    observed = logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)(
        observed
    )
    _end_of_init()
    return observed


def worker_observed(handler: Callable[[dict, Any], Any]) -> Callable[[dict, Any], Any]:
    """A background function's handler: logs with the invocation's request id, metrics flushed with
    the cold start counted, traced when tracing is on (nothing of the event is logged or captured)."""
    observed = logger.inject_lambda_context(log_event=False)(
        _traced(metrics.log_metrics(capture_cold_start_metric=True)(handler))
    )
    _end_of_init()
    return observed


def count(name: str, **dimensions: str) -> None:
    """Emit one business event (a Count of 1). Dimensions are low-cardinality labels, never ids or PHI."""
    if not dimensions:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        return
    # A metric with its own dimensions (e.g. a conflict's reason) needs its own EMF blob.
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=1,
        namespace=metrics.namespace,
        default_dimensions={"service": metrics.service or "clinic", **dimensions},
    ):
        pass


def log_failure(message: str, error: BaseException, **extra: Any) -> None:
    """Log an exception once, at ERROR, *without its message*: a message can quote the values that
    caused it (a name in a KeyError, an attribute value in a DynamoDB ValidationException), and
    those may be patient data. The type and the stack frames are what finds the bug."""
    frames = [
        f"{'/'.join(f.filename.split('/')[-2:])}:{f.lineno} {f.name}" for f in traceback.extract_tb(error.__traceback__)
    ]
    logger.error(message, extra={"exception_name": type(error).__name__, "stack": frames, **extra})
