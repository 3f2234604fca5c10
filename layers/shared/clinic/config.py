"""The function's configuration, from its environment, validated by a pydantic model — and failing
closed: in Lambda, a function whose route needs a table or secret that its environment does not
name stops at init with one clear log line (``require``), instead of skipping its audit write or
signing tokens with a built-in key. Only the local stack and the tests supply local values.

Read on first use, not at import, so tools such as the OpenAPI generator can import every handler
without an environment.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import lru_cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from clinic.data.permissions import TABLE_VARIABLES
from clinic.identity import ISSUER_VARIABLES

Name = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
# The secret behind pagination tokens: in AWS its Secrets Manager ARN (fetched at run time, cached);
# the local stack and tests give the value itself.
PAGINATION_SECRET_ARN = "PAGINATION_SECRET_ARN"  # noqa: S105 - the variable's name, not a secret
PAGINATION_SECRET = "PAGINATION_SECRET"  # noqa: S105 - the variable's name, not a secret


class ConfigurationError(RuntimeError):
    """The environment lacks what this function needs. Raised at init: the function does not start."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    patients_table: Name | None = Field(default=None, alias="PATIENTS_TABLE")
    doctors_table: Name | None = Field(default=None, alias="DOCTORS_TABLE")
    appointments_table: Name | None = Field(default=None, alias="APPOINTMENTS_TABLE")
    slot_locks_table: Name | None = Field(default=None, alias="SLOT_LOCKS_TABLE")
    audit_table: Name | None = Field(default=None, alias="AUDIT_TABLE")
    idempotency_table: Name | None = Field(default=None, alias="IDEMPOTENCY_TABLE")
    settings_table: Name | None = Field(default=None, alias="SETTINGS_TABLE")
    holds_table: Name | None = Field(default=None, alias="HOLDS_TABLE")
    waitlist_table: Name | None = Field(default=None, alias="WAITLIST_TABLE")
    locations_table: Name | None = Field(default=None, alias="LOCATIONS_TABLE")
    resources_table: Name | None = Field(default=None, alias="RESOURCES_TABLE")
    pagination_secret_arn: Name | None = Field(default=None, alias=PAGINATION_SECRET_ARN)
    pagination_secret: Name | None = Field(default=None, alias=PAGINATION_SECRET)
    service_version: str = Field(default="dev", alias="SERVICE_VERSION")


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.model_validate({k: v for k, v in os.environ.items() if v})


def require(variables: Iterable[str]) -> None:
    """Stop (ConfigurationError, one log line naming the variables, never their values) unless every
    one of ``variables`` is set."""
    missing = sorted(v for v in set(variables) if not os.environ.get(v))
    if missing:
        from clinic.observability import logger

        logger.error("configuration incomplete: the function cannot start", extra={"missing": missing})
        raise ConfigurationError(f"missing environment variables: {', '.join(missing)}")


def variables_for(tables: Iterable[str], *, paginates: bool, identifies: bool = False) -> list[str]:
    """The environment variables a function needs for these tables (logical ids), the pagination
    secret when it hands out or reads next_token values, and both user pools' issuers when it decides
    who the caller is (every route that needs a token, clinic.identity)."""
    needed = [TABLE_VARIABLES[t] for t in tables]
    if paginates:
        needed.append(PAGINATION_SECRET_ARN if not os.environ.get(PAGINATION_SECRET) else PAGINATION_SECRET)
    if identifies:
        needed.extend(ISSUER_VARIABLES)
    return needed


def in_lambda() -> bool:
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
