"""FHIR search parameters → typed queries. Pure: the event's multi-valued query in, values or errors out.

- **Unknown parameters** (not declared for the search, or a declared one with a ``:modifier``): ignored and
  reported in the Bundle as a warning OperationOutcome (``search.mode = outcome``), or, when the request
  says ``Prefer: handling=strict``, refused: 400 with an OperationOutcome (FHIR's search.html#errors).
- **Dates** (``date``, ``start``): ``[prefix]value``, prefixes ``eq`` (default), ``gt``, ``ge``, ``lt``,
  ``le``, ``sa``, ``eb``; a value is a year, a month, a day, or a time with an offset (``Z`` or
  ``±hh:mm``; a time without one is a 422, as everywhere in the API); a value stands for its whole
  precision (``2026-12-01`` is that UTC day). Repeats are ANDed: the result is one half-open window
  ``[lower, upper)`` on the element's instant.
- **References** (``patient``, ``practitioner``, ``actor``, ``schedule``): ``Type/id`` or ``id``; one value.
- **Tokens** (``status``, ``service-type``): ``code``, ``system|code`` or ``|code``; ``,`` separates
  alternatives (ORed) where the search allows them.
- ``_count``: 1–100, default 20.

A value is never echoed in an error or a log (it may be patient data); a parameter's name may be.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from clinic.errors import ApiError, FieldError, invalid

DEFAULT_COUNT, MAX_COUNT = 20, 100
PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
SUPPORTED_PREFIXES = ("eq", "gt", "lt", "ge", "le", "sa", "eb")
_NAME_CHARS = 60  # an unknown parameter's name is quoted back, at most this long
FIRST_YEAR, LAST_YEAR = 1900, 8999  # far from datetime's limits, so no window arithmetic can overflow

_DATE = re.compile(  # ASCII digits only (\d would take any script's digits)
    r"^(?P<year>[0-9]{4})(?:-(?P<month>[0-9]{2})(?:-(?P<day>[0-9]{2})"
    r"(?:T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]{1,9}))?)?"
    r"(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?$"
)


class UnsupportedParameter(ApiError):
    """A search parameter this server does not support, under ``Prefer: handling=strict``: 400 (the
    contract's VALIDATION_ERROR code; FHIR's issue type ``not-supported``)."""

    status, code, title = 400, "VALIDATION_ERROR", "Unsupported search parameter"
    fhir_issue = "not-supported"


@dataclass
class Params:
    """A search's parameters: the supported ones (name → values, in order) and the names ignored."""

    values: dict[str, list[str]]
    ignored: list[str] = field(default_factory=list)

    def all(self, name: str) -> list[str]:
        return self.values.get(name, [])

    def one(self, name: str) -> str | None:
        """A parameter that may be given once (or not at all)."""
        found = self.values.get(name, [])
        if len(found) > 1:
            raise invalid(name, "may be given only once")
        if found and not found[0].strip():
            raise invalid(name, "must not be empty")
        return found[0].strip() if found else None


def shown_name(name: str) -> str:
    """A parameter name safe to quote back: printable, at most _NAME_CHARS characters."""
    return "".join(c for c in name[:_NAME_CHARS] if c.isprintable()) or "?"


def strict_handling(prefer: str | None) -> bool:
    """Whether a ``Prefer`` header asks for ``handling=strict`` (lenient is the default)."""
    for part in re.split(r"[,;]", prefer or ""):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "handling":
            return value.strip().strip('"').lower() == "strict"
    return False


def params(query: Mapping[str, list[str]] | None, supported: tuple[str, ...], *, strict: bool) -> Params:
    """The supported parameters of a search; the others are ignored, or refused when strict."""
    values: dict[str, list[str]] = {}
    ignored: list[str] = []
    for name, given in (query or {}).items():
        if name in supported:
            values[name] = list(given or [])
        else:
            ignored.append(shown_name(name))
    if ignored and strict:
        names = ", ".join(sorted(ignored))
        raise UnsupportedParameter(
            detail=f"search parameters this server does not support: {names}",
            errors=[FieldError(n, "not a supported search parameter") for n in sorted(ignored)],
        )
    return Params(values, sorted(ignored))


def count(found: Params) -> int:
    value = found.one("_count")
    if value is None:
        return DEFAULT_COUNT
    if not re.fullmatch(r"[0-9]{1,3}", value) or not 1 <= int(value) <= MAX_COUNT:
        raise invalid("_count", f"must be a whole number from 1 to {MAX_COUNT}")
    return int(value)


