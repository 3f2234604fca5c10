"""DynamoDB Streams consumers, locally: every SAM ``Type: DynamoDB`` event source of the template,
run the way Lambda's event source mapping runs it.

One thread per consumer (function + event source) polls its table's stream on DynamoDB Local
(DescribeTable's ``LatestStreamArn``, DescribeStream, GetShardIterator, GetRecords) every
``LOCAL_STREAM_POLL_SECONDS`` (default 0.25 s), over every shard, a child shard only once its parent
is drained. Each record becomes the record Lambda delivers (``eventID``, ``eventName``,
``eventVersion`` 1.1, ``eventSource`` aws:dynamodb, ``awsRegion``, ``dynamodb`` with
``ApproximateCreationDateTime`` in epoch seconds, ``Keys``, ``NewImage``, ``OldImage``,
``SequenceNumber``, ``SizeBytes``, ``StreamViewType``, binary values base64, ``eventSourceARN``);
records that no ``FilterCriteria`` pattern matches are dropped before batching, as Lambda does.
Batches (``BatchSize``, ``MaximumBatchingWindowInSeconds``) are invoked through the same worker
pools as the API, one at a time per shard, in sequence-number order.

When an invocation fails the batch is retried (after ``LOCAL_RETRY_DELAY`` s, doubling, at most
5 s), and the shard waits, as on AWS:

- ``FunctionResponseTypes: [ReportBatchItemFailures]``: a response ``{"batchItemFailures":
  [{"itemIdentifier": <SequenceNumber>}]}`` resumes the batch at the lowest failed record (the ones
  before it are done); an identifier that is empty or not in the batch fails the whole batch.
- ``BisectBatchOnFunctionError``: a failing batch of more than one record is split in two halves,
  retried in order; the split itself does not use a retry.
- ``MaximumRetryAttempts``: then the batch is a dead letter (local_stack/dead_letters.py, with
  ``DestinationConfig.OnFailure`` as its destination) and the shard moves on. ``-1`` or absent
  (AWS: until the record expires, 24 h) and anything above ``LOCAL_STREAM_MAX_RETRIES`` (default
  10) is capped at that, so a poison record cannot wedge the local stack.

Positions: each consumer keeps, per shard, the sequence number of the last record it handled.
The in-memory store starts every consumer at its StartingPosition. With a persistent store they
are kept in ``.local/stream-checkpoints.json``: a restart resumes after the last handled record
(a shard it started at LATEST and took nothing from starts at LATEST again); a new consumer, or a
table created anew (another stream ARN), starts at its StartingPosition. Shards found later (a
child shard) start at TRIM_HORIZON so nothing is skipped.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from local_stack import REGION, patterns
from local_stack import template as tpl
from local_stack.dead_letters import DeadLetters
from local_stack.dynamodb import client as dynamodb_client
from local_stack.dynamodb import streams_client
from local_stack.functions import FunctionFailed

LogSink = Callable[[str, str], None]
REDISCOVER_SECONDS = 5.0
MAX_RETRY_DELAY = 5.0


def poll_seconds() -> float:
    return float(os.environ.get("LOCAL_STREAM_POLL_SECONDS", "0.25"))


def retry_cap() -> int:
    return int(os.environ.get("LOCAL_STREAM_MAX_RETRIES", "10"))


def retry_delay(retry: int) -> float:
    return min(MAX_RETRY_DELAY, float(os.environ.get("LOCAL_RETRY_DELAY", "1")) * 2 ** (retry - 1))


class Checkpoints:
    """Per consumer: the stream it read and, per shard, the last handled sequence number (or the
    position it started at, while it has handled nothing; "END" once the shard is drained)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.data: dict[str, dict[str, Any]] = {}
        if path and path.exists():
            try:
                self.data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.data = {}

    def saved(self, consumer: str, stream_arn: str) -> dict[str, str] | None:
        """The consumer's shard positions on this stream; None when it never read it."""
        with self.lock:
            entry = self.data.get(consumer)
            if not entry or entry.get("stream") != stream_arn:
                self.data[consumer] = {"stream": stream_arn, "shards": {}}
                return None
            return dict(entry["shards"])

    def set(self, consumer: str, shard: str, position: str) -> None:
        with self.lock:
            self.data[consumer]["shards"][shard] = position
            if self.path:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                temporary = self.path.with_suffix(".tmp")
                temporary.write_text(json.dumps(self.data, indent=1), encoding="utf-8")
                temporary.replace(self.path)


