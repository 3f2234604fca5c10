"""The event-pattern matcher shared by the local EventBridge rules and stream FilterCriteria
(local_stack/patterns.py), against EventBridge's documented matching rules."""

from __future__ import annotations

import pytest

from local_stack.patterns import PatternError, matches, parse

EVENT = {
    "version": "0",
    "id": "e1",
    "detail-type": "AppointmentCancelled",
    "source": "clinic.appointments",
    "account": "000000000000",
    "time": "2026-12-01T08:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:a", "arn:b"],
    "detail": {
        "appointment_id": "apt-123",
        "status": "cancelled",
        "minutes": 30,
        "paid": False,
        "note": None,
        "doctor": {"id": "doc-7", "specialty": "Cardiology"},
        "tags": ["urgent", "follow-up"],
        "ip": "10.0.0.12",
    },
}

# A DynamoDB stream record as Lambda filtering sees it.
RECORD = {
    "eventName": "MODIFY",
    "dynamodb": {
        "Keys": {"id": {"S": "apt-1"}},
        "NewImage": {"status": {"S": "cancelled"}, "n": {"N": "5"}},
        "OldImage": {"status": {"S": "booked"}},
    },
}


@pytest.mark.parametrize(
    "pattern",
    [
        {},
        {"source": ["clinic.appointments"]},
        {"source": ["other", "clinic.appointments"], "detail-type": ["AppointmentCancelled", "HoldExpired"]},
        {"detail": {"status": ["cancelled"]}},
        {"detail": {"doctor": {"id": ["doc-7"]}}},  # nested keys
        {"detail": {"minutes": [30]}},
        {"detail": {"minutes": [30.0]}},  # numbers compare as numbers
        {"detail": {"paid": [False]}},
        {"detail": {"note": [None]}},
        {"detail": {"tags": ["urgent"]}},  # an array value matches when any element does
        {"resources": ["arn:b"]},
        {"detail": {"appointment_id": [{"prefix": "apt-"}]}},
        {"detail": {"appointment_id": [{"prefix": {"equals-ignore-case": "APT-"}}]}},
        {"detail": {"appointment_id": [{"suffix": "123"}]}},
        {"detail": {"status": [{"equals-ignore-case": "CANCELLED"}]}},
        {"detail": {"appointment_id": [{"wildcard": "apt-*3"}]}},
        {"detail": {"status": [{"anything-but": "booked"}]}},
        {"detail": {"status": [{"anything-but": ["booked", "held"]}]}},
        {"detail": {"status": [{"anything-but": {"prefix": "book"}}]}},
        {"detail": {"status": [{"exists": True}]}},
        {"detail": {"missing": [{"exists": False}]}},
        {"detail": {"minutes": [{"numeric": [">", 15, "<=", 30]}]}},
        {"detail": {"minutes": [{"numeric": ["=", 30]}]}},
        {"detail": {"ip": [{"cidr": "10.0.0.0/24"}]}},
        {"detail": {"status": ["booked", {"prefix": "canc"}]}},  # any matcher of the list
        {"$or": [{"source": ["nope"]}, {"detail": {"minutes": [30]}}]},
        {"source": ["clinic.appointments"], "$or": [{"detail": {"status": ["x"]}}, {"detail": {"paid": [False]}}]},
    ],
)
def test_matching_patterns(pattern):
    assert matches(parse(pattern), EVENT)


