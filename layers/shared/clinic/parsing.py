"""From an API Gateway event to validated input, with limits for hostile input.

Nothing a client sends may end in a 5xx: the body's size (413), its content type (415), its bytes
and JSON (400), its depth, numbers and strings, and its fields (422) are each refused here with a
problem the client can act on, before any use case runs. In particular:

- JSON nested deeper than ``MAX_DEPTH`` levels is refused (Python's parser would raise RecursionError
  on thousands of levels, which nothing expects);
- an integer literal longer than ``MAX_INT_DIGITS`` digits becomes infinity, which every integer and
  string field refuses with 422 (Python refuses to convert 4,300+ digits with a ValueError, and a
  merely huge integer would reach DynamoDB, which refuses numbers of more than 38 digits);
- ``NaN``/``Infinity`` literals (not JSON) and duplicate keys (which two parsers may read differently)
  are malformed JSON;
- a string holding a lone UTF-16 surrogate (legal as a JSON escape, not encodable as UTF-8, so
  unstorable) is a 422 on its field.

Error messages never quote what was sent: it may be patient data.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from clinic.errors import FieldError, MalformedJson, PayloadTooLarge, UnsupportedMediaType, ValidationFailed

MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 32
MAX_INT_DIGITS = 18
_FIELD_NAME_CHARS = 100  # an unknown field's name is echoed back, at most this long

Model = TypeVar("Model", bound=BaseModel)


def header(event: Mapping[str, Any], name: str) -> str | None:
    """A request header, whatever its case (API Gateway keeps the client's)."""
    wanted = name.lower()
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == wanted:
            return value
    for key, values in (event.get("multiValueHeaders") or {}).items():
        if key.lower() == wanted and values:
            return values[-1]
    return None


def body_bytes(event: Mapping[str, Any]) -> bytes:
    body = event.get("body")
    if body is None:
        return b""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedJson(detail="the request body is not valid base64") from None
    return body.encode("utf-8", errors="surrogatepass")


def check_size(raw: bytes) -> None:
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(detail=f"the request body is over {MAX_BODY_BYTES // 1024} KiB")


def check_content_type(event: Mapping[str, Any]) -> None:
    """A body is JSON: ``application/json`` or a ``+json`` type, any parameters (charset). No header is
    taken as JSON; anything else (text/plain, a form) is 415, never parsed as something else."""
    value = header(event, "Content-Type")
    if value is None or not value.strip():
        return
    media_type = value.split(";", 1)[0].strip().lower()
    if media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json")):
        return
    raise UnsupportedMediaType(detail="the request body must be JSON (Content-Type: application/json)")


class _Duplicate(ValueError):
    pass


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _Duplicate()
    return result


def _integer(text: str) -> int | float:
    return int(text) if len(text.lstrip("-")) <= MAX_INT_DIGITS else float("inf")


def _constant(_name: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


def parse_json(raw: bytes) -> Any:
    """The body's JSON value; MalformedJson (400) or ValidationFailed (422) when it cannot be used."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedJson(detail="the request body is not UTF-8 JSON") from None
    try:
        value = json.loads(text, object_pairs_hook=_object, parse_int=_integer, parse_constant=_constant)
    except _Duplicate:
        raise MalformedJson(detail="the request body repeats a key in one object") from None
    except RecursionError:
        raise _too_deep() from None
    except ValueError:
        raise MalformedJson(detail="the request body is not valid JSON") from None
    _check_value(value, "body", 0)
    return value


def _too_deep() -> ValidationFailed:
    return ValidationFailed(
        detail=f"the request body is nested more than {MAX_DEPTH} levels deep",
        errors=[FieldError("body", f"at most {MAX_DEPTH} levels of nesting")],
    )


def _check_value(value: Any, where: str, depth: int) -> None:
    """Depth and strings, walked once (the depth bound keeps this walk itself shallow)."""
    if depth > MAX_DEPTH:
        raise _too_deep()
    if isinstance(value, str):
        _check_string(value, where)
    elif isinstance(value, dict):
        for key, inner in value.items():
            _check_string(key, where)
            _check_value(inner, f"{where}.{_field_name(key)}", depth + 1)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _check_value(inner, f"{where}.{index}", depth + 1)


def _check_string(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationFailed(
            detail="a string holds a lone UTF-16 surrogate",
            errors=[FieldError(_strip_root(where), "must be valid Unicode text")],
        ) from None


def _field_name(key: str) -> str:
    return "".join(c for c in key[:_FIELD_NAME_CHARS] if c.isprintable()) or "?"


def _strip_root(where: str) -> str:
    return where.split(".", 1)[1] if "." in where else where


def model(cls: type[Model], data: Any, *, where: str = "body") -> Model:
    """``data`` as ``cls``, or ValidationFailed (422) with one entry per field."""
    if data is None and where == "body":
        raise ValidationFailed(
            detail="the request is not valid", errors=[FieldError("body", "a JSON body is required")]
        )
    try:
        return cls.model_validate(data)
    except ValidationError as error:
        raise ValidationFailed(detail="the request is not valid", errors=field_errors(error)) from None


def field_errors(error: ValidationError) -> list[FieldError]:
    found = []
    for entry in error.errors(include_url=False, include_input=False):
        location = [_field_name(str(part)) for part in entry.get("loc", ())]
        message = entry.get("msg") or entry.get("type") or "invalid"
        if entry.get("type") == "value_error" and location and location[-1] == "email":
            message = "value is not a valid email address"  # email-validator's message quotes the input
        found.append(FieldError(".".join(location) or "body", message))
    return found
