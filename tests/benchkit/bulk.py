"""Tables of 1,000 or 100,000 appointments, fast: items written with BatchWriteItem straight into a
DynamoDB Local, shaped as the service writes them.

The shapes are not re-typed here: every generated item is a copy of an item the service itself wrote
(through the local stack: ``templates`` picks one of each kind from a table scan) with its ids, times
and counts replaced, and ``check_shapes`` compares attribute names. What the service writes per
booked appointment (clinic.data.appointments, locks, ledger):

- the appointment (AppointmentsTable; ``schedule_doctor_id`` only while not cancelled);
- one item per (doctor, UTC hour) and per (patient, UTC hour) holding its 5-minute cells ``mXX``
  (SlotLocksTable), freed when it is cancelled;
- the patient's open-appointment counter (``#open``) and the doctor-patient link (``#patient#<id>``);
- and of course the doctor and patient records.

The filler has the measured doctor's and patient's own history (fulfilled appointments before the
window the reads ask for) and, around it, other doctors and patients: each patient sees one doctor,
ten appointments each, a tenth of them cancelled, over a year around today.

The large tables live beside the template's in the same DynamoDB Local, under another name prefix
(``create_tables``); the bench's proxy renames the tables of a request to reach them. One store
process for both sizes: the same JIT warmth and memory, so latencies compare.

Writing: the DynamoDB JSON protocol over keep-alive HTTP from a few threads (boto3's serialisation
costs more than DynamoDB Local's insert; measured here: ~650 items/s through boto3 from one thread,
~2,500-3,000 items/s this way).
"""

from __future__ import annotations

import copy
import http.client
import json
import os
import random
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from local_stack import template as tpl

Item = dict[str, dict[str, Any]]  # DynamoDB JSON: {"id": {"S": "..."}, ...}
SIGNATURE = (
    "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=host, Signature=0"
)  # DynamoDB Local does not check it, but wants one


def S(value: str) -> dict[str, str]:
    return {"S": value}


