"""The clinic settings: read (any user), changed by staff, and the copy writes are planned with.

Settings take effect at once (API.md v1.2): every request that starts after a PATCH has answered is
decided by the new values. Two ways to honour that, by what the request does:

- **Writes** (booking, holds, series, confirm, reschedule, a patient's cancel, joining the waitlist,
  waitlist offers) are planned with the copy this container keeps (``for_write``) and carry its
  ``version`` into their transaction as a condition (clinic.data.clinic_settings.check_action). If
  the settings changed, the transaction fails on that check, the caller reads them again
  (``fresh``) and plans again. A warm booking stays one DynamoDB call, and a stale copy never
  decides anything.
- **Reads and background work** decided by the settings (availability, a doctor's access window,
  reminders) read them fresh: there is no write whose condition could catch a stale copy.
"""

from __future__ import annotations

from typing import Any

from clinic.data import clinic_settings as store
from clinic.data.transactions import StillConflicting
from clinic.domain.booking import Policy
from clinic.errors import ServiceUnavailable
from clinic.models.common import now_utc, utc_iso
from clinic.models.settings import DEFAULTS, SettingsOut, SettingsUpdate

_ATTEMPTS = 3
_cached: dict[str, Any] | None = None  # this container's copy; only a write's condition may trust it


def current() -> dict[str, Any]:
    """The settings as stored, defaults filled in (a consistent read)."""
    return _filled(store.read())


def _filled(item: dict[str, Any] | None) -> dict[str, Any]:
    item = item or {}
    return {
        **DEFAULTS,
        **{k: v for k, v in item.items() if k in DEFAULTS},
        "updated_at": item.get("updated_at"),
        "version": int(item.get("version", 0)),
    }


def fresh() -> dict[str, Any]:
    """The settings read now (and kept as this container's copy)."""
    global _cached
    _cached = current()
    return _cached


def fresh_with(table_name: str, record_id: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """A record (e.g. the doctor of an availability query) and the settings, both read now in one call."""
    global _cached
    record, item = store.read_with(table_name, record_id)
    _cached = _filled(item)
    return record, _cached


def for_write() -> dict[str, Any]:
    """This container's copy, for a write whose transaction checks its ``version`` (``check``)."""
    return _cached if _cached is not None else fresh()


def check(doctor_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """The transaction action proving ``values`` are still the settings (fails if they changed)."""
    return store.check_action(doctor_id, int(values["version"]))


def policy_of(values: dict[str, Any]) -> Policy:
    return Policy.of(values)


def container_state() -> dict[str, Any] | None:
    return _cached


def restore_container_state(state: dict[str, Any] | None) -> None:
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
        except StillConflicting:  # writes checking the version copies kept the transaction out
            break
        _cached = {**merged, "version": saved["version"]}
        return to_out(merged)
    raise ServiceUnavailable(detail="the settings are being changed concurrently; retry", headers={"Retry-After": "1"})