# ---------------------------------------------------------------------- references and tokens
def reference(found: Params, name: str, resource_type: str) -> str | None:
    """The id in a reference parameter (``Type/id`` or ``id``), or None when it is absent. The id is not
    checked here: an id that is no record is the use case's 404, as on the native routes."""
    value = found.one(name)
    if value is None:
        return None
    if "," in value:
        raise invalid(name, "takes one reference")
    kind, slash, ident = value.rpartition("/")
    if slash and kind != resource_type:
        raise invalid(name, f"must be a reference to a {resource_type}: {resource_type}/<id>")
    if not re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", ident):
        raise invalid(name, f"must be a reference to a {resource_type}: {resource_type}/<id>")
    return ident


@dataclass(frozen=True)
class Token:
    system: str | None  # None: any system; "": no system
    code: str


def tokens(found: Params, name: str, *, alternatives: bool = True) -> list[list[Token]] | None:
    """A token parameter: one list of alternatives per occurrence (occurrences are ANDed), or None."""
    given = found.all(name)
    if not given:
        return None
    result = []
    for value in given:
        options = value.split(",")
        if len(options) > 1 and not alternatives:
            raise invalid(name, "takes one value")
        parsed = []
        for option in options:
            system, bar, code = option.strip().rpartition("|")
            if not code:
                raise invalid(name, "must be a code, system|code or |code")
            parsed.append(Token(system if bar else None, code))
        result.append(parsed)
    return result


# ---------------------------------------------------------------------- dates
def _range(value: str, name: str) -> tuple[datetime, datetime]:
    """The instants a search value stands for: [start, end) at its precision, in UTC."""
    match = _DATE.fullmatch(value)
    if not match:
        raise invalid(
            name,
            "must be a date or an instant: YYYY, YYYY-MM, YYYY-MM-DD or "
            "YYYY-MM-DDThh:mm[:ss[.fff]] with Z or ±hh:mm, after an optional prefix",
        )
    parts = match.groupdict()
    if parts["hour"] is not None and parts["zone"] is None:
        raise invalid(name, "a time needs an offset (Z or ±hh:mm)")
    if not FIRST_YEAR <= int(parts["year"]) <= LAST_YEAR:
        raise invalid(name, f"dates from the year {FIRST_YEAR} to {LAST_YEAR} are supported")
    try:
        year = int(parts["year"])
        if parts["month"] is None:
            return _utc(year, 1, 1), _utc(year + 1, 1, 1)
        month = int(parts["month"])
        if parts["day"] is None:
            end = _utc(year + 1, 1, 1) if month == 12 else _utc(year, month + 1, 1)
            return _utc(year, month, 1), end
        day = int(parts["day"])
        if parts["hour"] is None:
            start = _utc(year, month, day)
            return start, start + timedelta(days=1)
        offset = UTC if parts["zone"] == "Z" else _offset(parts["zone"])
        digits = (parts["fraction"] or "")[:6]
        start = datetime(
            year,
            month,
            day,
            int(parts["hour"]),
            int(parts["minute"]),
            int(parts["second"] or 0),
            int(digits.ljust(6, "0")) if digits else 0,
            tzinfo=offset,
        ).astimezone(UTC)
    except ValueError:
        raise invalid(name, "is not a real date or time") from None
    if parts["fraction"]:
        step = timedelta(microseconds=10 ** (6 - len(digits)))
    elif parts["second"] is not None:
        step = timedelta(seconds=1)
    else:
        step = timedelta(minutes=1)
    return start, start + step


def _utc(year: int, month: int, day: int) -> datetime:
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise ValueError("no such date")
    return datetime(year, month, day, tzinfo=UTC)


def _offset(zone: str) -> timezone:
    sign = -1 if zone[0] == "-" else 1
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    if hours > 14 or minutes > 59:
        raise ValueError("no such offset")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


@dataclass(frozen=True)
class Window:
    """Instants t with lower <= t < upper (None: unbounded on that side)."""

    lower: datetime | None = None
    upper: datetime | None = None

    def narrowed(self, lower: datetime | None = None, upper: datetime | None = None) -> Window:
        return Window(
            max(filter(None, (self.lower, lower)), default=None), min(filter(None, (self.upper, upper)), default=None)
        )


def window(found: Params, name: str) -> Window:
    """Every occurrence of a date parameter, ANDed into one window on the element's instant."""
    result = Window()
    for value in found.all(name):
        value = value.strip()
        if "," in value:
            raise invalid(name, "takes one value per occurrence (repeat the parameter to combine them)")
        prefix = value[:2] if value[:2] in PREFIXES else "eq"
        text = value[2:] if value[:2] in PREFIXES else value
        if prefix not in SUPPORTED_PREFIXES:
            raise invalid(name, f"supports the prefixes {', '.join(SUPPORTED_PREFIXES)}")
        start, end = _range(text, name)
        result = result.narrowed(
            **{
                "eq": {"lower": start, "upper": end},
                "ge": {"lower": start},
                "gt": {"lower": end},
                "sa": {"lower": end},
                "lt": {"upper": start},
                "eb": {"upper": start},
                "le": {"upper": end},
            }[prefix]
        )
    return result
