"""Opaque, tamper-evident pagination tokens.

A token wraps DynamoDB's LastEvaluatedKey, encrypted and authenticated (Fernet: AES-CBC + HMAC)
with a key derived from the pagination secret, and bound to a scope (the route and its query), so a
client can neither read a key (which may hold search values), forge one, nor reuse one for another
query. A bad token is a 422 VALIDATION_ERROR on ``next_token``.

The secret is a Secrets Manager secret, fetched at run time with Powertools' parameters utility and
cached for five minutes (never a plaintext environment variable resolved at deploy, never a built-in
default); only the local stack and the tests give the value itself (PAGINATION_SECRET).
"""

from __future__ import annotations

import base64
import hashlib
import json
from decimal import Decimal
from functools import lru_cache
from typing import Any

from clinic.config import ConfigurationError, settings
from clinic.errors import ServiceUnavailable, invalid
from clinic.observability import count, logger

_TOKEN_TTL_SECONDS = 24 * 3600  # a listing is resumed within a day, or started again


_SECRET_MAX_AGE_SECONDS = 300


@lru_cache(maxsize=1)
def _secrets():
    """Powertools' Secrets Manager provider on a client with the service's timeouts, retries and
    per-request deadline (clinic.data.dynamo): botocore's defaults (60 s reads, legacy retries) could
    outlast the function's Timeout, which API Gateway answers 502 with nothing logged or audited."""
    import boto3
    from aws_lambda_powertools.utilities.parameters import SecretsProvider  # only functions that paginate

    from clinic.data import dynamo

    client = boto3.client("secretsmanager", config=dynamo.CLIENT_CONFIG)
    dynamo.guard_deadline(client, "secretsmanager")
    return SecretsProvider(boto3_client=client)


def _secret() -> str:
    config = settings()
    if config.pagination_secret:
        return config.pagination_secret
    if not config.pagination_secret_arn:
        raise ConfigurationError("no pagination secret configured")
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        return str(_secrets().get(config.pagination_secret_arn, max_age=_SECRET_MAX_AGE_SECONDS))
    except GetParameterError:  # Powertools wraps every failure (throttling, timeout, deadline) in it
        logger.error("pagination secret unavailable")
        count("StorageUnavailable")
        raise ServiceUnavailable(
            detail="the service is briefly unavailable; retry", headers={"Retry-After": "1"}
        ) from None


def _fernet():
    from cryptography.fernet import Fernet  # imported on first use: keeps it off the cold start of most calls

    key = base64.urlsafe_b64encode(hashlib.sha256(("pagination:" + _secret()).encode()).digest())
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