def _plain(value: Any) -> Any:
    """A stream record from boto3 back into the JSON Lambda delivers (bytes as base64)."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def lambda_record(raw: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """One GetRecords record as Lambda's DynamoDB stream event holds it."""
    change = raw.get("dynamodb") or {}
    created = change.get("ApproximateCreationDateTime")
    body: dict[str, Any] = {}
    if created is not None:
        body["ApproximateCreationDateTime"] = created.timestamp() if hasattr(created, "timestamp") else created
    for key in ("Keys", "NewImage", "OldImage", "SequenceNumber", "SizeBytes", "StreamViewType"):
        if key in change:
            body[key] = _plain(change[key])
    record = {
        "eventID": raw.get("eventID"),
        "eventName": raw.get("eventName"),
        "eventVersion": raw.get("eventVersion") or "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": body,
        "eventSourceARN": stream_arn,
    }
    if raw.get("userIdentity"):
        record["userIdentity"] = raw["userIdentity"]  # a TTL deletion
    return record


@dataclass
class _Shard:
    id: str
    parent: str | None
    initial: bool  # there when the consumer started (StartingPosition applies)
    iterator: str | None = None
    started: bool = False
    done: bool = False
    handled: str | None = None  # sequence number of the last record handled
    read: str | None = None  # sequence number of the last record read
    buffer: list[dict[str, Any]] = field(default_factory=list)
    buffered_at: float | None = None


class _Stopped(Exception):
    pass


