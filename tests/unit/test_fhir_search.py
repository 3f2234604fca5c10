"""FHIR search parameters, read the FHIR way (clinic.fhir.search): date values stand for their precision and
prefixes bound an instant, repeats are ANDed; references, tokens, _count; Prefer: handling=strict."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clinic.errors import ValidationFailed
from clinic.fhir import search
from clinic.fhir.search import Window


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def window(*values: str) -> Window:
    return search.window(search.Params({"date": list(values)}), "date")


@pytest.mark.parametrize(
    "value, lower, upper",
    [
        ("2026", utc(2026, 1, 1), utc(2027, 1, 1)),
        ("2026-12", utc(2026, 12, 1), utc(2027, 1, 1)),
        ("2026-02", utc(2026, 2, 1), utc(2026, 3, 1)),
        ("2026-12-01", utc(2026, 12, 1), utc(2026, 12, 2)),
        ("2026-12-01T09:30Z", utc(2026, 12, 1, 9, 30), utc(2026, 12, 1, 9, 31)),
        ("2026-12-01T09:30:15Z", utc(2026, 12, 1, 9, 30, 15), utc(2026, 12, 1, 9, 30, 16)),
        ("2026-12-01T09:30:15.5Z", utc(2026, 12, 1, 9, 30, 15, 500000), utc(2026, 12, 1, 9, 30, 15, 600000)),
        ("2026-12-01T04:30:00-05:00", utc(2026, 12, 1, 9, 30), utc(2026, 12, 1, 9, 30, 1)),
        ("eq2026-12-01T14:15:00+05:45", utc(2026, 12, 1, 8, 30), utc(2026, 12, 1, 8, 30, 1)),
    ],
)
def test_a_value_stands_for_its_whole_precision(value, lower, upper):
    assert window(value) == Window(lower, upper)


@pytest.mark.parametrize(
    "prefix, lower, upper",
    [
        ("ge", utc(2026, 12, 1), None),
        ("gt", utc(2026, 12, 2), None),
        ("sa", utc(2026, 12, 2), None),
        ("lt", None, utc(2026, 12, 1)),
        ("eb", None, utc(2026, 12, 1)),
        ("le", None, utc(2026, 12, 2)),
        ("eq", utc(2026, 12, 1), utc(2026, 12, 2)),
    ],
)
def test_prefixes_bound_an_instant(prefix, lower, upper):
    assert window(f"{prefix}2026-12-01") == Window(lower, upper)


def test_repeats_are_anded_into_one_window():
    assert window("ge2026-12-01", "lt2026-12-08", "gt2026-12-02T10:00:00Z") == Window(
        utc(2026, 12, 2, 10, 0, 1), utc(2026, 12, 8)
    )
    assert window() == Window()


@pytest.mark.parametrize(
    "value",
    [
        "ne2026-12-01",
        "ap2026-12-01",
        "2026-12-01T10:00:00",
        "2026-13",
        "2026-02-30",
        "2026-12-01T25:00Z",
        "2026-12-01T10:00+15:00",
        "tomorrow",
        "ge2026-12-01,lt2027",
        "2026-12-1",
        "",
        "gt9999-12-31T23:59:59Z",
        "lt0001-01-01",
        "1899",
    ],
)
def test_bad_dates_are_422_on_the_parameter_without_quoting_it(value):
    with pytest.raises(ValidationFailed) as raised:
        window(value)
    (error,) = raised.value.errors
    assert error.field == "date" and (not value or value not in error.message)


def test_references_tokens_and_count():
    found = search.Params(
        {
            "patient": ["Patient/abc-1"],
            "actor": ["abc-2"],
            "bad": ["Practitioner/x"],
            "two": ["a", "b"],
            "status": ["free,busy", "http://hl7.org/fhir/slotstatus|free"],
            "_count": ["7"],
        }
    )
    assert search.reference(found, "patient", "Patient") == "abc-1"
    assert search.reference(found, "actor", "Practitioner") == "abc-2"
    assert search.reference(found, "missing", "Patient") is None
    for name in ("bad", "two"):
        with pytest.raises(ValidationFailed):
            search.reference(found, name, "Patient")
    assert search.tokens(found, "status") == [
        [search.Token(None, "free"), search.Token(None, "busy")],
        [search.Token("http://hl7.org/fhir/slotstatus", "free")],
    ]
    assert search.count(found) == 7 and search.count(search.Params({})) == search.DEFAULT_COUNT
    for bad in ("0", "101", "²", "١٢", "1e2", "+5", "0x10", "99999999999999999999"):
        with pytest.raises(ValidationFailed):
            search.count(search.Params({"_count": [bad]}))
    with pytest.raises(ValidationFailed):
        window("२०२६-12-01")  # digits of another script


@pytest.mark.parametrize(
    "prefer, strict",
    [
        (None, False),
        ("handling=lenient", False),
        ("handling=strict", True),
        ("return=minimal, handling=strict", True),
        ("respond-async; handling=STRICT", True),
        ('handling="strict"', True),
        ("handling=strictly", False),
    ],
)
def test_prefer_handling(prefer, strict):
    assert search.strict_handling(prefer) is strict


def test_unknown_parameters_are_listed_or_refused():
    query = {"patient": ["x"], "zzz": ["1"], "date:missing": ["true"], "\x00bad" * 40: ["1"]}
    found = search.params(query, ("patient", "date"), strict=False)
    assert found.values == {"patient": ["x"]}
    assert found.ignored == ["bad" * 15, "date:missing", "zzz"]  # printable, at most 60 characters of a name
    with pytest.raises(search.UnsupportedParameter) as raised:
        search.params(query, ("patient", "date"), strict=True)
    assert raised.value.status == 400 and raised.value.code == "VALIDATION_ERROR"
    assert search.params({"patient": ["x"]}, ("patient",), strict=True).ignored == []
