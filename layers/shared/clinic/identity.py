"""The identity seam: the one place that turns an API Gateway event's authorizer claims into the caller.

API Gateway's Cognito user-pool authorizer (REST, v1 events) hands the function the token's claims
under ``requestContext.authorizer.claims``, every value a string; a multi-valued claim such as
``cognito:groups`` arrives as ``"staff,doctors"``. No handler reads claims itself: they ask for
``Caller``.

The authorizer trusts two user pools: the workforce pool (staff and doctors, MFA required) and the
patient pool. A group counts only in a token its own pool issued (the ``iss`` claim): ``staff`` and
``doctors`` only from the workforce pool, ``patients`` only from the patient pool. So a ``staff``
group added to the patient pool, by mistake or by an attacker with access to it, grants nothing,
and staff MFA holds whatever that pool contains. The functions learn each pool's issuer from their
environment (``WORKFORCE_ISSUER``, ``PATIENT_ISSUER``, set by the template); a variable that is
missing or empty matches no token (and in Lambda stops the function at init, ``clinic.config``).
"""

from __future__ import annotations

import os
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

# The variables holding each pool's issuer, exactly as its tokens' ``iss``
# (https://cognito-idp.<region>.amazonaws.com/<pool id>), and the one pool that may grant each group.
WORKFORCE_ISSUER = "WORKFORCE_ISSUER"
PATIENT_ISSUER = "PATIENT_ISSUER"
ISSUER_VARIABLES = (WORKFORCE_ISSUER, PATIENT_ISSUER)
POOL_OF_GROUP = {STAFF: WORKFORCE_ISSUER, DOCTORS: WORKFORCE_ISSUER, PATIENTS: PATIENT_ISSUER}


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


def issued_by_their_pool(groups: frozenset[str], issuer: Any) -> frozenset[str]:
    """The groups the token's issuer may grant, failing closed: each group only when ``iss`` is exactly
    its own pool's issuer as the environment names it; no issuer, or none configured, grants none."""
    if not isinstance(issuer, str) or not issuer:
        return frozenset()
    return frozenset(group for group in groups if os.environ.get(POOL_OF_GROUP[group]) == issuer)


def caller_from_claims(claims: Mapping[str, Any] | None) -> Caller:
    if not claims:
        return ANONYMOUS
    return Caller(
        sub=str(claims.get("sub") or ""),
        groups=issued_by_their_pool(parse_groups(claims.get("cognito:groups")), claims.get("iss")),
        patient_id=(str(claims["custom:patient_id"]) if claims.get("custom:patient_id") else None),
        doctor_id=(str(claims["custom:doctor_id"]) if claims.get("custom:doctor_id") else None),
    )


def caller_from_event(event: Mapping[str, Any]) -> Caller:
    authorizer = ((event or {}).get("requestContext") or {}).get("authorizer") or {}
    return caller_from_claims(authorizer.get("claims"))