class Consumer:
    def __init__(
        self,
        function: str,
        source: tpl.StreamSource,
        endpoint: str,
        invoke: Callable[..., Any],
        console: LogSink,
        dead_letters: DeadLetters,
        checkpoints: Checkpoints,
    ) -> None:
        self.function, self.source, self.invoke = function, source, invoke
        self.console, self.dead_letters, self.checkpoints = console, dead_letters, checkpoints
        self.key = f"{function}.{source.name}"
        self.table = tpl.table_name(source.table)
        self.dynamodb, self.streams = dynamodb_client(endpoint), streams_client(endpoint)
        self.shards: dict[str, _Shard] = {}
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.stream_arn = ""
        self.saved: dict[str, str] = {}
        self.first_run = True
        self.discovered_at = 0.0
        declared = source.max_retries
        self.max_retries = declared if 0 <= declared <= retry_cap() else retry_cap()
        self.capped = not 0 <= declared <= retry_cap()

    # ------------------------------------------------------------------ set-up
    def prepare(self) -> None:
        """Find the stream and anchor the initial shards' iterators (LATEST means: from now)."""
        self.stream_arn = self.dynamodb.describe_table(TableName=self.table)["Table"]["LatestStreamArn"]
        saved = self.checkpoints.saved(self.key, self.stream_arn)
        self.first_run, self.saved = saved is None, saved or {}
        self._discover(initial=True)
        for shard in self._ready():
            self._acquire(shard)
        where = self.source.starting_position if self.first_run else "its checkpoint"
        self._log("INFO", f"consuming the stream of {self.table} from {where}")

    def _discover(self, initial: bool = False) -> None:
        start: str | None = None
        while True:
            kwargs = {"StreamArn": self.stream_arn, **({"ExclusiveStartShardId": start} if start else {})}
            description = self.streams.describe_stream(**kwargs)["StreamDescription"]
            for shard in description.get("Shards") or []:
                if shard["ShardId"] not in self.shards:
                    self.shards[shard["ShardId"]] = _Shard(shard["ShardId"], shard.get("ParentShardId"), initial)
            start = description.get("LastEvaluatedShardId")
            if not start:
                break
        self.discovered_at = time.monotonic()

    def _ready(self) -> list[_Shard]:
        """Open work: shards not drained whose parent (if still listed) is drained."""
        return [
            s
            for s in self.shards.values()
            if not s.done and (s.parent is None or s.parent not in self.shards or self.shards[s.parent].done)
        ]

    def _acquire(self, shard: _Shard) -> None:
        position = shard.handled or self.saved.get(shard.id)
        if position == "END":
            shard.done = True
            return
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": shard.id}
        if position in ("LATEST", "TRIM_HORIZON"):
            kwargs["ShardIteratorType"] = position
        elif position:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=position)
        else:
            position = self.source.starting_position if shard.initial and self.first_run else "TRIM_HORIZON"
            kwargs["ShardIteratorType"] = position
        try:
            shard.iterator = self.streams.get_shard_iterator(**kwargs)["ShardIterator"]
        except ClientError as error:
            if kwargs["ShardIteratorType"] != "AFTER_SEQUENCE_NUMBER":
                raise
            self._log(
                "WARNING",
                f"checkpoint of shard {shard.id} is gone ({error.response['Error']['Code']}); "
                "reading the shard from TRIM_HORIZON",
            )
            kwargs = {"StreamArn": self.stream_arn, "ShardId": shard.id, "ShardIteratorType": "TRIM_HORIZON"}
            shard.iterator = self.streams.get_shard_iterator(**kwargs)["ShardIterator"]
        shard.buffer, shard.buffered_at = [], None
        if not shard.started and not (self.saved.get(shard.id) or shard.handled):
            self.checkpoints.set(self.key, shard.id, kwargs["ShardIteratorType"])
        shard.started = True

    # ------------------------------------------------------------------ the loop
    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"stream-{self.key}")
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        if self.thread:
            self.thread.join(timeout=10)

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                ready = self._ready()
                if not ready or time.monotonic() - self.discovered_at > REDISCOVER_SECONDS:
                    self._discover()
                    ready = self._ready()
                busy = False
                for shard in ready:
                    busy = self._poll(shard) or busy
                if not busy:
                    self.stop.wait(poll_seconds())
            except _Stopped:
                return
            except Exception as error:
                self._log("WARNING", f"stream read failed ({type(error).__name__}); retrying in 1 s")
                for shard in self.shards.values():
                    shard.iterator = None
                self.stop.wait(1.0)

    def _poll(self, shard: _Shard) -> bool:
        if shard.iterator is None:
            self._acquire(shard)
            if shard.done:
                return False
        try:
            answer = self.streams.get_records(ShardIterator=shard.iterator, Limit=min(1000, self.source.batch_size))
        except ClientError as error:
            if error.response["Error"]["Code"] in ("ExpiredIteratorException", "TrimmedDataAccessException"):
                shard.iterator = None
                return True
            raise
        shard.iterator = answer.get("NextShardIterator")
        raw = answer.get("Records") or []
        for item in raw:
            record = lambda_record(item, self.stream_arn)
            shard.read = record["dynamodb"].get("SequenceNumber")
            if not self.source.filters or any(patterns.matches(p, record) for p in self.source.filters):
                shard.buffer.append(record)
                shard.buffered_at = shard.buffered_at or time.monotonic()
        closed = shard.iterator is None
        while shard.buffer and (
            closed
            or len(shard.buffer) >= self.source.batch_size
            or time.monotonic() - shard.buffered_at >= self.source.batching_window_s
        ):
            batch = shard.buffer[: self.source.batch_size]
            del shard.buffer[: self.source.batch_size]
            self._deliver(shard, batch)
            self._handled(shard, batch[-1]["dynamodb"]["SequenceNumber"])
        if not shard.buffer:
            shard.buffered_at = None
            if shard.read and shard.read != shard.handled:
                self._handled(shard, shard.read)  # records the filters dropped are done too
        if closed and not shard.buffer:
            shard.done = True
            self.checkpoints.set(self.key, shard.id, "END")
        return bool(raw)

    def _handled(self, shard: _Shard, sequence_number: str) -> None:
        shard.handled = sequence_number
        self.checkpoints.set(self.key, shard.id, sequence_number)

    # ------------------------------------------------------------------ invoking
    def _deliver(self, shard: _Shard, records: list[dict[str, Any]]) -> None:
        work: deque[list[dict[str, Any]]] = deque([records])
        while work:
            batch, retries = work.popleft(), 0
            while True:
                outcome, index, error_type = self._invoke(batch)
                if outcome == "ok":
                    break
                if outcome == "partial":
                    if index:
                        self._handled(shard, batch[index - 1]["dynamodb"]["SequenceNumber"])
                    batch = batch[index:]
                elif self.source.bisect and len(batch) > 1:
                    half = len(batch) // 2
                    work.extendleft([batch[half:], batch[:half]])
                    self._log("WARNING", f"{self.function} failed ({error_type}) on {len(batch)} records; bisecting")
                    break
                retries += 1
                if retries > self.max_retries:
                    self._dead_letter(shard, batch, retries, error_type)
                    break
                delay = retry_delay(retries)
                self._log(
                    "WARNING",
                    f"{self.function} failed ({error_type}) on {len(batch)} record(s); "
                    f"retry {retries} of {self.max_retries} in {delay:g} s",
                )
                if self.stop.wait(delay):
                    raise _Stopped

    def _invoke(self, batch: list[dict[str, Any]]) -> tuple[str, int, str]:
        if self.stop.is_set():
            raise _Stopped
        try:
            result = self.invoke(self.function, {"Records": batch}, str(uuid.uuid4()))
        except FunctionFailed as error:
            if error.error_type == "Local.ShuttingDown" or self.stop.is_set():
                raise _Stopped from None
            return "error", 0, error.error_type
        if not self.source.report_item_failures or not isinstance(result, dict):
            return "ok", 0, ""
        failures = result.get("batchItemFailures") or []
        if not failures:
            return "ok", 0, ""
        sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in batch]
        ids = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures]
        if any(i not in sequence_numbers for i in ids):
            return "error", 0, "InvalidBatchItemIdentifier"  # Lambda fails the whole batch
        return "partial", min(sequence_numbers.index(i) for i in ids), "BatchItemFailure"

    def _dead_letter(self, shard: _Shard, batch: list[dict[str, Any]], retries: int, error_type: str) -> None:
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        info = {
            "shardId": shard.id,
            "startSequenceNumber": first["SequenceNumber"],
            "endSequenceNumber": last["SequenceNumber"],
            "batchSize": len(batch),
            "streamArn": self.stream_arn,
        }
        self.dead_letters.add(
            source="aws:dynamodb",
            function=self.function,
            error_type=error_type,
            attempts=retries,
            destination=self.source.on_failure,
            # keys and positions only: AWS's on-failure destination gets no record at all (the images
            # can hold a reason), and this list is served at /_local/dead-letters without a token
            payload={"Records": [_keys_only(r) for r in batch]},
            reason="RetryAttemptsExhausted" + (" (capped locally)" if self.capped else ""),
            event_source=self.key,
            DDBStreamBatchInfo=info,
        )
        self._log(
            "ERROR",
            f"{self.function} failed {retries} time(s) ({error_type}) on {len(batch)} record(s) "
            f"(sequence {info['startSequenceNumber']}-{info['endSequenceNumber']}): dead letter; "
            "the shard moves on",
        )

    def _log(self, level: str, message: str) -> None:
        self.console("DynamoDBStreams", json.dumps({"level": level, "message": f"{self.key}: {message}"}))


