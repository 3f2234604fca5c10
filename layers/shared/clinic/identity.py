"""The identity seam: the one place that turns an API Gateway event's authorizer claims into the caller.

API Gateway's Cognito user-pool authorizer (REST, v1 events) hands the function the token's claims
under ``requestContext.authorizer.claims``, every value a string; a multi-valued claim such as
``cognito:groups`` arrives as ``"staff,doctors"``. No handler reads claims itself: they ask for
``Caller``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

STAFF, DOCTORS, PATIENTS = "staff", "doctors", "patients"
SYSTEM = "system"  # the audit role of what the service does by itself; no token can carry it


@dataclass(frozen=True)
class Caller:
    sub: str
    groups: frozenset[str] = field(default_factory=frozenset)
    patient_id: str | None = None
    doctor_id: str | None = None
    system: bool = False  # the service acting by itself (a background job), never from a token

    @property
    def is_authenticated(self) -> bool:
        return bool(self.sub)

    @property
    def is_staff(self) -> bool:
        return STAFF in self.groups

    @property
    def is_doctor(self) -> bool:
        return DOCTORS in self.groups and bool(self.doctor_id)

    @property
    def is_patient(self) -> bool:
        return PATIENTS in self.groups and bool(self.patient_id)

    @property
    def role(self) -> str:
        """One label for logs and audit: the most privileged group the caller has ("system": the service)."""
        if self.system:
            return SYSTEM
        for group in (STAFF, DOCTORS, PATIENTS):
            if group in self.groups:
                return group
        return "none"


ANONYMOUS = Caller(sub="")


KNOWN_GROUPS = frozenset({STAFF, DOCTORS, PATIENTS})


def parse_groups(raw: Any) -> frozenset[str]:
    """The caller's groups, matched by exact name, failing closed.

    API Gateway's REST Cognito authorizer hands ``cognito:groups`` over as one string, the names
    joined by commas ("staff,doctors"); the local stack does the same, and a list is taken as it is.
    Every name must be exactly one of this service's groups, or the caller has none at all: a claim
    such as "nurse,staff", "staff x" or "[staff doctors]" (another API type's format) grants nothing,
    rather than being read generously into a role it might not mean.
    """
    if raw is None:
        return frozenset()
    names = [str(g) for g in raw] if isinstance(raw, (list, tuple, set, frozenset)) else str(raw).split(",")
    if not names or any(name not in KNOWN_GROUPS for name in names):
        return frozenset()
    return frozenset(names)


def caller_from_claims(claims: Mapping[str, Any] | None) -> Caller:
    if not claims:
        return ANONYMOUS
    return Caller(
        sub=str(claims.get("sub") or ""),
        groups=parse_groups(claims.get("cognito:groups")),
        patient_id=(str(claims["custom:patient_id"]) if claims.get("custom:patient_id") else None),
        doctor_id=(str(claims["custom:doctor_id"]) if claims.get("custom:doctor_id") else None),
    )


def caller_from_event(event: Mapping[str, Any]) -> Caller:
    authorizer = ((event or {}).get("requestContext") or {}).get("authorizer") or {}
    return caller_from_claims(authorizer.get("claims"))
