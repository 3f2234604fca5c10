"""A doctor's patient search and CORS, each test on its own moto world (the access matrix shares one
per module: see test_access.py)."""

from __future__ import annotations

import pytest

from tests.handlers.conftest import event_for
from tests.handlers.test_access import LazyWorld, claims


@pytest.fixture
def world(invoke):
    w = LazyWorld(invoke)
    for key in ("D1", "D2", "P1", "P2", "A1", "A2"):
        w[key]
    return w


def test_a_doctors_search_finds_only_their_own_patients(invoke, aws, world):
    """Given P1 (an appointment with D1) and P2 (with D2), both matching the search,
    when staff and then D1 search, then staff see both and D1 sees only P1."""

    def found(role):
        response = invoke(
            "SearchPatientsFunction",
            event_for("POST", "/patients/search", body={"family_name_prefix": "ie"}, claims=claims(role, world)),
        )
        assert response["statusCode"] == 200, response
        return {p["id"] for p in response["json"]["items"]}

    assert found("staff") >= {world["P1"], world["P2"]}
    assert found("doctor") == {world["P1"]}


def test_a_doctors_search_reveals_nothing_about_other_patients(invoke, aws, world):
    """Given matches that D1 may not see (P2, and another patient of D2's) around D1's own P1, when D1
    pages through the search one item at a time, then D1 gets exactly P1 and a last page with no
    token — the same answer as if the hidden patients did not exist."""
    for family_name in ("Iexample", "Iexampler"):
        hidden = {"given_name": "Hidden", "family_name": family_name, "birth_date": "1960-01-01", "sex": "other"}
        assert invoke("RegisterPatientFunction", event_for("POST", "/patients", body=hidden))["statusCode"] == 201
    pages, token = [], None
    while True:
        body = {"family_name_prefix": "ie", "limit": 1, **({"next_token": token} if token else {})}
        response = invoke(
            "SearchPatientsFunction", event_for("POST", "/patients/search", body=body, claims=claims("doctor", world))
        )
        assert response["statusCode"] == 200, response
        pages.append([p["id"] for p in response["json"]["items"]])
        token = response["json"]["next_token"]
        if token is None:
            break
    assert [i for page in pages for i in page] == [world["P1"]]
    # a prefix only hidden patients match: no items and no token, exactly like no match at all
    only_hidden = invoke(
        "SearchPatientsFunction",
        event_for(
            "POST", "/patients/search", body={"family_name_prefix": "iex", "limit": 1}, claims=claims("doctor", world)
        ),
    )
    assert only_hidden["json"] == {"items": [], "next_token": None}


def test_cors_answers_only_the_configured_origin(invoke, monkeypatch):
    """CORS only for the origin given as the CorsAllowedOrigin parameter (CORS_ALLOWED_ORIGIN)."""
    monkeypatch.setenv("CORS_ALLOWED_ORIGIN", "https://clinic.example.com")

    def ask(origin):
        request = event_for("GET", "/doctors")
        request["headers"]["Origin"] = origin
        request["multiValueHeaders"]["Origin"] = [origin]
        return invoke("ListDoctorsFunction", request)["headers"]

    allowed = ask("https://clinic.example.com")
    assert allowed.get("Access-Control-Allow-Origin") == "https://clinic.example.com"
    assert "Location" in allowed["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Origin" not in ask("https://evil.example.net")
