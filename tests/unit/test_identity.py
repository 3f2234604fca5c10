"""Roles bound to the user pool that issued the token (issue 18): the API trusts the workforce pool
(staff and doctors, MFA required) and the patient pool, so a group counts only in a token whose
``iss`` is exactly its own pool's issuer. Before, ``cognito:groups`` alone decided: a ``staff`` group
added to the patient pool would have made its members staff, without MFA."""

from __future__ import annotations

import pytest

from clinic import access, config, routes
from clinic.errors import Forbidden
from clinic.identity import (
    DOCTORS,
    ISSUER_VARIABLES,
    PATIENTS,
    POOL_OF_GROUP,
    STAFF,
    caller_from_claims,
    caller_from_event,
    issued_by_their_pool,
)
from local_stack import functions, tokens
from local_stack import template as tpl
from tests.claims import PATIENT_ISSUER, WORKFORCE_ISSUER, claims_of

# Issuers as a deployed stack's functions get them (another region, pool ids as Cognito makes them):
# nothing here depends on the local values.
WORKFORCE = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Wf0rce7Qx"
PATIENTS_POOL = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pat1ent9Z"
DOCTOR_ID = "0f6c0c7e-8d3a-4c55-9a51-3a1e2b9f7d10"
PATIENT_ID = "7a2c9e14-5b3d-4f8a-a6e1-0c9d8b7f6e01"


@pytest.fixture(autouse=True)
def deployed_issuers(monkeypatch):
    monkeypatch.setenv("WORKFORCE_ISSUER", WORKFORCE)
    monkeypatch.setenv("PATIENT_ISSUER", PATIENTS_POOL)


def token(issuer: str | None, groups: str, **extra: str) -> dict[str, str]:
    """Claims as API Gateway's Cognito authorizer passes them."""
    found = {"sub": "u-1", "cognito:groups": groups, "token_use": "id", **extra}
    if issuer is not None:
        found["iss"] = issuer
    return found


@pytest.mark.parametrize(
    "issuer, groups, granted",
    [
        # each group from its own pool
        (WORKFORCE, "staff", {STAFF}),
        (WORKFORCE, "doctors", {DOCTORS}),
        (WORKFORCE, "staff,doctors", {STAFF, DOCTORS}),
        (PATIENTS_POOL, "patients", {PATIENTS}),
        # a workforce group in a patient-pool token (someone added "staff" to the patient pool): nothing
        (PATIENTS_POOL, "staff", set()),
        (PATIENTS_POOL, "doctors", set()),
        (PATIENTS_POOL, "staff,doctors", set()),
        # the patient group in a workforce token: nothing either
        (WORKFORCE, "patients", set()),
        # mixed: only the groups the issuing pool may grant
        (PATIENTS_POOL, "staff,patients", {PATIENTS}),
        (WORKFORCE, "staff,patients", {STAFF}),
    ],
)
def test_a_group_counts_only_in_a_token_from_its_own_pool(issuer, groups, granted):
    caller = caller_from_claims(
        token(issuer, groups, **{"custom:doctor_id": DOCTOR_ID, "custom:patient_id": PATIENT_ID})
    )
    assert caller.groups == granted
    assert caller.is_staff == (STAFF in granted)
    assert caller.is_doctor == (DOCTORS in granted)
    assert caller.is_patient == (PATIENTS in granted)
    assert caller.role == next((g for g in (STAFF, DOCTORS, PATIENTS) if g in granted), "none")


@pytest.mark.parametrize(
    "issuer",
    [
        None,  # no iss at all
        "",
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other0001",  # another pool
        WORKFORCE + "/",  # near misses: compared exactly, never normalised
        WORKFORCE.replace("https://", "http://"),
        WORKFORCE.upper(),
        WORKFORCE.replace("eu-west-1", "us-east-1"),
        WORKFORCE[:-1],
        f" {WORKFORCE}",
        "clinic-local",  # the issuer local tokens used to carry
    ],
)
def test_a_token_from_any_other_issuer_grants_no_role(issuer):
    for groups in ("staff", "doctors", "patients", "staff,doctors"):
        caller = caller_from_claims(token(issuer, groups, **{"custom:doctor_id": DOCTOR_ID}))
        assert caller.groups == frozenset() and caller.role == "none", (issuer, groups)
        # still the signed-in user API Gateway let through: authenticated, in no role
        assert access.roles_of(caller) == {routes.AUTHENTICATED}


