"""Lambda's asynchronous invocation, locally: how EventBridge rules and schedules invoke functions.

On AWS, EventBridge and EventBridge Scheduler hand a Lambda target its event with an asynchronous
``Invoke`` and are done once Lambda has queued it. A function error is then Lambda's business: it
retries per the function's ``EventInvokeConfig.MaximumRetryAttempts`` (0-2, default 2; AWS waits
about 1 min, then 2 min) and finally sends the event to the function's ``EventInvokeConfig``
OnFailure destination or ``DeadLetterQueue`` (or drops it). The rule's or schedule's own
RetryPolicy / DeadLetterConfig only cover failures to *deliver* (no such function, throttling).

Locally the same: ``submit`` returns at once; worker threads invoke through the same pools as the
API; a raising invocation is retried after ``LOCAL_RETRY_DELAY`` seconds (default 1), doubling;
when retries are exhausted the event becomes a dead letter (local_stack/dead_letters.py). Retries
keep the invocation's request id, as Lambda's do. The queue is in memory: pending retries are lost
when the stack stops.
"""

from __future__ import annotations

import heapq
import itertools
import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from local_stack import template as tpl
from local_stack.dead_letters import DeadLetters
from local_stack.functions import FunctionFailed

LogSink = Callable[[str, str], None]


def retry_delay() -> float:
    return float(os.environ.get("LOCAL_RETRY_DELAY", "1"))


@dataclass
class _Job:
    function: str
    event: Any
    source: str  # aws:events | aws:scheduler
    request_id: str
    details: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0


class AsyncInvoker:
    def __init__(
        self,
        functions: Any,
        console: LogSink,
        dead_letters: DeadLetters,
        configs: dict[str, tpl.AsyncConfig],
        threads: int = 4,
    ) -> None:
        self.functions, self.console, self.dead_letters, self.configs = functions, console, dead_letters, configs
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="async-invoke")
        self.queue: list[tuple[float, int, _Job]] = []
        self.counter = itertools.count()
        self.condition = threading.Condition()
        self.stopped = False
        self.in_flight = 0
        self.thread = threading.Thread(target=self._dispatch, daemon=True, name="async-invoke")
        self.thread.start()

    def submit(self, function: str, event: Any, source: str, **details: Any) -> str:
        """Queue one asynchronous invocation; answer its request id."""
        job = _Job(function=function, event=event, source=source, request_id=str(uuid.uuid4()), details=details)
        self._enqueue(job, 0.0)
        return job.request_id

    def _enqueue(self, job: _Job, delay: float) -> None:
        with self.condition:
            heapq.heappush(self.queue, (time.monotonic() + delay, next(self.counter), job))
            self.condition.notify()

    def _dispatch(self) -> None:
        while True:
            with self.condition:
                while not self.stopped and (not self.queue or self.queue[0][0] > time.monotonic()):
                    self.condition.wait(None if not self.queue else max(0.0, self.queue[0][0] - time.monotonic()))
                if self.stopped:
                    return
                _, _, job = heapq.heappop(self.queue)
                self.in_flight += 1
            self.executor.submit(self._run, job)

    def _run(self, job: _Job) -> None:
        try:
            self._attempt(job)
        finally:
            with self.condition:
                self.in_flight -= 1
                self.condition.notify_all()

    def _attempt(self, job: _Job) -> None:
        config = self.configs.get(job.function, tpl.AsyncConfig())
        job.attempts += 1
        try:
            self.functions.invoke(job.function, job.event, job.request_id)
            if job.attempts > 1:
                self._log("INFO", f"{job.function} succeeded on attempt {job.attempts}", job)
            return
        except KeyError:
            error_type, retryable = "ResourceNotFoundException", False  # no such function: a delivery failure
        except FunctionFailed as error:
            if self.stopped or error.error_type == "Local.ShuttingDown":
                return
            error_type, retryable = error.error_type, True
        except Exception as error:
            error_type, retryable = f"Local.{type(error).__name__}", False
        retries = max(0, min(config.max_retries, 2))
        if retryable and job.attempts <= retries:
            delay = retry_delay() * 2 ** (job.attempts - 1)
            self._log(
                "WARNING",
                f"{job.function} failed ({error_type}); retry {job.attempts} of {retries} in {delay:g} s",
                job,
            )
            self._enqueue(job, delay)
            return
        self.dead_letters.add(
            source=job.source,
            function=job.function,
            error_type=error_type,
            attempts=job.attempts,
            destination=config.on_failure,
            payload=job.event,
            request_id=job.request_id,
            **job.details,
        )
        self._log(
            "ERROR",
            f"{job.function} failed {job.attempts} time(s) ({error_type}): dead letter "
            f"(destination {config.on_failure or 'none: AWS would drop it'})",
            job,
        )

    def _log(self, level: str, message: str, job: _Job) -> None:
        self.console(
            "Lambda",
            json.dumps({"level": level, "message": message, "source": job.source, "invocation_id": job.request_id}),
        )

    def idle(self) -> bool:
        with self.condition:
            return not self.queue and not self.in_flight

    def stop(self) -> None:
        with self.condition:
            self.stopped = True
            self.queue.clear()
            self.condition.notify_all()
        self.executor.shutdown(wait=False, cancel_futures=True)
