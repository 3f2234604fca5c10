"""Reusable model pieces: the strict base, constrained types and the page envelope."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Annotated, ClassVar, Generic, Self, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    UUID4,
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

DEFAULT_LIMIT, MAX_LIMIT = 20, 100

# Control characters (C0 and DEL) and the bidirectional overrides and isolates that can make a name
# display as something else (U+202A–U+202E, U+2066–U+2069): never in a name or code; free text may
# hold tab, line feed and carriage return, and nothing else of these.
_NOT_IN_NAMES = re.compile("[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_NOT_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


# Both checks run on the text as sent, before any stripping: "Ada\n" is a name holding a control
# character (422), not "Ada", and a vertical tab at the edge of a reason is refused like one inside it.
def _plain(value: object) -> object:
    if isinstance(value, str) and _NOT_IN_NAMES.search(value):
        raise ValueError("must not contain control characters or bidirectional overrides")
    return value


def _text(value: object) -> object:
    if isinstance(value, str) and _NOT_IN_TEXT.search(value):
        raise ValueError(
            "must not contain control characters (other than tab and line breaks) or bidirectional overrides"
        )
    return value


def plain_text(max_length: int, min_length: int = 1):
    """A name-like string: stripped, ``min_length``..``max_length`` characters, no control characters."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        BeforeValidator(_plain),
    ]


def free_text(max_length: int, min_length: int = 0, strip: bool = False):
    """Free text (a reason, a condition): tab and line breaks allowed, no other control character."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=strip, min_length=min_length, max_length=max_length),
        BeforeValidator(_text),
    ]


# defer_build: a model's validator and serializer are built when it is first used, not when its module is
# imported. A function imports whole model modules (a dozen classes) and uses two or three of them: building
# them all was a share of every cold start (tests/unit/test_lazy_imports.py keeps it so).
class RequestModel(BaseModel):
    """Base of every request body: unknown fields are a 422 (no mass assignment)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class PartialUpdate(RequestModel):
    """A partial update (PATCH): only the fields present change; at least one must be, and none may be
    null but the ``clearable`` ones (optional fields a null clears)."""

    clearable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _something_and_not_null(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("at least one field is required")
        for name in self.model_fields_set:
            if name not in self.clearable and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class ResponseModel(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)


Name = plain_text(100)
Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{1,14}$")]
TypeCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,40}$")]  # an appointment type's code
# A kind of room or equipment (exam-room, ultrasound): what an appointment type needs, what a resource is.
ResourceKind = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,40}$")]


# Files in a zoneinfo directory that are not IANA zone names.
_NOT_ZONES = ("localtime", "posixrules", "Factory", "leapseconds", "tzdata.zi")
_NOT_ZONE_PREFIXES = ("posix/", "right/", "SystemV/")


def _known_zone(value: str) -> str:
    if value not in _zones() or value in _NOT_ZONES or value.startswith(_NOT_ZONE_PREFIXES):
        raise ValueError("unknown IANA time zone")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("unknown IANA time zone") from None
    return value


_ZONES: frozenset[str] | None = None


def _zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES


TimeZone = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_known_zone)]


# ISO 3166-1 alpha-2: the codes assigned today (tzdata's iso3166.tab), in upper case as the standard writes them.
_ASSIGNED_CODES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW
"""
_COUNTRIES = frozenset(_ASSIGNED_CODES.split())


def _assigned_country(value: str) -> str:
    if value not in _COUNTRIES:
        raise ValueError("must be an assigned ISO 3166-1 alpha-2 country code, e.g. US")
    return value


Country = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{2}$"),
    AfterValidator(_assigned_country),
    Field(description="ISO 3166-1 alpha-2, upper case, e.g. US"),
]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description="Page size (1-100)")]
# Fernet tokens are URL-safe base64.
NextToken = Annotated[
    str,
    StringConstraints(min_length=1, max_length=2048, pattern=r"^[A-Za-z0-9_=-]+$"),
    Field(description="Opaque; from the previous page's next_token"),
]
# A server-generated UUID v4, documented as the standard "uuid" format.
Id = Annotated[UUID4, WithJsonSchema({"type": "string", "format": "uuid"})]
IdOut = Annotated[str, WithJsonSchema({"type": "string", "format": "uuid"})]


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# Instants and dates are text (RFC 3339, YYYY-MM-DD). Left to itself pydantic also reads a number, or
# a string of digits, as a Unix timestamp ({"start": 1796000000}, ?from=0, {"birth_date": 0}): a
# wrong type the contract refuses (422), not a date.
_DATE_TIME_TEXT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]")
_DATE_TEXT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _date_time_text(value: object) -> object:
    if isinstance(value, datetime) or (isinstance(value, str) and _DATE_TIME_TEXT.match(value)):
        return value
    raise ValueError("must be an RFC 3339 date-time with an offset, e.g. 2026-12-01T09:00:00-05:00")


def _date_text(value: object) -> object:
    if (isinstance(value, date) and not isinstance(value, datetime)) or (
        isinstance(value, str) and _DATE_TEXT.match(value)
    ):
        return value
    raise ValueError("must be a date, YYYY-MM-DD")


# An instant given with an offset (a naive timestamp is a 422), normalised to UTC.
Instant = Annotated[AwareDatetime, BeforeValidator(_date_time_text), AfterValidator(_to_utc)]
# A calendar date, YYYY-MM-DD.
Day = Annotated[date, BeforeValidator(_date_text)]

T = TypeVar("T")


class Page(ResponseModel, Generic[T]):
    items: list[T]
    next_token: str | None = Field(description="Opaque; pass it back to get the next page. null: no more.")


class PageQuery(RequestModel):
    """?limit=&next_token= of a paginated list."""

    model_config = ConfigDict(extra="ignore")  # unknown query parameters are ignored, as HTTP clients expect
    limit: Limit = DEFAULT_LIMIT
    next_token: NextToken | None = None


class WindowQuery(RequestModel):
    """?from=&to= (both required)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    from_: Instant = Field(alias="from", description="RFC 3339 instant with an offset")
    to: Instant = Field(description="RFC 3339 instant with an offset")


class PagedWindowQuery(WindowQuery):
    """?from=&to=&limit=&next_token=."""

    limit: Limit = DEFAULT_LIMIT
    next_token: NextToken | None = None


@lru_cache(maxsize=8192)
def utc_iso(value: datetime) -> str:
    """Instants always leave the service in UTC with a Z. Remembered per container (an instant's text
    never changes; equal instants in any zone are one key): availability writes hundreds of instants,
    mostly the same grid points request after request, and formatting one costs ~1 µs, a lookup 0.1."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_utc(value: str) -> datetime:
    """An instant as the service writes it (``...Z``), back to an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def now_utc() -> datetime:
    return datetime.now(UTC)


class FieldProblem(ResponseModel):
    field: str = Field(description="The offending field, e.g. start or occurrences.2.start")
    message: str


class Problem(ResponseModel):
    """RFC 9457 problem details, with the service's stable ``code``."""

    type: str = "about:blank"
    title: str
    status: int
    code: str = Field(description="Stable and machine-readable, e.g. SLOT_UNAVAILABLE")
    detail: str = ""
    errors: list[FieldProblem] = Field(default_factory=list)