@pytest.mark.parametrize("missing", ISSUER_VARIABLES)
@pytest.mark.parametrize("how", ["unset", "empty"])
def test_without_a_pools_issuer_in_the_environment_its_groups_grant_nothing(monkeypatch, missing, how):
    """Fail closed outside Lambda too (in Lambda the function does not even start: config.require)."""
    if how == "unset":
        monkeypatch.delenv(missing)
    else:
        monkeypatch.setenv(missing, "")
    for issuer, groups in (
        (WORKFORCE, "staff,doctors"),
        (PATIENTS_POOL, "patients"),
        ("", "staff"),
        (None, "patients"),
    ):
        granted = caller_from_claims(token(issuer, groups)).groups
        lost = {g for g, variable in POOL_OF_GROUP.items() if variable == missing}
        assert not granted & lost, (missing, issuer, groups)
    # the other pool is unaffected
    issuer, group = (PATIENTS_POOL, PATIENTS) if missing == "WORKFORCE_ISSUER" else (WORKFORCE, STAFF)
    assert caller_from_claims(token(issuer, group)).groups == {group}


def test_the_binding_is_one_function_of_groups_and_issuer():
    assert issued_by_their_pool(frozenset({STAFF, PATIENTS}), WORKFORCE) == {STAFF}
    assert issued_by_their_pool(frozenset({STAFF, PATIENTS}), PATIENTS_POOL) == {PATIENTS}
    assert issued_by_their_pool(frozenset({STAFF}), 42) == frozenset()  # not a string: nothing
    assert issued_by_their_pool(frozenset(), WORKFORCE) == frozenset()
    # every group this service knows is bound to exactly one pool
    assert set(POOL_OF_GROUP) == {STAFF, DOCTORS, PATIENTS} and set(POOL_OF_GROUP.values()) == set(ISSUER_VARIABLES)


def test_a_staff_group_from_the_patient_pool_is_refused_on_a_staff_route():
    event = {"requestContext": {"authorizer": {"claims": token(PATIENTS_POOL, "staff")}}}
    caller = caller_from_event(event)
    with pytest.raises(Forbidden):
        access.check_route(caller, routes.find("GET", "/patients"))
    # while the same claims from the workforce pool pass
    event["requestContext"]["authorizer"]["claims"]["iss"] = WORKFORCE
    access.check_route(caller_from_event(event), routes.find("GET", "/patients"))


def test_every_route_that_needs_a_token_requires_both_issuers_at_init_and_only_those():
    for route in routes.ROUTES:
        needed = config.variables_for([], paginates=False, identifies=route.roles is not routes.ANYONE)
        assert set(needed) == (set(ISSUER_VARIABLES) if route.roles is not routes.ANYONE else set()), route.key


# ---------------------------------------------------------------------- locally
def test_local_tokens_carry_the_issuer_of_their_roles_pool_as_the_functions_are_told_it():
    globals_ = tpl.global_environment()
    assert tokens.claims("staff")["iss"] == globals_["WORKFORCE_ISSUER"] == WORKFORCE_ISSUER
    assert tokens.claims("doctor", DOCTOR_ID)["iss"] == globals_["WORKFORCE_ISSUER"]
    assert tokens.claims("patient", PATIENT_ID)["iss"] == globals_["PATIENT_ISSUER"] == PATIENT_ISSUER
    assert WORKFORCE_ISSUER != PATIENT_ISSUER
    # the local pools are named like Cognito's, after the template's pools
    assert WORKFORCE_ISSUER == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_WorkforceUserPool"
    assert PATIENT_ISSUER == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_UserPool"
    # each role's pool is the one clinic.identity binds its group to
    for role, group in tokens.ROLES.items():
        assert tokens.POOL_VARIABLE[role] == POOL_OF_GROUP[group]


def test_the_local_stack_gives_every_function_both_issuers():
    for function in tpl.functions():
        env = functions.worker_environment(function, "http://127.0.0.1:1")
        assert env["WORKFORCE_ISSUER"] == WORKFORCE_ISSUER and env["PATIENT_ISSUER"] == PATIENT_ISSUER, function


def test_a_local_token_read_back_as_the_gateway_passes_it_keeps_its_role(monkeypatch):
    monkeypatch.setenv("WORKFORCE_ISSUER", WORKFORCE_ISSUER)
    monkeypatch.setenv("PATIENT_ISSUER", PATIENT_ISSUER)
    for role, record_id, check in (
        ("staff", None, "is_staff"),
        ("doctor", DOCTOR_ID, "is_doctor"),
        ("patient", PATIENT_ID, "is_patient"),
    ):
        claims = tokens.as_authorizer_claims(tokens.verify(f"Bearer {tokens.mint(role, record_id)}"))
        assert getattr(caller_from_claims(claims), check), role
    # a local patient token that claims staff, as a patient-pool user in a "staff" group would: no role
    forged = tokens.as_authorizer_claims(tokens.claims("patient", PATIENT_ID, **{"cognito:groups": ["staff"]}))
    assert forged["iss"] == PATIENT_ISSUER and caller_from_claims(forged).role == "none"
    assert caller_from_claims(claims_of("patient", PATIENT_ID, **{"cognito:groups": "staff"})).role == "none"