def N(value: int) -> dict[str, str]:
    return {"N": str(value)}


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class Writer:
    """BatchWriteItem, 25 items a call, from ``threads`` threads with a connection each."""

    def __init__(self, endpoint: str, threads: int = 3) -> None:
        self.target = urlsplit(endpoint)
        self.threads = threads
        self.local = threading.local()
        self.written = 0
        self.lock = threading.Lock()

    def _call(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        if not hasattr(self.local, "connection"):
            self.local.connection = http.client.HTTPConnection(self.target.hostname, self.target.port, timeout=60)
        connection = self.local.connection
        connection.request(
            "POST",
            "/",
            body=json.dumps(payload),
            headers={
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": f"DynamoDB_20120810.{operation}",
                "Authorization": SIGNATURE,
            },
        )
        reply = connection.getresponse()
        answer = json.loads(reply.read() or b"{}")
        if reply.status != 200:
            raise RuntimeError(f"{operation}: {reply.status} {answer}")
        return answer

    def _batch(self, table: str, items: list[Item]) -> None:
        request = {table: [{"PutRequest": {"Item": item}} for item in items]}
        while request:
            request = self._call("BatchWriteItem", {"RequestItems": request}).get("UnprocessedItems") or {}
        with self.lock:
            self.written += len(items)

    def put(self, by_table: dict[str, list[Item]]) -> None:
        chunks = [(table, items[i : i + 25]) for table, items in by_table.items() for i in range(0, len(items), 25)]
        random.Random(0).shuffle(chunks)  # spread the tables over the threads
        with ThreadPoolExecutor(self.threads) as pool:
            list(pool.map(lambda chunk: self._batch(*chunk), chunks))

    def scan(self, table: str) -> list[Item]:
        items, start = [], None
        while True:
            answer = self._call("Scan", {"TableName": table, **({"ExclusiveStartKey": start} if start else {})})
            items += answer.get("Items", [])
            start = answer.get("LastEvaluatedKey")
            if not start:
                return items

    def count(self, table: str) -> int:
        total, start = 0, None
        while True:
            answer = self._call(
                "Scan", {"TableName": table, "Select": "COUNT", **({"ExclusiveStartKey": start} if start else {})}
            )
            total += answer.get("Count", 0)
            start = answer.get("LastEvaluatedKey")
            if not start:
                return total


def table_names() -> dict[str, str]:
    return {t.logical_id: t.name for t in tpl.tables()}


def snapshot(source: Writer) -> dict[str, list[Item]]:
    """Every item of every table of the template."""
    return {name: source.scan(name) for name in table_names().values()}


def templates(tables: dict[str, list[Item]], doctor_id: str) -> dict[str, Item]:
    """One item of each kind the service wrote, to copy the shapes from."""
    names = table_names()
    locks = tables[names["SlotLocksTable"]]

    def pick(items: list[Item], test) -> Item:
        found = [i for i in items if test(i)]
        if not found:
            raise RuntimeError("the seeded world lacks an item to copy a shape from")
        return copy.deepcopy(found[0])

    return {
        "appointment": pick(
            tables[names["AppointmentsTable"]],
            lambda i: i["status"]["S"] == "booked" and "series_id" not in i and "reason" not in i,
        ),
        "doctor": pick(tables[names["DoctorsTable"]], lambda i: i["id"]["S"] == doctor_id),
        "patient": pick(tables[names["PatientsTable"]], lambda i: "email" not in i and "phone" not in i),
        "hour": pick(locks, lambda i: i["owner"]["S"].startswith("doctor#") and i["hour"]["S"][:1].isdigit()),
        "open": pick(locks, lambda i: i["hour"]["S"] == "#open"),
        "link": pick(locks, lambda i: i["hour"]["S"].startswith("#patient#")),
    }


class Filler:
    """Generates the filler for one table size, from the world's item shapes."""

    def __init__(
        self, shapes: dict[str, Item], doctor_id: str, patient_id: str, window_start: datetime, seed: int = 7
    ) -> None:
        self.shapes, self.doctor_id, self.patient_id = shapes, doctor_id, patient_id
        self.window_start = window_start
        self.random = random.Random(seed)
        self.now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        self.appointments: list[Item] = []
        self.hours: dict[tuple[str, str], Item] = {}
        # (doctor, patient) → the link's counts: n (not cancelled), live (booked or arrived), done
        self.links: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: {"n": 0, "live": 0, "done": 0})
        self.open: dict[str, int] = defaultdict(int)
        self.doctors: list[Item] = []
        self.patients: list[Item] = []

    def _appointment(self, doctor: str, patient: str, start: datetime, status: str) -> Item:
        item = copy.deepcopy(self.shapes["appointment"])
        end = start + timedelta(minutes=15)
        stamp = iso(min(start, self.now) - timedelta(days=30))
        item.update(
            {
                "id": S(str(uuid.uuid4())),
                "doctor_id": S(doctor),
                "patient_id": S(patient),
                "start_at": S(iso(start)),
                "end_at": S(iso(end)),
                "duration_minutes": N(15),
                "status": S(status),
                "created_at": S(stamp),
                "updated_at": S(stamp),
                "version": N(1),
                "buffer_before": N(0),
                "buffer_after": N(0),
                "schedule_doctor_id": S(doctor),
            }
        )
        if status == "cancelled":
            del item["schedule_doctor_id"]
            item.update(
                {"cancellation_reason": S("filler"), "cancelled_by_request": S(str(uuid.uuid4())), "version": N(2)}
            )
        elif status == "fulfilled":
            item.update({"status_changed_by_request": S(str(uuid.uuid4())), "version": N(3)})
        else:
            self.open[patient] += 1
        if status != "cancelled":  # a cancelled appointment's cells and link were given back
            for owner in (f"doctor#{doctor}", f"patient#{patient}"):
                for cell in range(0, 15, 5):
                    at = start + timedelta(minutes=cell)
                    hour = self.hours.setdefault(
                        (owner, at.strftime("%Y-%m-%dT%H")), {"owner": S(owner), "hour": S(at.strftime("%Y-%m-%dT%H"))}
                    )
                    hour[f"m{at.minute:02d}"] = item["id"]
            counts = self.links[(doctor, patient)]
            counts["n"] += 1
            counts["done" if status == "fulfilled" else "live"] += 1
        self.appointments.append(item)
        return item

    def _record(self, kind: str, family_name: str | None = None) -> Item:
        item = copy.deepcopy(self.shapes[kind])
        item["id"] = S(str(uuid.uuid4()))
        if kind == "patient":
            item["family_name"] = S(family_name or "Filler")
            item["name_shard"] = S(family_name[0].lower() if family_name else "f")
            item["family_name_key"] = S(f"{(family_name or 'filler').lower()}#{item['id']['S']}")
        return item

    def history(self, count: int) -> None:
        """The measured doctor's and patient's own past: fulfilled, before the measured window."""
        start = min(self.window_start, self.now) - timedelta(days=1)
        for i in range(count):
            day, slot = divmod(i, 32)
            at = (start - timedelta(days=day)).replace(hour=8, minute=0) + timedelta(minutes=15 * slot)
            self._appointment(self.doctor_id, self.patient_id, at, "fulfilled")

    def others(self, count: int) -> None:
        """Other doctors and patients: a doctor for every 200 appointments, a patient for every ten."""
        doctors = max(1, count // 200)
        patients = max(1, count // 10)
        self.doctors = [self._record("doctor") for _ in range(doctors)]
        self.patients = [self._record("patient", f"Filler{i}") for i in range(patients)]
        next_slot = [0] * doctors
        first_day = self.now - timedelta(days=180)
        for i in range(count):
            p = i % patients  # a patient's ten appointments are spread over their doctor's days
            patient = self.patients[p]["id"]["S"]
            d = p % doctors
            slot = next_slot[d]
            next_slot[d] += 1
            day, minute = divmod(slot, 32)
            shift = (day * 45 + d * 13) % 360  # a doctor's days spread over the year (distinct while day < 8)
            at = (first_day + timedelta(days=shift)).replace(hour=8, minute=0) + timedelta(minutes=15 * minute)
            status = "cancelled" if self.random.random() < 0.1 else "fulfilled" if at < self.now else "booked"
            self._appointment(self.doctors[d]["id"]["S"], patient, at, status)

    def items(self, existing_links: dict[tuple[str, str], dict[str, int]]) -> dict[str, list[Item]]:
        """Everything to write, by table name. ``existing_links``: the world's own link counts, which the
        history adds to."""
        names = table_names()
        locks: list[Item] = list(self.hours.values())
        for (doctor, patient), counts in self.links.items():
            link = copy.deepcopy(self.shapes["link"])
            existing = existing_links.get((doctor, patient), {})
            link.update(
                {
                    "owner": S(f"doctor#{doctor}"),
                    "hour": S(f"#patient#{patient}"),
                    "patient_id": S(patient),
                    **{key: N(value + existing.get(key, 0)) for key, value in counts.items()},
                }
            )
            locks.append(link)
        for patient, n in self.open.items():
            counter = copy.deepcopy(self.shapes["open"])
            counter.update({"owner": S(f"patient#{patient}"), "n": N(n)})
            locks.append(counter)
        return {
            names["AppointmentsTable"]: self.appointments,
            names["SlotLocksTable"]: locks,
            names["DoctorsTable"]: self.doctors,
            names["PatientsTable"]: self.patients,
        }


def check_shapes(shapes: dict[str, Item], generated: dict[str, list[Item]]) -> list[str]:
    """Differences between the attribute names of generated items and of the service's own items."""
    names = table_names()
    problems = []
    booked = next((i for i in generated[names["AppointmentsTable"]] if i["status"]["S"] == "booked"), None)
    if booked is None:
        problems.append("no booked appointment generated")
    elif set(booked) != set(shapes["appointment"]):
        problems.append(f"appointment: {sorted(set(booked) ^ set(shapes['appointment']))}")
    for kind, table in (("doctor", "DoctorsTable"), ("patient", "PatientsTable")):
        if generated[names[table]] and set(generated[names[table]][0]) != set(shapes[kind]):
            problems.append(f"{kind}: {sorted(set(generated[names[table]][0]) ^ set(shapes[kind]))}")
    return problems


def world_links(tables: dict[str, list[Item]]) -> dict[tuple[str, str], dict[str, int]]:
    """The world's own doctor–patient links' counts (n, live, done), which the filler adds to."""
    names = table_names()
    return {
        (i["owner"]["S"].removeprefix("doctor#"), i["hour"]["S"].removeprefix("#patient#")): {
            key: int(i[key]["N"]) for key in ("n", "live", "done") if key in i
        }
        for i in tables[names["SlotLocksTable"]]
        if i["hour"]["S"].startswith("#patient#")
    }


def prefix() -> str:
    """What every table name of the template starts with (e.g. ``clinic-local-``)."""
    return os.path.commonprefix(list(table_names().values()))  # noqa: RUF071 - a string prefix, not a path


def create_tables(endpoint: str, new_prefix: str) -> list[str]:
    """The template's tables again, named with ``new_prefix`` instead of ``prefix()``, in the same store
    (so both sets live in one DynamoDB Local process: same JIT, same heap, same disk)."""
    from local_stack.dynamodb import client as dynamodb_client
    from local_stack.tables import create_table_request

    client = dynamodb_client(endpoint)
    existing = set(client.list_tables().get("TableNames", []))
    created = []
    for table in tpl.tables():
        request = create_table_request(table)
        request["TableName"] = request["TableName"].replace(prefix(), new_prefix, 1)
        # no stream: nothing consumes these copies, and DynamoDB Local slows down as a stream grows
        # (a 100,000-appointment load ran over 12 minutes with streams on, 85 s without); reads do not
        # touch the stream, so the size comparison is unaffected
        request.pop("StreamSpecification", None)
        if request["TableName"] not in existing:
            client.create_table(**request)
            created.append(request["TableName"])
    return created


def delete_tables(endpoint: str, names: list[str]) -> None:
    from local_stack.dynamodb import client as dynamodb_client

    client = dynamodb_client(endpoint)
    for name in names:
        client.delete_table(TableName=name)


def load(
    endpoint: str,
    world: dict[str, list[Item]],
    appointments: int,
    doctor_id: str,
    patient_id: str,
    window_start: datetime,
    *,
    table_prefix: str | None = None,
) -> dict[str, Any]:
    """Fill the tables to ``appointments`` appointments around the world (copied first into the tables
    named with ``table_prefix``, if given; without it the world is already in the template's tables)."""
    writer = Writer(endpoint)
    began = time.monotonic()

    def renamed(by_table: dict[str, list[Item]]) -> dict[str, list[Item]]:
        if table_prefix is None:
            return by_table
        return {name.replace(prefix(), table_prefix, 1): items for name, items in by_table.items()}

    if table_prefix is not None:
        writer.put(renamed(world))
    names = table_names()
    shapes = templates(world, doctor_id)
    filler = Filler(shapes, doctor_id, patient_id, window_start)
    own = len(world[names["AppointmentsTable"]])
    history = max(10, appointments // 100)
    filler.history(history)
    filler.others(max(0, appointments - own - history))
    items = filler.items(world_links(world))
    problems = check_shapes(shapes, items)
    if problems:
        raise RuntimeError(f"generated items differ from the service's: {problems}")
    writer.put(renamed(items))
    elapsed = time.monotonic() - began
    appointments_table = names["AppointmentsTable"]
    return {
        "items": writer.written,
        "seconds": elapsed,
        "appointments": writer.count(renamed({appointments_table: []}).popitem()[0]),
        "by_table": {table.split("-")[-1]: len(rows) for table, rows in items.items()},
    }
