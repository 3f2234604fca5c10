"""Event patterns, as EventBridge rules and Lambda event filtering (FilterCriteria) read them.

One matcher for both: a rule's ``Pattern``/``EventPattern`` is matched against the EventBridge
envelope, a stream consumer's ``FilterCriteria`` patterns against each DynamoDB stream record (the
record as the function would receive it: ``{"eventName": ..., "dynamodb": {"NewImage": ...}}``).

A pattern is an object; each key either holds a nested pattern (an object) or a list of matchers,
any of which may match the event's value at that key (when the value is a list, any element may
match). Every key must match ("and"); ``"$or": [pattern, ...]`` matches when any pattern does.
Matchers:

- literals: strings, numbers, ``true``/``false``, ``null`` (exact value and type; 5 and 5.0 are equal)
- ``{"prefix": "a"}``, ``{"suffix": "z"}`` (either may hold ``{"equals-ignore-case": "a"}``)
- ``{"equals-ignore-case": "abc"}``, ``{"wildcard": "a*c"}``
- ``{"anything-but": v}`` with a literal, a list of literals, or
  ``{"prefix"|"suffix"|"equals-ignore-case"|"wildcard": ...}``
  (never matches a missing key)
- ``{"exists": true|false}`` (leaf values only, as in EventBridge)
- ``{"numeric": [">", 0, "<=", 5]}`` (JSON numbers only: a DynamoDB ``{"N": "5"}`` is a string)
- ``{"cidr": "10.0.0.0/24"}``

``validate`` rejects what EventBridge would reject at deploy time (a leaf that is not a list, an
unknown operator), so a bad pattern stops the local stack at start, not silently matching nothing.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

_MISSING = object()
_OPERATORS = {"prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "exists", "numeric", "cidr"}
_NUMERIC_OPS = {"<", "<=", "=", ">", ">="}


class PatternError(ValueError):
    """A pattern EventBridge (or Lambda) would refuse."""


def parse(pattern: Any) -> dict[str, Any]:
    """A pattern from a template: an object, or a JSON string holding one; validated."""
    if isinstance(pattern, str):
        try:
            pattern = json.loads(pattern)
        except ValueError as error:
            raise PatternError(f"pattern is not JSON: {error}") from None
    validate(pattern)
    return pattern


def validate(pattern: Any, path: str = "") -> None:
    if not isinstance(pattern, dict):
        raise PatternError(f"pattern{path or ''} must be an object")
    for key, value in pattern.items():
        where = f"{path}.{key}"
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise PatternError(f"{where} must be a list of at least two patterns")
            for index, option in enumerate(value):
                validate(option, f"{where}[{index}]")
        elif isinstance(value, dict):
            validate(value, where)
        elif isinstance(value, list):
            for matcher in value:
                _validate_matcher(matcher, where)
        else:
            raise PatternError(f"{where} must be a list of values or an object, not {json.dumps(value)}")


def _validate_matcher(matcher: Any, where: str) -> None:
    if not isinstance(matcher, dict):
        if isinstance(matcher, list):
            raise PatternError(f"{where}: a matcher cannot be a list")
        return
    if len(matcher) != 1:
        raise PatternError(f"{where}: a matcher object has exactly one operator, not {sorted(matcher)}")
    ((operator, operand),) = matcher.items()
    if operator not in _OPERATORS:
        raise PatternError(f"{where}: unknown operator {operator!r}")
    if operator in ("prefix", "suffix"):
        if not (isinstance(operand, str) or _is_ignore_case(operand)):
            raise PatternError(f"{where}: {operator} takes a string")
    elif operator in ("equals-ignore-case", "wildcard"):
        if not isinstance(operand, str):
            raise PatternError(f"{where}: {operator} takes a string")
    elif operator == "exists":
        if not isinstance(operand, bool):
            raise PatternError(f"{where}: exists takes true or false")
    elif operator == "numeric":
        if not isinstance(operand, list) or not operand or len(operand) % 2 or len(operand) > 4:
            raise PatternError(f"{where}: numeric takes [op, number] or [op, number, op, number]")
        for op, number in zip(operand[::2], operand[1::2], strict=False):  # an odd tail is refused below
            if op not in _NUMERIC_OPS or not _is_number(number):
                raise PatternError(f"{where}: numeric takes operators {sorted(_NUMERIC_OPS)} and numbers")
    elif operator == "cidr":
        try:
            ipaddress.ip_network(operand, strict=False)
        except (TypeError, ValueError):
            raise PatternError(f"{where}: cidr takes a network such as 10.0.0.0/24") from None
    elif operator == "anything-but":
        if isinstance(operand, dict):
            if len(operand) != 1 or next(iter(operand)) not in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
                raise PatternError(
                    f"{where}: anything-but takes a value, a list, or prefix/suffix/equals-ignore-case/wildcard"
                )
            _validate_matcher(operand, where)
        elif isinstance(operand, list) and any(isinstance(v, (dict, list)) for v in operand):
            raise PatternError(f"{where}: anything-but's list holds plain values only")


def _is_ignore_case(operand: Any) -> bool:
    return (
        isinstance(operand, dict)
        and list(operand) == ["equals-ignore-case"]
        and isinstance(operand["equals-ignore-case"], str)
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def matches(pattern: dict[str, Any], event: Any) -> bool:
    """Whether ``event`` (a parsed JSON object) matches ``pattern`` (validated beforehand)."""
    if not isinstance(event, dict):
        event = {}
    for key, expected in pattern.items():
        if key == "$or":
            if not any(matches(option, event) for option in expected):
                return False
            continue
        value = event.get(key, _MISSING)
        if isinstance(expected, dict):
            if not matches(expected, value if isinstance(value, dict) else {}):
                return False
        elif not _leaf_matches(expected, value):
            return False
    return True


def _leaf_matches(matchers: list[Any], value: Any) -> bool:
    if value is _MISSING:
        return any(isinstance(m, dict) and m.get("exists") is False for m in matchers)
    if isinstance(value, dict):
        return False  # leaf matchers never match an object (EventBridge matches leaves only)
    values = value if isinstance(value, list) else [value]
    return any(_matcher_matches(m, v) for m in matchers for v in values)


def _equal(expected: Any, value: Any) -> bool:
    if expected is None or value is None:
        return expected is None and value is None
    if isinstance(expected, bool) or isinstance(value, bool):
        return isinstance(expected, bool) and isinstance(value, bool) and expected == value
    if _is_number(expected) or _is_number(value):
        return _is_number(expected) and _is_number(value) and float(expected) == float(value)
    return isinstance(expected, str) and isinstance(value, str) and expected == value


def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$", re.DOTALL)


def _string_op(operator: str, operand: Any, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if operator in ("prefix", "suffix"):
        fold = isinstance(operand, dict)
        text = operand["equals-ignore-case"] if fold else operand
        subject, text = (value.casefold(), text.casefold()) if fold else (value, text)
        return subject.startswith(text) if operator == "prefix" else subject.endswith(text)
    if operator == "equals-ignore-case":
        return value.casefold() == operand.casefold()
    if operator == "wildcard":
        return bool(_wildcard(operand).match(value))
    return False


def _matcher_matches(matcher: Any, value: Any) -> bool:
    if not isinstance(matcher, dict):
        return _equal(matcher, value)
    ((operator, operand),) = matcher.items()
    if operator == "exists":
        return operand is True  # the value is present (a missing one is handled by _leaf_matches)
    if operator in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
        return _string_op(operator, operand, value)
    if operator == "numeric":
        if not _is_number(value):
            return False
        for op, bound in zip(operand[::2], operand[1::2], strict=False):
            if not {
                "<": value < bound,
                "<=": value <= bound,
                "=": value == bound,
                ">": value > bound,
                ">=": value >= bound,
            }[op]:
                return False
        return True
    if operator == "cidr":
        try:
            return ipaddress.ip_address(value) in ipaddress.ip_network(operand, strict=False)
        except (TypeError, ValueError):
            return False
    if operator == "anything-but":
        if isinstance(operand, dict):
            ((inner, inner_operand),) = operand.items()
            return isinstance(value, str) and not _string_op(inner, inner_operand, value)
        excluded = operand if isinstance(operand, list) else [operand]
        return not any(_equal(e, value) for e in excluded)
    return False
