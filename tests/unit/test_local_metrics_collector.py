"""The local metrics collector on its own: EMF lines, access-log lines, and lines it must ignore."""

from __future__ import annotations

import json

from local_stack.metrics import LocalMetrics, percentile, render

EMF = {
    "_aws": {
        "Timestamp": 1_700_000_005_000,
        "CloudWatchMetrics": [
            {
                "Namespace": "ClinicAppointments",
                "Dimensions": [["service", "reason"]],
                "Metrics": [{"Name": "BookingConflict", "Unit": "Count"}],
            }
        ],
    },
    "service": "clinic-appointments",
    "reason": "SLOT_UNAVAILABLE",
    "BookingConflict": [1.0, 1.0],
}


def access(latency: float, status: int = 201, path: str = "/appointments", integration: str | None = "Book") -> str:
    return json.dumps(
        {
            "requestId": "r",
            "httpMethod": "POST",
            "resourcePath": path,
            "status": status,
            "responseLatency": latency,
            "integration": integration,
        }
    )


def collector() -> LocalMetrics:
    return LocalMetrics(clock=lambda: 1_700_000_010.0)


def test_given_emf_lines_then_metrics_are_counted_by_name_and_dimensions():
    metrics = collector()
    metrics("BookAppointmentFunction", json.dumps(EMF))
    metrics("BookAppointmentFunction", json.dumps(EMF))
    (metric,) = metrics.snapshot()["metrics"]
    assert metric["name"] == "BookingConflict" and metric["total"] == 4
    assert metric["dimensions"] == {"service": "clinic-appointments", "reason": "SLOT_UNAVAILABLE"}
    assert metric["series"] == [[1_700_000_000, 4.0]]


def test_given_access_lines_then_each_route_has_counts_statuses_and_percentiles():
    metrics = collector()
    for latency in range(1, 101):
        metrics("ApiGateway", access(float(latency)))
    metrics("ApiGateway", access(5.0, status=409))
    (route,) = metrics.snapshot()["routes"]
    assert route["route"] == "POST /appointments" and route["count"] == 101
    assert route["status"] == {"2xx": 100, "4xx": 1}
    assert route["latency_ms"]["p99"] == 99.0 and route["latency_ms"]["max"] == 100.0


def test_local_pages_and_unmatched_paths_do_not_make_routes():
    metrics = collector()
    metrics("ApiGateway", access(1.0, 200, "/_local/metrics.json", None))
    metrics("ApiGateway", access(1.0, 404, "/wp-admin/1", None))
    metrics("ApiGateway", access(1.0, 404, "/wp-admin/2", None))
    assert [r["route"] for r in metrics.snapshot()["routes"]] == ["(no route)"]


def test_other_lines_are_ignored_and_never_break_the_console():
    metrics = collector()
    for line in (
        "plain text",
        "[1, 2]",
        '{"level": "INFO", "message": "x"}',
        '{"_aws": {"CloudWatchMetrics": [{}]}}',
        '{"httpMethod": "GET", "responseLatency": "fast", "status": 200, "resourcePath": "/x"}',
    ):
        metrics("Any", line)
    assert metrics.snapshot()["metrics"] == [] and metrics.snapshot()["routes"] == []
    assert "No requests yet" in render(metrics.snapshot())


def test_percentile_is_nearest_rank():
    assert percentile([], 50) is None
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([float(v) for v in range(1, 11)], 90) == 9.0