class Streams:
    """Every enabled stream consumer of the template."""

    def __init__(
        self,
        endpoint: str,
        functions: Any,
        console: LogSink,
        dead_letters: DeadLetters,
        checkpoint_path: Path | None = None,
    ) -> None:
        self.console = console
        self.checkpoints = Checkpoints(checkpoint_path)
        self.consumers = [
            Consumer(f.logical_id, source, endpoint, functions.invoke, console, dead_letters, self.checkpoints)
            for f in tpl.functions()
            for source in f.streams
            if source.enabled
        ]
        self.running: list[Consumer] = []

    def start(self) -> None:
        for consumer in self.consumers:
            try:
                consumer.prepare()
            except (ClientError, BotoCoreError, KeyError) as error:
                # e.g. moto (no Java) has no DynamoDB Streams: the API still runs, the consumer does not.
                consumer._log(
                    "WARNING", f"not consuming: the store has no stream for {consumer.table} ({type(error).__name__})"
                )
                continue
            consumer.start()
            self.running.append(consumer)

    def stop(self) -> None:
        for consumer in self.running:
            consumer.stop.set()
        for consumer in self.running:
            consumer.close()


def _keys_only(record: dict[str, Any]) -> dict[str, Any]:
    change = record["dynamodb"]
    return {
        "eventID": record.get("eventID"),
        "eventName": record.get("eventName"),
        "dynamodb": {"Keys": change.get("Keys"), "SequenceNumber": change["SequenceNumber"]},
    }
