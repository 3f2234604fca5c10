"""Claims for the events tests build: a local token's claims (local_stack.tokens) as API Gateway's
Cognito authorizer hands them to a function (strings, lists comma-joined). Each carries the ``iss``
of its role's pool (staff and doctors: the workforce pool; patients: the patient pool) exactly as the
template tells the functions, so no test writes an issuer by hand; pass ``iss=`` only to test the
binding itself."""

from __future__ import annotations

from typing import Any

from local_stack import tokens

WORKFORCE_ISSUER = tokens.issuer("staff")
PATIENT_ISSUER = tokens.issuer("patient")


def claims_of(role: str, record_id: str | None = None, *, sub: str | None = None, **extra: Any) -> dict[str, str]:
    """``role`` is staff, doctor or patient (the doctor's or patient's id as ``record_id``); ``extra``
    adds or replaces claims, e.g. ``**{"cognito:groups": "staff,doctors"}``."""
    return tokens.as_authorizer_claims(tokens.claims(role, record_id, sub=sub, **extra))
