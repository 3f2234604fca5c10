"""Opaque, tamper-evident pagination tokens.

A token wraps DynamoDB's LastEvaluatedKey, encrypted and authenticated (Fernet: AES-CBC + HMAC)
with a key derived from PAGINATION_SECRET, and bound to a scope (the route and its query), so a
client can neither read a key (which may hold search values), forge one, nor reuse one for another
query. A bad token is a 422 VALIDATION_ERROR on ``next_token``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from decimal import Decimal
from typing import Any

from clinic.config import settings
from clinic.errors import invalid

_TOKEN_TTL_SECONDS = 24 * 3600  # a listing is resumed within a day, or started again


def _fernet():
    from cryptography.fernet import Fernet  # imported on first use: keeps it off the cold start of most calls

    secret = settings().pagination_secret or "local-pagination-secret"
    key = base64.urlsafe_b64encode(hashlib.sha256(("pagination:" + secret).encode()).digest())
    return Fernet(key)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(type(value).__name__)


def encode(last_evaluated_key: dict[str, Any] | None, scope: str) -> str | None:
    if not last_evaluated_key:
        return None
    payload = json.dumps({"s": scope, "k": last_evaluated_key}, default=_default, separators=(",", ":"))
    return _fernet().encrypt(payload.encode()).decode()


def decode(token: str | None, scope: str) -> dict[str, Any] | None:
    if token is None:
        return None
    from cryptography.fernet import InvalidToken

    try:
        payload = json.loads(_fernet().decrypt(token.encode(), ttl=_TOKEN_TTL_SECONDS))
    except (InvalidToken, ValueError, TypeError, UnicodeError):
        raise invalid("next_token", "next_token is not valid for this request") from None
    if not isinstance(payload, dict) or payload.get("s") != scope or not isinstance(payload.get("k"), dict):
        raise invalid("next_token", "next_token is not valid for this request")
    return payload["k"]


def scope_of(*parts: Any) -> str:
    """A short fingerprint of the route and query a token belongs to (hashed: it may hold search values)."""
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:32]
