"""The clinic settings: read (any user), changed by staff, and the cached copy booking rules use.

Booking must cost one DynamoDB call on a warm container, and the settings item must not be in
every booking's transaction (it would be one item every booking in the clinic touches: a global
hot spot, and TransactionConflicts between unrelated bookings). So a function keeps the settings it
read for ``MAX_AGE_SECONDS``: a PATCH takes effect everywhere within that time (documented), and a
function that changed them sees its own change at once.
"""

from __future__ import annotations

import time
from typing import Any

from clinic.data import clinic_settings as store
from clinic.domain.booking import Policy
from clinic.errors import ServiceUnavailable
from clinic.models.common import now_utc, utc_iso
from clinic.models.settings import DEFAULTS, SettingsOut, SettingsUpdate

MAX_AGE_SECONDS = 5.0
_ATTEMPTS = 3
_cached: tuple[float, dict[str, Any]] | None = None


def current() -> dict[str, Any]:
    """The settings as stored, defaults filled in (a fresh read)."""
    item = store.read() or {}
    return {
        **DEFAULTS,
        **{k: v for k, v in item.items() if k in DEFAULTS},
        "updated_at": item.get("updated_at"),
        "version": int(item.get("version", 0)),
    }


def cached() -> dict[str, Any]:
    """The settings, at most MAX_AGE_SECONDS old."""
    global _cached
    if _cached is None or time.monotonic() - _cached[0] > MAX_AGE_SECONDS:
        _cached = (time.monotonic(), current())
    return _cached[1]


def policy() -> Policy:
    return Policy.of(cached())


def container_state() -> tuple[float, dict[str, Any]] | None:
    return _cached


def restore_container_state(state: tuple[float, dict[str, Any]] | None) -> None:
    global _cached
    _cached = state


def forget() -> None:
    global _cached
    _cached = None


def to_out(values: dict[str, Any]) -> dict[str, Any]:
    return SettingsOut.model_validate(values).model_dump(mode="json")


def get() -> dict[str, Any]:
    return to_out(current())


def update(patch: SettingsUpdate) -> dict[str, Any]:
    global _cached
    changes = patch.model_dump(exclude_unset=True)
    for _ in range(_ATTEMPTS):
        now = current()
        merged = {**{k: now[k] for k in DEFAULTS}, **changes, "updated_at": utc_iso(now_utc())}
        try:
            saved = store.write(merged, now["version"])
        except store.VersionConflict:
            continue
        _cached = (time.monotonic(), {**merged, "version": saved["version"]})
        return to_out(merged)
    raise ServiceUnavailable(detail="the settings are being changed concurrently; retry", headers={"Retry-After": "1"})
