"""The local metrics view: book over HTTP, then see the business metric and the route's latency
in /_local/metrics.json (and the page that draws them)."""

from __future__ import annotations

import time
from datetime import UTC

import requests

from tests import days

ALL_DAY = {d: [{"start": "00:00", "end": "24:00"}] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def post(stack, path, body):
    response = requests.post(stack.url + path, json=body, headers=stack.headers("staff"), timeout=60)
    assert response.status_code == 201, response.text
    return response.json()


def metrics(stack) -> dict:
    response = requests.get(stack.url + "/_local/metrics.json", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def booked_total(snapshot: dict) -> float:
    return sum(
        m["total"]
        for m in snapshot["metrics"]
        if m["namespace"] == "ClinicAppointments" and m["name"] == "AppointmentBooked"
    )


def wait_for(stack, condition, seconds: float = 15) -> dict:
    # EMF lines reach the collector a moment after the response (the worker's stdout is pumped).
    deadline = time.monotonic() + seconds
    while True:
        snapshot = metrics(stack)
        if condition(snapshot) or time.monotonic() > deadline:
            return snapshot
        time.sleep(0.3)


def test_given_a_booking_then_the_local_metrics_show_it_and_the_route_latency(stack):
    before = booked_total(metrics(stack))
    patient = post(
        stack,
        "/patients",
        {"given_name": "Metric", "family_name": "Watcher", "birth_date": "1980-02-02", "sex": "unknown"},
    )
    doctor = post(
        stack,
        "/doctors",
        {
            "given_name": "Metric",
            "family_name": "Doctor",
            "specialty": "Metrics",
            "time_zone": "UTC",
            "slot_minutes": 15,
            "working_hours": ALL_DAY,
        },
    )
    day = days.first_day(11, UTC)  # the doctor works in UTC, all day
    post(
        stack,
        "/appointments",
        {"patient_id": patient["id"], "doctor_id": doctor["id"], "start": f"{day.isoformat()}T07:00:00Z"},
    )

    snapshot = wait_for(stack, lambda s: booked_total(s) >= before + 1)
    assert booked_total(snapshot) >= before + 1
    booked = [m for m in snapshot["metrics"] if m["name"] == "AppointmentBooked"]
    assert booked[0]["dimensions"] == {"service": "clinic-appointments"} and booked[0]["unit"] == "Count"
    assert booked[0]["series"], "a time series for the chart"

    snapshot = wait_for(stack, lambda s: any(r["route"] == "POST /appointments" for r in s["routes"]))
    (route,) = [r for r in snapshot["routes"] if r["route"] == "POST /appointments"]
    assert route["count"] >= 1 and route["status"].get("2xx", 0) >= 1
    assert 0 < route["latency_ms"]["p50"] <= route["latency_ms"]["p99"] <= route["latency_ms"]["max"]
    # The page itself is not a route of the API.
    assert not [r for r in snapshot["routes"] if "/_local/" in r["route"]]


def test_the_metrics_page_draws_routes_and_metrics_without_external_assets(stack):
    response = requests.get(stack.url + "/_local/metrics", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.text
    assert "<svg" in page and "POST /patients" in page and "ColdStart" in page
    assert "http://" not in page and "https://" not in page, "no CDN: the page works offline"
