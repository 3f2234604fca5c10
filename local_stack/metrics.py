"""The local stack's metrics view: what CloudWatch would show, while `make run` is up.

A console listener (``Console.listeners``) that reads every log line the stack prints:

- EMF lines from the functions (Powertools ``Metrics``: ``{"_aws": {"CloudWatchMetrics": ...}}``)
  become counters per namespace, metric name and dimensions, with a time series per bucket;
- the gateway's access-log lines (``httpMethod``, ``resourcePath``, ``status``,
  ``responseLatency``) become per-route request counts, status classes and latency percentiles.

The gateway serves it as ``GET /_local/metrics`` (HTML, inline SVG, refreshes itself) and
``GET /_local/metrics.json``. Everything is in memory, bounded, and forgotten on restart. Only
metric names, dimension values, routes and numbers are kept: never a log line's other fields.
"""

from __future__ import annotations

import html
import json
import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

BUCKET_SECONDS = 10
WINDOW_BUCKETS = 180  # 30 minutes of 10-second buckets on the charts
LATENCY_SAMPLES = 2000  # per route, for the percentiles
LOCAL_PATHS = ("/_local/", "/_aws/", "/openapi.json", "/docs")


def _bucket(at: float) -> int:
    return int(at // BUCKET_SECONDS) * BUCKET_SECONDS


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (what CloudWatch's pNN approximates)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class _Metric:
    namespace: str
    name: str
    dimensions: dict[str, str]
    unit: str
    total: float = 0.0
    series: dict[int, float] = field(default_factory=dict)


@dataclass
class _Route:
    route: str
    count: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    latencies: deque = field(default_factory=lambda: deque(maxlen=LATENCY_SAMPLES))
    series: dict[int, list[float]] = field(default_factory=dict)


class LocalMetrics:
    """Collects EMF metrics and access-log latencies; call it with (source, line) for each log line."""

    def __init__(self, clock=time.time) -> None:
        self.clock = clock
        self.started = clock()
        self.lock = threading.Lock()
        self.metrics: dict[tuple, _Metric] = {}
        self.routes: dict[str, _Route] = {}

    # ------------------------------------------------------------------ collecting
    def __call__(self, source: str, line: str) -> None:
        try:
            record = json.loads(line)
        except ValueError:
            return
        if not isinstance(record, dict):
            return
        try:
            if isinstance(record.get("_aws"), dict):
                self._emf(record)
            elif "httpMethod" in record and "responseLatency" in record:
                self._access(record)
        except (KeyError, TypeError, ValueError):
            return  # a malformed line never breaks the gateway

    def _emf(self, record: dict[str, Any]) -> None:
        meta = record["_aws"]
        at = float(meta.get("Timestamp", self.clock() * 1000)) / 1000
        for directive in meta.get("CloudWatchMetrics", []):
            namespace = directive.get("Namespace", "")
            dimension_sets = directive.get("Dimensions") or [[]]
            for definition in directive.get("Metrics", []):
                name = definition["Name"]
                raw = record.get(name, 0)
                value = float(sum(raw) if isinstance(raw, list) else raw)
                for keys in dimension_sets:
                    dimensions = {k: str(record.get(k, "")) for k in keys}
                    self._add(namespace, name, dimensions, definition.get("Unit", ""), value, at)

    def _add(self, namespace: str, name: str, dimensions: dict[str, str], unit: str, value: float, at: float) -> None:
        key = (namespace, name, tuple(sorted(dimensions.items())))
        with self.lock:
            metric = self.metrics.get(key)
            if metric is None:
                metric = self.metrics[key] = _Metric(namespace, name, dimensions, unit)
            metric.total += value
            bucket = _bucket(at)
            metric.series[bucket] = metric.series.get(bucket, 0.0) + value
            self._trim(metric.series)

    def _access(self, record: dict[str, Any]) -> None:
        path = str(record.get("resourcePath") or "")
        if path.startswith(LOCAL_PATHS):
            return
        # Unmatched paths share one row, so a scanner cannot grow the table without bound.
        route = f"{record['httpMethod']} {path}" if record.get("integration") else "(no route)"
        status = int(record["status"])
        latency = float(record["responseLatency"])
        bucket = _bucket(self.clock())
        with self.lock:
            row = self.routes.get(route)
            if row is None:
                row = self.routes[route] = _Route(route)
            row.count += 1
            klass = f"{status // 100}xx"
            row.statuses[klass] = row.statuses.get(klass, 0) + 1
            row.latencies.append(latency)
            row.series.setdefault(bucket, []).append(latency)
            self._trim(row.series)

    def _trim(self, series: dict[int, Any]) -> None:
        oldest = _bucket(self.clock()) - WINDOW_BUCKETS * BUCKET_SECONDS
        for bucket in [b for b in series if b < oldest]:
            del series[bucket]

    # ------------------------------------------------------------------ reading
    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            metrics = [
                {
                    "namespace": m.namespace,
                    "name": m.name,
                    "dimensions": dict(m.dimensions),
                    "unit": m.unit,
                    "total": m.total,
                    "series": sorted([b, v] for b, v in m.series.items()),
                }
                for m in self.metrics.values()
            ]
            routes = []
            for r in self.routes.values():
                latencies = list(r.latencies)
                routes.append(
                    {
                        "route": r.route,
                        "count": r.count,
                        "status": dict(sorted(r.statuses.items())),
                        "latency_ms": {
                            "p50": percentile(latencies, 50),
                            "p90": percentile(latencies, 90),
                            "p99": percentile(latencies, 99),
                            "max": max(latencies) if latencies else None,
                        },
                        "series": sorted([b, len(v), percentile(v, 99)] for b, v in r.series.items()),
                    }
                )
        metrics.sort(key=lambda m: (m["namespace"], m["name"], sorted(m["dimensions"].items())))
        routes.sort(key=lambda r: r["route"])
        return {
            "started": self.started,
            "now": self.clock(),
            "bucket_seconds": BUCKET_SECONDS,
            "metrics": metrics,
            "routes": routes,
        }

    def json(self) -> bytes:
        return json.dumps(self.snapshot(), indent=2).encode()

    def html(self) -> bytes:
        return render(self.snapshot()).encode()


# ------------------------------------------------------------------ the page
def _spark(
    points: list[tuple[float, float]],
    start: float,
    end: float,
    width: int = 260,
    height: int = 40,
    color: str = "#1f6feb",
) -> str:
    """A tiny inline SVG time series (bars per bucket) over [start, end]."""
    if not points:
        return f'<svg width="{width}" height="{height}" role="img"><title>no data</title></svg>'
    top = max(v for _, v in points) or 1
    span = max(end - start, BUCKET_SECONDS)
    bar = max(1.0, width * BUCKET_SECONDS / span - 1)
    rects = []
    for at, value in points:
        x = (at - start) / span * width
        h = max(1.0, value / top * (height - 2))
        rects.append(
            f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{color}">'
            f"<title>{html.escape(time.strftime('%H:%M:%S', time.localtime(at)))}: {value:g}</title></rect>"
        )
    return (
        f'<svg width="{width}" height="{height}" role="img" style="background:#f6f8fa">'
        f"<title>max {top:g}</title>{''.join(rects)}</svg>"
    )


def _bars(rows: list[tuple[str, float | None, float | None]], width: int = 360) -> str:
    """Horizontal bars: p50 (dark) inside p99 (light), one row per route, in ms."""
    top = max([p99 or 0 for _, _, p99 in rows] + [1])
    height, parts = 18, []
    for i, (label, p50, p99) in enumerate(rows):
        y = i * (height + 4)
        w99, w50 = (p99 or 0) / top * width, (p50 or 0) / top * width
        parts.append(
            f'<rect x="0" y="{y}" width="{w99:.1f}" height="{height}" fill="#9ecbff"><title>p99 {p99} ms</title></rect>'
            f'<rect x="0" y="{y + 4}" width="{w50:.1f}" height="{height - 8}" fill="#0550ae">'
            f"<title>p50 {p50} ms</title></rect>"
            f'<text x="{width + 6}" y="{y + 13}" font-size="12">{html.escape(label)} · p50 {p50} · p99 {p99} ms</text>'
        )
    return f'<svg width="{width + 420}" height="{len(rows) * (height + 4) + 4}">{"".join(parts)}</svg>'


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def render(snapshot: dict[str, Any]) -> str:
    end = snapshot["now"]
    start = end - WINDOW_BUCKETS * BUCKET_SECONDS
    route_rows = "".join(
        f"<tr><td><code>{html.escape(r['route'])}</code></td><td>{r['count']}</td>"
        f"<td>{html.escape(' '.join(f'{k}:{v}' for k, v in r['status'].items()))}</td>"
        f"<td>{_fmt(r['latency_ms']['p50'])}</td><td>{_fmt(r['latency_ms']['p90'])}</td>"
        f"<td>{_fmt(r['latency_ms']['p99'])}</td><td>{_fmt(r['latency_ms']['max'])}</td>"
        f"<td>{_spark([(b, n) for b, n, _ in r['series']], start, end)}</td>"
        f"<td>{_spark([(b, p or 0) for b, _, p in r['series']], start, end, color='#bf3989')}</td></tr>"
        for r in snapshot["routes"]
    )
    metric_rows = "".join(
        f"<tr><td>{html.escape(m['namespace'])}</td><td><b>{html.escape(m['name'])}</b></td>"
        f"<td>{html.escape(', '.join(f'{k}={v}' for k, v in sorted(m['dimensions'].items())))}</td>"
        f"<td>{_fmt(m['total'])}</td><td>{_spark([(b, v) for b, v in m['series']], start, end)}</td></tr>"
        for m in snapshot["metrics"]
    )
    bars = _bars([(r["route"], r["latency_ms"]["p50"], r["latency_ms"]["p99"]) for r in snapshot["routes"]])
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>Local metrics · clinic appointments</title>
<style>
body{{font:14px system-ui,sans-serif;margin:1.5rem;color:#1f2328}}
table{{border-collapse:collapse;margin-bottom:1.5rem}}
td,th{{padding:.25rem .6rem;border-bottom:1px solid #d0d7de;text-align:left;vertical-align:middle}}
th{{background:#f6f8fa}} code{{font-size:13px}} .note{{color:#59636e}}
</style></head><body>
<h1>Local metrics</h1>
<p class="note">What the CloudWatch dashboard would show, from this stack's log lines since it started
(EMF metrics the functions print; latency from the gateway's access log). Last 30 minutes in
{BUCKET_SECONDS}-second bars; refreshes every 5 s.
Raw data: <a href="/_local/metrics.json">/_local/metrics.json</a>.</p>
<h2>Routes</h2>
{bars if snapshot["routes"] else '<p class="note">No requests yet.</p>'}
<table><tr><th>route</th><th>requests</th><th>status</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th>
<th>max ms</th><th>requests / {BUCKET_SECONDS} s</th><th>p99 ms / {BUCKET_SECONDS} s</th></tr>{route_rows}</table>
<h2>Metrics (EMF)</h2>
<table><tr><th>namespace</th><th>metric</th><th>dimensions</th><th>total</th><th>per {BUCKET_SECONDS} s</th></tr>
{metric_rows or '<tr><td colspan="5" class="note">No metrics yet.</td></tr>'}</table>
</body></html>
"""
