"""EventBridge Scheduler (and scheduled EventBridge rules), locally.

The gateway serves the Scheduler API under ``/_aws/scheduler`` (botocore's REST-JSON protocol, the
URIs of botocore's ``scheduler`` model): CreateSchedule ``POST /schedules/{Name}``, UpdateSchedule
``PUT``, DeleteSchedule ``DELETE ...?groupName=``, GetSchedule ``GET ...?groupName=``,
ListSchedules ``GET /schedules``, and Create/Get/Delete/ListScheduleGroup(s) on
``/schedule-groups``. Errors carry ``x-amzn-ErrorType`` (ResourceNotFoundException 404,
ConflictException 409, ValidationException 400) so botocore raises its modelled exceptions.
Workers reach it through ``AWS_ENDPOINT_URL_SCHEDULER``.

Besides the schedules created at run time, the template's own are loaded at start: SAM
``ScheduleV2`` events and AWS::Scheduler::Schedule resources (visible to GetSchedule), and SAM
``Schedule`` events / AWS::Events::Rule ``ScheduleExpression`` (scheduled rules: the function gets
EventBridge's "Scheduled Event" envelope).

Expressions: ``at(yyyy-mm-ddThh:mm:ss)`` fires once (a time already past fires at once), in
``ScheduleExpressionTimezone``; ``rate(N minute(s)|hour(s)|day(s))`` every N units from creation
(or StartDate); ``cron(min hour day-of-month month day-of-week year)`` (``*``, ``?``, lists,
ranges, steps and names; not ``L``, ``W`` or ``#``). ``LOCAL_RATE_SECONDS`` replaces every rate and
cron period (tests, demos). A due schedule fires within ~0.5 s of its time (AWS: within its minute)
and invokes its Lambda target asynchronously (local_stack/async_invoke.py: retries, dead letters);
an at() schedule with ``ActionAfterCompletion: DELETE`` is then deleted. FlexibleTimeWindow is
accepted and ignored (fires at the window's start). ``KmsKeyArn`` must look like a KMS key's (or
alias's) ARN, as AWS checks, is kept and shown by GetSchedule; nothing is encrypted locally.

With a persistent store (``make run`` without --in-memory) the schedules created at run time and
the groups are kept in ``.local/schedules.json`` (so reminders survive a restart, as the data they
refer to does); the in-memory store keeps them in memory only.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from local_stack import ACCOUNT, REGION
from local_stack import template as tpl

LogSink = Callable[[str, str], None]
Answer = tuple[int, dict[str, str], bytes]
NAME = re.compile(r"^[0-9a-zA-Z_.\-]{1,64}$")
KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9\-]+:\d{12}:(key|alias)/[0-9a-zA-Z-_]*$")  # botocore's model
TICK_SECONDS = 0.5


# ---------------------------------------------------------------------- expressions
class ExpressionError(ValueError):
    """An expression EventBridge Scheduler would refuse (or one this local one cannot run)."""


_MONTHS = {
    m: i for i, m in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1)
}
_WEEKDAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}
_RATE_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int] | None  # None: "?" (the day of week decides)
    months: frozenset[int]
    weekdays: frozenset[int] | None  # 1 = SUN ... 7 = SAT; None: "?"
    years: frozenset[int]

    def day_matches(self, day: date) -> bool:
        if day.year not in self.years or day.month not in self.months:
            return False
        if self.days is not None and day.day not in self.days:
            return False
        return self.weekdays is None or day.isoweekday() % 7 + 1 in self.weekdays

    def next_after(self, after: datetime, zone: ZoneInfo) -> datetime | None:
        """The first matching minute strictly after ``after``, evaluated in ``zone``."""
        local = after.astimezone(zone)
        first = local.date()
        for offset in range(366 * 8):
            day = first + timedelta(days=offset)
            if not self.day_matches(day):
                continue
            for hour in sorted(self.hours):
                for minute in sorted(self.minutes):
                    candidate = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
                    if candidate.astimezone(UTC) > after.astimezone(UTC):
                        return candidate
        return None


def _cron_field(
    text: str, low: int, high: int, names: dict[str, int] | None = None, question: bool = False
) -> frozenset[int] | None:
    if text == "?":
        if not question:
            raise ExpressionError("'?' is only allowed in day-of-month or day-of-week")
        return None

    def value(token: str) -> int:
        token = token.upper()
        number = names[token] if names and token in names else int(token) if token.isdigit() else None
        if number is None and any(c in token for c in "LW#"):
            raise ExpressionError(f"'{text}': L, W and # are not supported by the local scheduler")
        if number is None or not low <= number <= high:
            raise ExpressionError(f"'{token}' is out of range {low}-{high}")
        return number

    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) < 1:
                raise ExpressionError(f"bad step in '{text}'")
            step = int(step_text)
        if part == "*":
            start, end = low, high
        elif "-" in part:
            start, end = (value(p) for p in part.split("-", 1))
        else:
            start = value(part)
            end = high if step > 1 else start
        if start > end:
            raise ExpressionError(f"bad range in '{text}'")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def parse_cron(fields: str) -> Cron:
    parts = fields.split()
    if len(parts) != 6:
        raise ExpressionError("cron() takes six fields: minutes hours day-of-month month day-of-week year")
    cron = Cron(
        minutes=_cron_field(parts[0], 0, 59),
        hours=_cron_field(parts[1], 0, 23),
        days=_cron_field(parts[2], 1, 31, question=True),
        months=_cron_field(parts[3], 1, 12, _MONTHS),
        weekdays=_cron_field(parts[4], 1, 7, _WEEKDAYS, question=True),
        years=_cron_field(parts[5], 1970, 2199),
    )
    if (cron.days is None) == (cron.weekdays is None):
        raise ExpressionError("cron(): exactly one of day-of-month and day-of-week must be '?'")
    return cron


@dataclass(frozen=True)
class Expression:
    kind: str  # at | rate | cron
    at: datetime | None = None  # naive, in the schedule's time zone
    period_s: float | None = None
    cron: Cron | None = None


def parse_expression(text: str) -> Expression:
    text = (text or "").strip()
    found = re.fullmatch(r"(at|rate|cron)\((.*)\)", text)
    if not found:
        raise ExpressionError(f"'{text}' is not at(...), rate(...) or cron(...)")
    kind, body = found.group(1), found.group(2).strip()
    if kind == "at":
        try:
            return Expression("at", at=datetime.strptime(body, "%Y-%m-%dT%H:%M:%S"))
        except ValueError:
            raise ExpressionError("at() takes yyyy-mm-ddThh:mm:ss") from None
    if kind == "rate":
        rate = re.fullmatch(r"(\d+)\s+(\w+)", body)
        if not rate or rate.group(2) not in _RATE_UNITS or int(rate.group(1)) < 1:
            raise ExpressionError("rate() takes a positive number and minute(s), hour(s) or day(s)")
        return Expression("rate", period_s=int(rate.group(1)) * _RATE_UNITS[rate.group(2)])
    return Expression("cron", cron=parse_cron(body))


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ExpressionError(f"unknown time zone {name!r}") from None


def rate_override() -> float | None:
    value = os.environ.get("LOCAL_RATE_SECONDS")
    return float(value) if value else None


def next_fire(
    expression: Expression,
    tz: ZoneInfo,
    after: float,
    anchor: float,
    start: float | None = None,
    end: float | None = None,
) -> float | None:
    """Epoch seconds of the next firing strictly after ``after`` (None: never again). ``anchor`` is
    when a rate() schedule started counting (its creation, its StartDate or its last firing)."""
    if expression.kind == "at":
        return expression.at.replace(tzinfo=tz).timestamp() if expression.at else None
    override = rate_override()
    if start is not None and after < start:
        after, anchor = start, start
    if override or expression.kind == "rate":
        period = override or expression.period_s or 60.0
        steps = max(1, int((after - anchor) // period) + 1)
        when = anchor + steps * period
    else:
        found = expression.cron.next_after(datetime.fromtimestamp(after, UTC), tz)
        when = found.timestamp() if found else None
    if when is None or (end is not None and when > end):
        return None
    return when


# ---------------------------------------------------------------------- schedules
class ScheduleError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class _Entry:
    name: str
    group: str
    expression: str
    timezone: str
    target: dict[str, Any]
    state: str = "ENABLED"
    action_after_completion: str = "NONE"
    flexible_time_window: dict[str, Any] = field(default_factory=lambda: {"Mode": "OFF"})
    description: str | None = None
    start_date: float | None = None
    end_date: float | None = None
    kms_key_arn: str | None = None
    created: float = field(default_factory=time.time)
    modified: float = field(default_factory=time.time)
    kind: str = "scheduler"  # "rule": a scheduled EventBridge rule from the template
    origin: str = "api"  # "api" | "template"
    last_fire: float | None = None
    completed: bool = False  # an at() schedule that fired (and was kept)
    next_fire: float | None = None

    @property
    def arn(self) -> str:
        if self.kind == "rule":
            return f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{self.name}"
        return f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/{self.group}/{self.name}"

    def arm(self, now: float) -> None:
        if self.completed:
            self.next_fire = None
            return
        expression = parse_expression(self.expression)
        anchor = self.last_fire or self.start_date or self.created
        self.next_fire = next_fire(
            expression,
            zone(self.timezone),
            self.last_fire or now,
            anchor,
            None if expression.kind == "at" else self.start_date,
            None if expression.kind == "at" else self.end_date,
        )

    def describe(self) -> dict[str, Any]:
        found = {
            "Arn": self.arn,
            "Name": self.name,
            "GroupName": self.group,
            "ScheduleExpression": self.expression,
            "ScheduleExpressionTimezone": self.timezone,
            "State": self.state,
            "Target": self.target,
            "FlexibleTimeWindow": self.flexible_time_window,
            "ActionAfterCompletion": self.action_after_completion,
            "CreationDate": self.created,
            "LastModificationDate": self.modified,
            "Description": self.description,
            "StartDate": self.start_date,
            "EndDate": self.end_date,
            "KmsKeyArn": self.kms_key_arn,
        }
        return {k: v for k, v in found.items() if v is not None}


class Scheduler:
    def __init__(
        self,
        invoker: Any,
        console: LogSink,
        store_path: Path | None = None,
        schedules: list[tpl.Schedule] | None = None,
        groups: list[str] | None = None,
    ) -> None:
        self.invoker, self.console, self.store_path = invoker, console, store_path
        self.condition = threading.Condition()
        self.groups: dict[str, float] = {g: time.time() for g in (tpl.schedule_groups() if groups is None else groups)}
        self.entries: dict[tuple[str, str], _Entry] = {}
        self.stopped = False
        self.thread: threading.Thread | None = None
        now = time.time()
        for declared in tpl.schedules() if schedules is None else schedules:
            entry = _Entry(
                name=declared.name,
                group=declared.group,
                expression=declared.expression,
                timezone=declared.timezone,
                kind=declared.kind,
                origin="template",
                target={
                    "Arn": tpl.function_arn(declared.function),
                    "RoleArn": "local",
                    **({"Input": declared.input} if declared.input is not None else {}),
                },
                state="ENABLED" if declared.enabled else "DISABLED",
            )
            try:
                entry.arm(now)
            except ExpressionError as error:  # stops the stack here, as a deploy would fail
                raise tpl.TemplateError(f"schedule {declared.name} of {declared.function}: {error}") from None
            self.entries[(f"rule:{entry.group}" if entry.kind == "rule" else entry.group, entry.name)] = entry
        self._load()

    # ------------------------------------------------------------------ persistence
    def _load(self) -> None:
        if not self.store_path or not self.store_path.exists():
            return
        try:
            saved = json.loads(self.store_path.read_text(encoding="utf-8"))
            self.groups.update(saved.get("groups") or {})
            now = time.time()
            for raw in saved.get("schedules") or []:
                entry = _Entry(**raw)
                entry.arm(now)
                self.entries[(entry.group, entry.name)] = entry
        except (OSError, ValueError, TypeError) as error:
            self._log("WARNING", f"ignoring {self.store_path.name}: {error}")

    def _save(self) -> None:
        if not self.store_path:
            return
        kept = [asdict(e) for e in self.entries.values() if e.origin == "api"]
        for raw in kept:
            raw.pop("next_fire", None)
        self.store_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.store_path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"groups": self.groups, "schedules": kept}, indent=1), encoding="utf-8")
        temporary.replace(self.store_path)

    # ------------------------------------------------------------------ the API
    def _entry(self, name: str, group: str | None) -> _Entry:
        entry = self.entries.get((group or "default", name))
        if entry is None:
            raise ScheduleError(404, "ResourceNotFoundException", f"Schedule {name} does not exist.")
        return entry

    def _build(self, name: str, body: dict[str, Any], created: float | None = None) -> _Entry:
        if not NAME.match(name):
            raise ScheduleError(400, "ValidationException", "Name must be 1-64 of [0-9a-zA-Z-_.].")
        group = body.get("GroupName") or "default"
        if group not in self.groups:
            raise ScheduleError(404, "ResourceNotFoundException", f"Schedule group {group} does not exist.")
        target, window = body.get("Target"), body.get("FlexibleTimeWindow")
        if not isinstance(target, dict) or not target.get("Arn") or not target.get("RoleArn"):
            raise ScheduleError(400, "ValidationException", "Target with Arn and RoleArn is required.")
        if not isinstance(window, dict) or window.get("Mode") not in ("OFF", "FLEXIBLE"):
            raise ScheduleError(400, "ValidationException", "FlexibleTimeWindow.Mode must be OFF or FLEXIBLE.")
        key = body.get("KmsKeyArn")
        if key is not None and not (isinstance(key, str) and KMS_KEY_ARN.match(key)):
            raise ScheduleError(400, "ValidationException", "KmsKeyArn must be the ARN of a KMS key or alias.")
        state = body.get("State") or "ENABLED"
        action = body.get("ActionAfterCompletion") or "NONE"
        if state not in ("ENABLED", "DISABLED") or action not in ("NONE", "DELETE"):
            raise ScheduleError(400, "ValidationException", "State or ActionAfterCompletion is not valid.")
        entry = _Entry(
            name=name,
            group=group,
            expression=str(body.get("ScheduleExpression") or ""),
            timezone=body.get("ScheduleExpressionTimezone") or "UTC",
            target=target,
            state=state,
            action_after_completion=action,
            flexible_time_window=window,
            description=body.get("Description"),
            start_date=body.get("StartDate"),
            end_date=body.get("EndDate"),
            kms_key_arn=key,
        )
        if created is not None:
            entry.created = created
        try:
            entry.arm(time.time())
        except ExpressionError as error:
            raise ScheduleError(400, "ValidationException", f"Invalid Schedule Expression: {error}") from None
        return entry

    def create(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.condition:
            entry = self._build(name, body)
            if (entry.group, name) in self.entries:
                raise ScheduleError(409, "ConflictException", f"Schedule {name} already exists.")
            self.entries[(entry.group, name)] = entry
            self._changed()
        self._log("INFO", f"schedule {entry.group}/{name} created: {entry.expression} → {self._target_name(entry)}")
        return {"ScheduleArn": entry.arn}

    def update(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.condition:
            old = self._entry(name, body.get("GroupName"))
            entry = self._build(name, body, created=old.created)
            entry.origin = old.origin
            self.entries[(entry.group, name)] = entry
            self._changed()
        self._log("INFO", f"schedule {entry.group}/{name} updated: {entry.expression}")
        return {"ScheduleArn": entry.arn}

    def delete(self, name: str, group: str | None) -> dict[str, Any]:
        with self.condition:
            entry = self._entry(name, group)
            del self.entries[(entry.group, name)]
            self._changed()
        self._log("INFO", f"schedule {entry.group}/{name} deleted")
        return {}

    def get(self, name: str, group: str | None) -> dict[str, Any]:
        with self.condition:
            return self._entry(name, group).describe()

    def list_schedules(self, group: str | None, prefix: str | None, state: str | None) -> dict[str, Any]:
        with self.condition:
            found = [
                e
                for e in self.entries.values()
                if e.kind == "scheduler"
                and (group is None or e.group == group)
                and (not prefix or e.name.startswith(prefix))
                and (state is None or e.state == state)
            ]
            return {
                "Schedules": [
                    {
                        "Arn": e.arn,
                        "Name": e.name,
                        "GroupName": e.group,
                        "State": e.state,
                        "CreationDate": e.created,
                        "LastModificationDate": e.modified,
                        "Target": {"Arn": e.target.get("Arn")},
                    }
                    for e in found
                ]
            }

    def group_request(self, method: str, name: str | None) -> dict[str, Any]:
        with self.condition:
            if name is None:
                return {"ScheduleGroups": [self._group(g) for g in self.groups]}
            if method == "POST":
                if name in self.groups:
                    raise ScheduleError(409, "ConflictException", f"Schedule group {name} already exists.")
                if not NAME.match(name):
                    raise ScheduleError(400, "ValidationException", "Name must be 1-64 of [0-9a-zA-Z-_.].")
                self.groups[name] = time.time()
                self._changed()
                return {"ScheduleGroupArn": self._group(name)["Arn"]}
            if name not in self.groups:
                raise ScheduleError(404, "ResourceNotFoundException", f"Schedule group {name} does not exist.")
            if method == "DELETE":
                if name == "default":
                    raise ScheduleError(400, "ValidationException", "The default group cannot be deleted.")
                del self.groups[name]
                for key in [k for k in self.entries if k[0] == name]:
                    del self.entries[key]
                self._changed()
                return {}
            return self._group(name)

    def _group(self, name: str) -> dict[str, Any]:
        at = self.groups[name]
        return {
            "Arn": f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/{name}",
            "Name": name,
            "State": "ACTIVE",
            "CreationDate": at,
            "LastModificationDate": at,
        }

    def _changed(self) -> None:
        self._save()
        self.condition.notify_all()

    def handle_http(self, method: str, path: str, query: str, headers: Any, body: bytes) -> Answer:
        parts = [unquote(p) for p in path.strip("/").split("/") if p]
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        try:
            try:
                request = json.loads(body) if body else {}
            except ValueError:
                raise ScheduleError(400, "ValidationException", "The request body is not JSON.") from None
            if not isinstance(request, dict):
                raise ScheduleError(400, "ValidationException", "The request body must be an object.")
            answer = self._route(method, parts, params, request)
        except ScheduleError as error:
            return (
                error.status,
                {"Content-Type": "application/json", "x-amzn-ErrorType": error.code},
                json.dumps({"Message": error.message}).encode(),
            )
        return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()

    def _route(self, method: str, parts: list[str], params: dict[str, str], request: dict[str, Any]):
        if parts and parts[0] == "schedules":
            if len(parts) == 1 and method == "GET":
                return self.list_schedules(params.get("ScheduleGroup"), params.get("NamePrefix"), params.get("State"))
            if len(parts) == 2:
                name = parts[1]
                if method == "POST":
                    return self.create(name, request)
                if method == "PUT":
                    return self.update(name, request)
                if method == "DELETE":
                    return self.delete(name, params.get("groupName"))
                if method == "GET":
                    return self.get(name, params.get("groupName"))
        if parts and parts[0] == "schedule-groups" and len(parts) <= 2:
            if len(parts) == 1 and method == "GET":
                return self.group_request(method, None)
            if len(parts) == 2 and method in ("POST", "GET", "DELETE"):
                return self.group_request(method, parts[1])
        raise ScheduleError(400, "UnknownOperationException", "Not supported by the local scheduler.")

    # ------------------------------------------------------------------ firing
    def start(self) -> None:
        self.thread = threading.Thread(target=self._loop, daemon=True, name="scheduler")
        self.thread.start()

    def stop(self) -> None:
        with self.condition:
            self.stopped = True
            self.condition.notify_all()
        if self.thread:
            self.thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            with self.condition:
                if self.stopped:
                    return
                now = time.time()
                due = [
                    e
                    for e in self.entries.values()
                    if e.next_fire is not None and e.next_fire <= now and e.state == "ENABLED"
                ]
                if not due:
                    upcoming = [
                        e.next_fire for e in self.entries.values() if e.next_fire is not None and e.state == "ENABLED"
                    ]
                    wait = min([TICK_SECONDS, *(max(0.01, t - now) for t in upcoming)])
                    self.condition.wait(wait)
                    continue
                fired = [(e, dict(e.target)) for e in due]
                changed = False
                for entry in due:
                    entry.last_fire = now
                    if parse_expression(entry.expression).kind == "at":
                        entry.completed, entry.next_fire = True, None
                        if entry.action_after_completion == "DELETE":
                            self.entries.pop((entry.group, entry.name), None)
                    else:
                        entry.arm(now)
                    changed = changed or entry.origin == "api"
                if changed:
                    self._save()
            for entry, target in fired:
                try:
                    self._fire(entry, target, now)
                except Exception as error:
                    self._log("ERROR", f"schedule {entry.group}/{entry.name} could not fire ({type(error).__name__})")

    def _target_name(self, entry: _Entry) -> str:
        return tpl.function_for_arn(entry.target.get("Arn")) or "an unknown target"

    def _fire(self, entry: _Entry, target: dict[str, Any], now: float) -> None:
        label = entry.name if entry.kind == "rule" else f"{entry.group}/{entry.name}"
        function = tpl.function_for_arn(target.get("Arn"))
        raw = target.get("Input")
        if raw is not None:
            try:
                event: Any = json.loads(raw)
            except ValueError:
                event = raw
        elif entry.kind == "rule":
            event = {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": ACCOUNT,
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
                "region": REGION,
                "resources": [entry.arn],
                "detail": {},
            }
        else:
            event = {}
        if function is None:
            # A delivery failure (no such function): the schedule's own DeadLetterConfig would get it.
            self.invoker.dead_letters.add(
                source="aws:scheduler",
                function=str(target.get("Arn")),
                error_type="ResourceNotFoundException",
                attempts=1,
                destination=(target.get("DeadLetterConfig") or {}).get("Arn"),
                payload=event,
                reason="TargetNotFound",
                schedule=label,
            )
            self._log("ERROR", f"schedule {label} fired, but its target is not a function of the template")
            return
        request_id = self.invoker.submit(function, event, "aws:scheduler", schedule=label)
        self.console(
            "Scheduler",
            json.dumps(
                {"level": "INFO", "message": f"schedule {label} fired → {function}", "invocation_id": request_id}
            ),
        )

    def _log(self, level: str, message: str) -> None:
        self.console("Scheduler", json.dumps({"level": level, "message": message}))

    # ------------------------------------------------------------------ /_local/schedules
    def json(self) -> bytes:
        with self.condition:
            items = [
                {
                    "name": e.name,
                    "group": e.group,
                    "kind": e.kind,
                    "origin": e.origin,
                    "expression": e.expression,
                    "timezone": e.timezone,
                    "state": e.state,
                    "function": tpl.function_for_arn(e.target.get("Arn")),
                    "next_fire": None
                    if e.next_fire is None
                    else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(e.next_fire)),
                }
                for e in self.entries.values()
            ]
        return json.dumps({"items": items}, indent=2).encode()
