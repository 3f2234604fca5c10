"""The HTTP edge's pure parts: identity from claims, pagination tokens, ids, lifecycle, locks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clinic import pagination
from clinic.data import locks
from clinic.domain import lifecycle
from clinic.domain.people import age_on, name_key, name_shard
from clinic.errors import NotFound, ValidationFailed
from clinic.identity import caller_from_claims, caller_from_event, parse_groups
from clinic.services import require_id
from tests.claims import PATIENT_ISSUER, WORKFORCE_ISSUER, claims_of


@pytest.fixture(autouse=True)
def pagination_secret(monkeypatch):
    from clinic.config import settings

    monkeypatch.setenv("PAGINATION_SECRET", "unit-test-secret")
    # the pools' issuers, as the template's Globals give them to every function
    monkeypatch.setenv("WORKFORCE_ISSUER", WORKFORCE_ISSUER)
    monkeypatch.setenv("PATIENT_ISSUER", PATIENT_ISSUER)
    settings.cache_clear()
    yield
    settings.cache_clear()


@pytest.mark.parametrize(
    "raw, groups",
    [
        ("staff", {"staff"}),
        ("staff,doctors", {"staff", "doctors"}),
        (["patients"], {"patients"}),
        (None, set()),
        ("", set()),
    ],
)
def test_groups_arrive_as_the_rest_authorizer_sends_them(raw, groups):
    assert parse_groups(raw) == groups


@pytest.mark.parametrize(
    "raw",
    [
        "nurse,staff",
        "staff x",
        "[staff doctors]",
        "Staff",
        " staff",
        "staff,",
        "staff;doctors",
        ["staff", "admins"],
        "staffs",
        "doctors,staff x",
    ],
)
def test_a_group_name_that_is_not_exactly_ours_grants_nothing(raw):
    # Given a claim naming a group we do not know (or a near-miss of one of ours), then no role at all
    assert parse_groups(raw) == frozenset()
    # (from either pool: the names alone are refused)
    for role in ("staff", "patient"):
        claims = claims_of(role, "p", **{"cognito:groups": raw, "custom:doctor_id": "d"})
        caller = caller_from_claims(claims)
        assert not (caller.is_staff or caller.is_doctor or caller.is_patient) and caller.role == "none"


def test_caller_from_cognito_claims():
    caller = caller_from_claims(claims_of("patient", "7a2c9e14-5b3d-4f8a-a6e1-0c9d8b7f6e01", sub="s1"))
    assert caller.is_patient and not caller.is_staff and caller.role == "patients"
    assert caller.patient_id == "7a2c9e14-5b3d-4f8a-a6e1-0c9d8b7f6e01"


def test_no_claims_is_anonymous():
    assert not caller_from_event({"requestContext": {}}).is_authenticated
    assert not caller_from_event({}).is_authenticated


def test_pagination_tokens_round_trip_and_are_opaque():
    key = {"id": "abc", "family_name_key": "hopper#abc", "n": 3}
    token = pagination.encode(key, "scope-a")
    assert "hopper" not in token and "abc" not in token
    assert pagination.decode(token, "scope-a") == key
    assert pagination.encode(None, "scope-a") is None and pagination.decode(None, "scope-a") is None


@pytest.mark.parametrize("mangle", [lambda t: t[:-2], lambda t: t + "x", lambda t: "garbage", lambda t: ""])
def test_tampered_tokens_are_validation_errors(mangle):
    token = pagination.encode({"id": "abc"}, "scope-a")
    with pytest.raises(ValidationFailed):
        pagination.decode(mangle(token), "scope-a")


def test_a_token_is_bound_to_its_query():
    token = pagination.encode({"id": "abc"}, pagination.scope_of("a", 1))
    with pytest.raises(ValidationFailed):
        pagination.decode(token, pagination.scope_of("a", 2))


@pytest.mark.parametrize(
    "value",
    [
        "nope",
        "",
        "7A2C9E14-5B3D-4F8A-A6E1-0C9D8B7F6E01x",
        "7a2c9e14-5b3d-1f8a-a6e1-0c9d8b7f6e01",
        "7a2c9e145b3d4f8aa6e10c9d8b7f6e01",
    ],
)
def test_malformed_ids_are_not_found(value):
    with pytest.raises(NotFound):
        require_id(value, "patient")


def test_ids_must_be_canonical_uuid4():
    assert require_id("7a2c9e14-5b3d-4f8a-a6e1-0c9d8b7f6e01", "x") == "7a2c9e14-5b3d-4f8a-a6e1-0c9d8b7f6e01"


def test_lifecycle_allows_only_the_contract_transitions():
    allowed = {(a, b) for a, targets in lifecycle.TRANSITIONS.items() for b in targets}
    assert allowed == {("booked", "arrived"), ("arrived", "fulfilled"), ("booked", "cancelled"), ("booked", "noshow")}
    assert {"cancelled", "fulfilled", "noshow"} == lifecycle.FINAL
    assert lifecycle.predecessors("fulfilled") == {"arrived"}


def test_age_counts_whole_years():
    from datetime import date

    assert age_on(date(2000, 2, 29), date(2026, 2, 28)) == 25
    assert age_on(date(2000, 2, 29), date(2026, 3, 1)) == 26
    assert age_on(date(2026, 11, 25), date(2026, 11, 25)) == 0


def test_family_name_search_keys_are_case_folded():
    assert name_key("STRAßE") == "strasse" and name_shard("Ölund") == "ö"


def utc(h, m):
    return datetime(2026, 12, 1, h, m, tzinfo=UTC)


def test_cells_cover_the_interval_by_five_minutes():
    assert locks.cells(utc(9, 0), utc(9, 15)) == [utc(9, 0), utc(9, 5), utc(9, 10)]
    with pytest.raises(ValueError):
        locks.cells(utc(9, 1), utc(9, 15))


def test_lock_changes_take_new_and_free_old_cells_per_hour():
    old = locks.cells(utc(9, 50), utc(10, 10))
    new = locks.cells(utc(10, 0), utc(10, 20))
    changes = locks.changes("doctor#d", old, new)
    assert [(c.hour, c.take, c.free) for c in changes] == [
        ("2026-12-01T09", [], ["50", "55"]),
        ("2026-12-01T10", ["10", "15"], []),
    ]


def test_the_longest_reschedule_fits_in_one_transaction():
    old = locks.cells(utc(0, 5), utc(4, 5))  # 240 minutes, not hour-aligned: 5 hour items
    new = locks.cells(utc(12, 5), utc(16, 5))
    per_owner = len(locks.changes("doctor#d", old, new))
    assert 1 + 2 + 2 * per_owner <= 100 and per_owner == 10


def test_update_action_conditions_only_the_cells_it_takes():
    # Given an appointment taking m00 and freeing m30 of one hour item
    change = locks.HourChange("doctor#d", "2026-12-01T09", take=["00"], free=["30"])
    update = locks.update_action("locks", change, "appt", now=1000)["Update"]
    # Then it takes m00 only if free or held by an expired hold, and frees m30 unconditionally
    assert update["UpdateExpression"] == "SET #m00 = :id REMOVE #x00, #m30, #x30"
    assert update["ConditionExpression"] == "(attribute_not_exists(#m00) OR #x00 <= :now)"
    assert update["ExpressionAttributeValues"] == {":id": "appt", ":now": 1000}


def test_a_hold_records_its_expiry_and_a_confirm_converts_only_its_own_unexpired_cells():
    taking = locks.update_action("locks", locks.HourChange("o", "h", take=["05"]), "hold", now=10, hold_expiry=70)
    assert taking["Update"]["UpdateExpression"] == "SET #m05 = :id, #x05 = :expires"
    converting = locks.update_action(
        "locks", locks.HourChange("o", "h", convert=["05"]), "appt", now=20, previous_id="hold"
    )["Update"]
    assert converting["UpdateExpression"] == "SET #m05 = :id REMOVE #x05"
    assert converting["ConditionExpression"] == "(#m05 = :previous AND #x05 > :now)"
    freeing = locks.update_action("locks", locks.HourChange("o", "h", free=["05"]), "hold", now=20, previous_id="hold")[
        "Update"
    ]
    assert freeing["ConditionExpression"] == "#m05 = :previous"


def test_a_cell_held_by_an_expired_hold_is_not_taken():
    item = {"hour": "2026-12-01T09", "m00": "appt", "m05": "hold", "x05": 99, "m10": "old-hold", "x10": 60}
    assert locks.taken_in(item, now=60) == {"2026-12-01T09:00": "appt", "2026-12-01T09:05": "hold"}
