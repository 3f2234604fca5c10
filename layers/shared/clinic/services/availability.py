"""The earliest free slots across doctors (GET /availability, API.md v1.2): every matching active
doctor's free bookable slots, merged by start (then doctor id), paginated — exactly what each doctor's
own availability would offer.

Each doctor's slots are computed as the doctor's own availability computes them (clinic.domain.booking
candidates, then clinic.domain.free_time against the occupied time), from reads that do not grow with
the number of doctors:

- the doctors: those working at the location (their membership items, then their records, consistent),
  or by specialty, or all of them;
- their occupied time: one Query of the ``site_hours`` index per location the doctors have ever worked
  at — a booking at a location writes that location on the doctor's and the resources' hour items, and
  every location a doctor's hours have ever named is in the doctor's ``sites``, so every hour item of
  such a doctor is found under one of them. A doctor who has ever had hours at no particular location
  (``sites_none``, and every doctor created before locations existed) is read from their own slot
  locks, one Query each: their hour items may carry no location;
- the rooms and equipment at a location: their records, and their occupied time from the same Query.

Slots are found a day at a time (with more doctors than the page holds: 3 hours first, each next
stretch twice as long, up to a day), from the window's start (or the page's), until the page is full:
the earliest slots cost the reads of the stretches that hold them, not the whole window's, and many
free doctors cost their first hours' slots, not their whole day's. The index is eventually consistent (a
booking of the last moment may still be offered; booking it answers 409, as it would after a race).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from clinic import pagination
from clinic.data import locks
from clinic.data.appointments import AppointmentStore
from clinic.domain import booking, free_time
from clinic.domain.busy import Busy
from clinic.errors import ApiError
from clinic.identity import Caller
from clinic.models.common import now_utc, parse_utc, utc_iso
from clinic.services import allocation, clinic_settings, doctors

MAX_DAYS = 14
# Slots are found a stretch of time at a time, from the window's (or the page's) start, until the page is
# full: a day at a time; with at least as many doctors as the page holds, first FIRST_CHUNK and each next
# stretch twice as long, up to a day. Short first stretches: with many free doctors the page fills in its
# first hours (200 doctors' whole first day was 8,000 slots built for a page of 100); growing ones: each
# stretch that has candidates costs a read of its occupied time, so a sparse calendar costs a few a day.
FIRST_CHUNK, LONGEST_CHUNK = timedelta(hours=3), timedelta(days=1)
# how far an occupied interval may reach from its start: the longest appointment and both buffers
REACH = timedelta(minutes=booking.MAX_DURATION_MINUTES + 2 * 120)


def search(
    window_start: datetime,
    window_end: datetime,
    *,
    specialty: str | None,
    location_id: str | None,
    type_code: str | None,
    limit: int,
    next_token: str | None,
    who: Caller,
    doctor_id: str | None = None,
    count_total: bool = False,
) -> dict[str, Any]:
    """The page of free slots after ``next_token``. ``doctor_id`` keeps one doctor's slots only (the FHIR
    ``$find``'s practitioner: the same slots, filtered); ``count_total`` also counts every slot of the
    window (``total``), which reads the whole window instead of stopping once the page is full."""
    booking.check_span(window_start, window_end, MAX_DAYS)
    parts: tuple[Any, ...] = (
        "availability",
        utc_iso(window_start),
        utc_iso(window_end),
        doctors.specialty_key(specialty) if specialty else None,
        location_id,
        type_code,
    )
    scope = pagination.scope_of(*parts, *((doctor_id,) if doctor_id else ()))
    after = pagination.decode(next_token, scope)
    values = clinic_settings.fresh()  # a read: a settings change that has answered decides at once
    policy = clinic_settings.policy_of(values)
    matching = _doctors(specialty, location_id, type_code, doctor_id)
    closed = _closed_locations(matching)
    now = now_utc()
    notice_applies = not who.is_staff
    last = (parse_utc(after["start"]), after["doctor_id"]) if after else None
    found: list[tuple[datetime, str, booking.Booking]] = []
    total = 0
    chunk_start = max(window_start, last[0]) if last and not count_total else window_start
    # short first stretches only where they pay: more doctors than the page holds (a total reads it all)
    chunk = FIRST_CHUNK if len(matching) >= limit and not count_total else LONGEST_CHUNK
    while chunk_start < window_end and (count_total or len(found) <= limit):
        chunk_end = min(chunk_start + chunk, window_end)
        chunk = min(2 * chunk, LONGEST_CHUNK)
        for start, found_doctor, plan in _slots(
            matching, chunk_start, chunk_end, window_end, now, type_code, location_id, policy, notice_applies, closed
        ):
            total += 1
            if last is None or (start, found_doctor) > last:
                found.append((start, found_doctor, plan))
        chunk_start = chunk_end
    found.sort(key=lambda f: (f[0], f[1]))
    page = found[:limit]
    token = None
    if len(found) > limit:
        token = pagination.encode({"start": utc_iso(page[-1][0]), "doctor_id": page[-1][1]}, scope)
    return {
        "items": [
            {
                "start": utc_iso(plan.interval.start),
                "end": utc_iso(plan.interval.end),
                "doctor_id": doctor_id,
                "location_id": plan.location_id,
                "appointment_type": plan.appointment_type,
            }
            for _, doctor_id, plan in page
        ],
        "next_token": token,
        **({"total": total} if count_total else {}),
    }


def _doctors(
    specialty: str | None, location_id: str | None, type_code: str | None, doctor_id: str | None = None
) -> list[dict[str, Any]]:
    """The active doctors who match, read now (time off created a moment ago is never offered)."""
    if doctor_id is not None:
        found = [doctors.load(doctor_id)]  # 404 when there is no such doctor
    else:
        found = doctors.at_location(location_id) if location_id else doctors.all_current(specialty)
    key = doctors.specialty_key(specialty) if specialty else None
    return [
        d
        for d in found
        if d.get("active", False)
        and (key is None or doctors.specialty_key(d["specialty"]) == key)
        and (type_code is None or any(t["code"] == type_code for t in d.get("appointment_types") or ()))
    ]


def _closed_locations(matching: list[dict[str, Any]]) -> frozenset[str]:
    named = {
        span["location_id"]
        for d in matching
        for spans in (d.get("working_hours") or {}).values()
        for span in spans
        if span.get("location_id")
    }
    return frozenset(loc for loc in named if not (allocation.location(loc, fresh=True) or {}).get("active", False))


def _slots(
    matching: list[dict[str, Any]],
    chunk_start: datetime,
    chunk_end: datetime,
    window_end: datetime,
    now: datetime,
    type_code: str | None,
    location_id: str | None,
    policy: booking.Policy,
    notice_applies: bool,
    closed: frozenset[str],
) -> list[tuple[datetime, str, booking.Booking]]:
    """Every matching doctor's free slots starting in [chunk_start, chunk_end)."""
    reach = min(window_end, chunk_end + timedelta(minutes=booking.MAX_DURATION_MINUTES))
    plans: dict[str, list[booking.Booking]] = {}
    for doctor in matching:
        try:
            candidates = booking.candidates(
                doctor,
                chunk_start,
                reach,
                now,
                type_code=type_code,
                policy=policy,
                notice_applies=notice_applies,
                inactive_locations=closed,
            )
        except ApiError:  # a doctor whose calendar cannot offer this (e.g. a type's duration off their grid)
            continue
        wanted = [
            c
            for c in candidates
            if c.interval.start < chunk_end and (location_id is None or c.location_id == location_id)
        ]
        if wanted:
            plans[doctor["id"]] = wanted
    if not plans:
        return []
    busy, resources = _occupied(
        [d for d in matching if d["id"] in plans], plans, chunk_start - REACH, chunk_end + REACH, now
    )
    found = []
    for doctor_id, candidates in plans.items():
        for plan in free_time.free(candidates, busy.get(locks.doctor_owner(doctor_id), Busy()), resources):
            found.append((plan.interval.start, doctor_id, plan))
    return found


