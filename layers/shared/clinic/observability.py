"""The Powertools logger, metrics and tracer every function shares.

Service name, metrics namespace and log level come from the template's Globals
(POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL).
Log ids only: never names, birth dates, phones, e-mails, conditions or reasons.
"""

import traceback
import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

logger = Logger()
metrics = Metrics()
tracer = Tracer()

# A read flushes no business metric; Powertools then warns on stderr in plain text, one line per
# request, which breaks "every log line is one JSON object" (tests/integration/test_canary.py).
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

__all__ = ["logger", "metrics", "tracer", "MetricUnit", "count", "log_failure"]


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
    frames = [f"{'/'.join(f.filename.split('/')[-2:])}:{f.lineno} {f.name}"
              for f in traceback.extract_tb(error.__traceback__)]
    logger.error(message, extra={"exception_name": type(error).__name__, "stack": frames, **extra})