@pytest.mark.parametrize(
    "pattern",
    [
        {"source": ["clinic.patients"]},
        {"source": ["clinic.appointments"], "detail-type": ["HoldExpired"]},  # every key must match
        {"detail": {"status": ["Cancelled"]}},  # exact values are case-sensitive
        {"detail": {"doctor": {"id": ["doc-8"]}}},
        {"detail": {"minutes": ["30"]}},  # a string is not a number
        {"detail": {"paid": [0]}},  # false is not 0
        {"detail": {"note": ["null"]}},
        {"detail": {"tags": ["routine"]}},
        {"detail": {"appointment_id": [{"prefix": "APT-"}]}},
        {"detail": {"status": [{"anything-but": ["cancelled"]}]}},
        {"detail": {"status": [{"anything-but": {"prefix": "canc"}}]}},
        {"detail": {"missing": [{"anything-but": "x"}]}},  # anything-but never matches a missing key
        {"detail": {"missing": ["x"]}},
        {"detail": {"status": [{"exists": False}]}},
        {"detail": {"missing": [{"exists": True}]}},
        {"detail": {"doctor": [{"exists": True}]}},  # exists matches leaves only, not objects
        {"detail": {"doctor": ["doc-7"]}},
        {"detail": {"minutes": [{"numeric": [">", 30]}]}},
        {"detail": {"status": [{"numeric": [">", 0]}]}},
        {"detail": {"ip": [{"cidr": "10.0.1.0/24"}]}},
        {"detail": {"appointment_id": [{"wildcard": "apt-*4"}]}},
        {"detail": {"status": []}},
        {"$or": [{"source": ["nope"]}, {"detail": {"minutes": [31]}}]},
        {"absent": {"nested": ["x"]}},
    ],
)
def test_patterns_that_do_not_match(pattern):
    assert not matches(parse(pattern), EVENT)


def test_stream_filter_patterns_match_the_record_lambda_delivers():
    assert matches(parse('{"eventName": ["MODIFY", "REMOVE"]}'), RECORD)
    assert not matches(parse('{"eventName": ["INSERT"]}'), RECORD)
    assert matches(parse({"dynamodb": {"NewImage": {"status": {"S": ["cancelled"]}}}}), RECORD)
    assert matches(parse({"dynamodb": {"Keys": {"id": {"S": [{"prefix": "apt-"}]}}}}), RECORD)
    assert matches(parse({"dynamodb": {"OldImage": {"status": {"S": [{"anything-but": "cancelled"}]}}}}), RECORD)
    assert matches(parse({"dynamodb": {"NewImage": {"status": {"S": [{"exists": True}]}}}}), RECORD)
    assert matches(parse({"dynamodb": {"NewImage": {"gone": {"S": [{"exists": False}]}}}}), RECORD)
    # DynamoDB numbers are strings on the wire: numeric matching does not apply to them.
    assert not matches(parse({"dynamodb": {"NewImage": {"n": {"N": [{"numeric": [">", 1]}]}}}}), RECORD)
    assert matches(parse({"dynamodb": {"NewImage": {"n": {"N": ["5"]}}}}), RECORD)


@pytest.mark.parametrize(
    "pattern",
    [
        "not json",
        "[1, 2]",
        {"source": "clinic.appointments"},  # a leaf must be a list
        {"detail": {"status": [{"prefix": "a", "suffix": "b"}]}},
        {"detail": {"status": [{"startswith": "a"}]}},
        {"detail": {"status": [{"prefix": 5}]}},
        {"detail": {"status": [{"exists": "yes"}]}},
        {"detail": {"minutes": [{"numeric": [">"]}]}},
        {"detail": {"minutes": [{"numeric": ["~", 5]}]}},
        {"detail": {"minutes": [{"numeric": [">", "5"]}]}},
        {"detail": {"ip": [{"cidr": "not-a-network"}]}},
        {"detail": {"status": [{"anything-but": {"numeric": [">", 1]}}]}},
        {"detail": {"status": [["nested"]]}},
        {"$or": [{"source": ["a"]}]},
    ],
)
def test_invalid_patterns_are_refused(pattern):
    with pytest.raises(PatternError):
        parse(pattern)


def test_a_pattern_given_as_json_text_is_parsed():
    assert parse('{"source": ["a"]}') == {"source": ["a"]}
    assert matches(parse('{"detail": {"minutes": [{"numeric": [">=", 30]}]}}'), EVENT)
