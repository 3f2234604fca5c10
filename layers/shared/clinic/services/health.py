"""Health: does storage answer?"""

from __future__ import annotations

import time
from typing import Any

from clinic.config import settings
from clinic.data import health


def check() -> dict[str, Any]:
    started = time.perf_counter()
    checks = health.probe()
    healthy = bool(checks) and all(v == "ok" for v in checks.values())
    return {
        "status": "ok" if healthy else "unavailable",
        "version": settings().service_version,
        "checks": checks,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
    }
