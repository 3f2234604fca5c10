"""Models of the FHIR routes' query strings and answers, for the OpenAPI document and the edge's first check.

The answers are FHIR R4 resources: these models name their type and the elements this service fills in,
and let every other element through (``additionalProperties``); FHIR's own StructureDefinitions are the
schema (the tests validate every answer with a FHIR validator).

The query models are checked by ``clinic.api.endpoint`` on the single-valued query (a bad ``_count`` is a
422 before the use case runs); the searches themselves read every value of a repeated parameter
(``clinic.fhir.search``), and unknown parameters are theirs to judge (lenient or strict), so these ignore
them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, WithJsonSchema

from clinic.models.common import RequestModel, ResponseModel


def _listed(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Repeatable = Annotated[list[str], BeforeValidator(_listed)]
# Documented as the integer it is, read as text: the search checks it (clinic.fhir.search.count), after the
# role and the audit marks, as the native routes do with their path ids.
Count = Annotated[
    str,
    WithJsonSchema(
        {
            "type": "integer",
            "minimum": 1,
            "maximum": 100,
            "default": 20,
            "description": "Page size: 1 to 100, default 20",
        }
    ),
]
PREFER = (
    "Unknown search parameters are ignored and listed in a warning OperationOutcome entry (search.mode "
    "outcome); with the header Prefer: handling=strict they are refused with 400."
)


class _Search(RequestModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class ScheduleSearch(_Search):
    actor: str = Field(description="Practitioner/<doctor id>")
    count: Count | None = Field(default=None, alias="_count", description="Page size: 1 to 100, default 20")


class SlotSearch(_Search):
    schedule: str = Field(description="Schedule/<doctor id>")
    start: Repeatable = Field(
        description="A lower bound (ge, gt, sa or eq) and an upper bound (lt, le, eb or eq) on "
        "the slot's start, at most 14 days apart: start=ge…&start=lt…"
    )
    status: str | None = Field(default=None, description="free (only free slots are offered)")
    service_type: str | None = Field(
        default=None, alias="service-type", description="A code of the doctor's appointment types"
    )
    count: Count | None = Field(default=None, alias="_count", description="Page size: 1 to 100, default 20")


class AppointmentSearch(_Search):
    patient: str | None = Field(default=None, description="Patient/<id>: every status")
    practitioner: str | None = Field(
        default=None, description="Practitioner/<id>: not cancelled; needs both date bounds, at most 31 days apart"
    )
    date: Repeatable | None = Field(default=None, description="Bounds on the start: date=ge…&date=lt…")
    count: Count | None = Field(default=None, alias="_count", description="Page size: 1 to 100, default 20")
    page_token: str | None = Field(
        default=None, alias="_page_token", description="Opaque: from the previous page's link next"
    )


# ---------------------------------------------------------------------- answers
class _Resource(ResponseModel):
    model_config = ConfigDict(extra="allow")
    id: str | None = Field(default=None, description="The resource id: the native record's UUID where there is one")


class FhirPatient(_Resource):
    """A FHIR R4 Patient."""

    resourceType: Literal["Patient"]


class FhirPractitioner(_Resource):
    """A FHIR R4 Practitioner (a doctor)."""

    resourceType: Literal["Practitioner"]


class FhirSchedule(_Resource):
    """A FHIR R4 Schedule (one per doctor, with the doctor's id)."""

    resourceType: Literal["Schedule"]


class FhirAppointment(_Resource):
    """A FHIR R4 Appointment."""

    resourceType: Literal["Appointment"]


class FhirCapabilityStatement(_Resource):
    """A FHIR R4 CapabilityStatement."""

    resourceType: Literal["CapabilityStatement"]


class FhirBundleLink(ResponseModel):
    model_config = ConfigDict(extra="allow")
    relation: str = Field(description="self, or next when there is another page")
    url: str


class FhirBundle(_Resource):
    """A FHIR R4 searchset Bundle."""

    resourceType: Literal["Bundle"]
    type: Literal["searchset"]
    total: int | None = Field(default=None, description="Given when known without extra cost")
    link: list[FhirBundleLink]
    entry: list[dict[str, Any]] = Field(default_factory=list)


class FhirIssue(ResponseModel):
    model_config = ConfigDict(extra="allow")
    severity: Literal["fatal", "error", "warning", "information"]
    code: str = Field(description="FHIR IssueType, e.g. not-found, forbidden, invalid")
    diagnostics: str | None = None
    details: dict[str, Any] | None = Field(default=None, description="coding: the native API's stable code")


class FhirOperationOutcome(_Resource):
    """A FHIR R4 OperationOutcome: every error a FHIR route's function answers."""

    resourceType: Literal["OperationOutcome"]
    issue: list[FhirIssue]
