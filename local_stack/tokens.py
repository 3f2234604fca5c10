"""Local bearer tokens: HS256 JWTs shaped like Cognito ID tokens, and their verification.

A token carries ``sub``, ``cognito:groups`` (a list), ``custom:patient_id`` / ``custom:doctor_id``
and ``iss``: the issuer of the pool its role signs in to in AWS, as the functions are told it
(template.yaml's Globals, ``WORKFORCE_ISSUER`` for staff and doctors, ``PATIENT_ISSUER`` for
patients, resolved to the local pools ``us-east-1_WorkforceUserPool`` and ``us-east-1_UserPool``).
The functions count a group only in a token from its own pool (clinic.identity). The gateway
verifies signature and expiry and then hands the claims to the function as API Gateway's Cognito
authorizer does for REST APIs: every value a string, a list claim joined with commas.
"""

from __future__ import annotations

import os
import time
import uuid
import warnings
from typing import Any

import jwt
from jwt.warnings import InsecureKeyLengthWarning

from local_stack import template as tpl

# API.md fixes the local default secret (16 bytes); PyJWT would warn on every token it signs.
warnings.filterwarnings("ignore", category=InsecureKeyLengthWarning)

DEFAULT_SECRET = "local-dev-secret"  # the documented local-only default  # nosec B105
ROLES = {"staff": "staff", "doctor": "doctors", "patient": "patients"}
_ID_CLAIM = {"doctor": "custom:doctor_id", "patient": "custom:patient_id"}
# The pool each role signs in to: the variable (clinic.identity) that holds its issuer.
POOL_VARIABLE = {"staff": "WORKFORCE_ISSUER", "doctor": "WORKFORCE_ISSUER", "patient": "PATIENT_ISSUER"}


class InvalidToken(Exception):
    """Missing, malformed, expired or wrongly signed."""


def secret() -> str:
    return os.environ.get("LOCAL_JWT_SECRET") or DEFAULT_SECRET


def issuer(role: str) -> str:
    """The ``iss`` of a role's tokens: its pool's issuer, as the template gives it to the functions."""
    variable = POOL_VARIABLE[role]
    value = tpl.global_environment().get(variable)
    if not value:
        raise tpl.TemplateError(f"{tpl.TEMPLATE.name}: Globals set no {variable}, so no {role} token can be made")
    return value


def claims(
    role: str, record_id: str | None = None, *, ttl_seconds: int = 12 * 3600, sub: str | None = None, **extra: Any
) -> dict[str, Any]:
    """The claims of a role's token (``extra`` adds or replaces any, ``iss`` included)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if role in _ID_CLAIM and not record_id:
        raise ValueError(f"a {role} token needs the {role}'s id (ID=...)")
    now = int(time.time())
    found: dict[str, Any] = {
        "sub": sub or str(uuid.uuid5(uuid.NAMESPACE_URL, f"clinic-local:{role}:{record_id or ''}")),
        "cognito:groups": [ROLES[role]],
        "token_use": "id",
        "iss": issuer(role),
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if role in _ID_CLAIM:
        found[_ID_CLAIM[role]] = record_id
    return {**found, **extra}


def mint(
    role: str,
    record_id: str | None = None,
    *,
    ttl_seconds: int = 12 * 3600,
    sub: str | None = None,
    key: str | None = None,
    **extra: Any,
) -> str:
    token = claims(role, record_id, ttl_seconds=ttl_seconds, sub=sub, **extra)
    return jwt.encode(token, key or secret(), algorithm="HS256")


def verify(authorization: str | None, key: str | None = None) -> dict[str, Any]:
    """The claims of a valid ``Authorization: Bearer <jwt>`` header, or InvalidToken."""
    if not authorization:
        raise InvalidToken("no token")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("not a bearer token")
    try:
        return jwt.decode(token.strip(), key or secret(), algorithms=["HS256"], options={"require": ["sub", "exp"]})
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from None


def as_authorizer_claims(claims: dict[str, Any]) -> dict[str, str]:
    """Claims the way a REST API's Cognito authorizer passes them: strings, lists comma-joined."""
    out = {}
    for name, value in claims.items():
        if isinstance(value, (list, tuple)):
            out[name] = ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        else:
            out[name] = str(value)
    return out