def _occupied(
    busy_doctors: list[dict[str, Any]],
    plans: dict[str, list[booking.Booking]],
    start: datetime,
    end: datetime,
    now: datetime,
) -> tuple[dict[str, Busy], dict[str, dict[str, list[tuple[str, Busy]]]]]:
    """The occupied time of the doctors, and of the active resources the plans' kinds need at their
    locations: a Query of the site index per location the doctors have ever worked at, and of each
    doctor's own slot locks where their hour items may carry no location."""
    store, epoch = AppointmentStore(), int(now.timestamp())
    sites: set[str] = set()
    own: list[str] = []
    for doctor in busy_doctors:
        if doctor.get("sites_none", "sites" not in doctor):
            own.append(doctor["id"])
        sites.update(doctor.get("sites") or ())
    needed: dict[str, set[str]] = defaultdict(set)  # location → kinds
    for candidates in plans.values():
        for plan in candidates:
            if plan.resource_kinds and plan.location_id:
                needed[plan.location_id].update(plan.resource_kinds)
    sites.update(needed)
    intervals: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for site in sorted(sites):
        for owner, spans in store.site_busy(site, start, end, epoch).items():
            intervals[owner] += spans
    for doctor_id in own:
        intervals[locks.doctor_owner(doctor_id)] += store.busy(locks.doctor_owner(doctor_id), start, end, epoch)
    busy = {owner: Busy.of(spans) for owner, spans in intervals.items()}
    resources: dict[str, dict[str, list[tuple[str, Busy]]]] = {}
    for location_id, kinds in needed.items():
        at = resources.setdefault(location_id, {})
        for resource in allocation.resources_at(location_id, fresh=True):
            if resource.get("active", False) and resource["kind"] in kinds:
                owner = locks.resource_owner(resource["id"])
                at.setdefault(resource["kind"], []).append((resource["id"], busy.get(owner, Busy())))
    return busy, resources
