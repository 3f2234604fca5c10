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

from clinic.models.common import RequestModel, ResponseModel, free_text, plain_text


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


# ---------------------------------------------------------------------- the scheduling operations
class LocationSearch(_Search):
    partof: str | None = Field(default=None, description="Location/<site id>: that site's rooms")
    count: Count | None = Field(default=None, alias="_count", description="Page size: 1 to 100, default 20")
    page_token: str | None = Field(
        default=None, alias="_page_token", description="Opaque: from the previous page's link next"
    )


class FhirLocation(_Resource):
    """A FHIR R4 Location: a site (physicalType si) or a room (physicalType ro, partOf its site)."""

    resourceType: Literal["Location"]


class FhirDevice(_Resource):
    """A FHIR R4 Device: a piece of equipment (location: its site)."""

    resourceType: Literal["Device"]


class _Element(RequestModel):
    """A FHIR element of a request body: its elements named here are read; FHIR elements this service does not
    read (extension, display, ...) are let through unread, and are not stored or echoed."""

    model_config = ConfigDict(extra="ignore")


class ReferenceIn(_Element):
    reference: str | None = Field(default=None, max_length=200)


class CodingIn(_Element):
    system: str | None = Field(default=None, max_length=200)
    code: str | None = Field(default=None, max_length=100)


class ConceptIn(_Element):
    coding: list[CodingIn] = Field(default_factory=list, max_length=10)
    text: str | None = Field(default=None, max_length=1000)


class ParameterIn(RequestModel):
    """One ``Parameters.parameter``: a name and one value (the value types the operations read), or a resource."""

    model_config = ConfigDict(extra="forbid")
    name: plain_text(100)
    valueString: free_text(4000) | None = None
    valueCode: plain_text(200) | None = None
    valueDateTime: plain_text(40) | None = None
    valueInstant: plain_text(40) | None = None
    valueInteger: int | None = Field(default=None, ge=-(2**31), le=2**31 - 1)
    valuePositiveInt: int | None = Field(default=None, ge=1, le=2**31 - 1)
    valueUnsignedInt: int | None = Field(default=None, ge=0, le=2**31 - 1)
    valueReference: ReferenceIn | None = None
    valueCoding: CodingIn | None = None
    resource: dict[str, Any] | None = Field(default=None, description="A FHIR resource (the Appointment)")


class ParametersIn(RequestModel):
    """A FHIR R4 Parameters resource: the input of $find, $hold and $book (its elements; any other is a 422)."""

    model_config = ConfigDict(extra="forbid")
    resourceType: Literal["Parameters"]
    id: plain_text(64) | None = None
    meta: dict[str, Any] | None = None
    language: plain_text(40) | None = None
    parameter: list[ParameterIn] = Field(default_factory=list, max_length=50)


class ParticipantIn(_Element):
    actor: ReferenceIn | None = None


class AppointmentIn(_Element):
    """The Appointment an operation is given (from $find, $hold or $book, perhaps changed by the client): the
    elements read are named here; the others are let through unread."""

    resourceType: Literal["Appointment"]
    id: str | None = Field(default=None, max_length=64)
    status: str = Field(max_length=40)
    start: str | None = Field(default=None, max_length=40)
    end: str | None = Field(default=None, max_length=40)
    serviceType: list[ConceptIn] = Field(default_factory=list, max_length=10)
    participant: list[ParticipantIn] = Field(default_factory=list, max_length=20)
    reasonCode: list[ConceptIn] = Field(default_factory=list, max_length=10)
    cancelationReason: ConceptIn | None = None


class FhirOperationAnswer(_Resource):
    """$find: a searchset Bundle of proposed Appointments; $hold: the pending Appointment; $book: a collection
    Bundle holding the booked (or cancelled) Appointment."""

    resourceType: Literal["Bundle", "Appointment"]
