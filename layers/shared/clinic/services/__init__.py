"""Use cases: each validates what the models cannot, applies the domain rules and calls storage."""

import uuid

from clinic.errors import NotFound


def require_id(value: str, kind: str) -> str:
    """Ids in paths are UUID v4 strings; anything else is simply not found (a 404, never a 422)."""
    try:
        parsed = uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        raise NotFound(detail=f"{kind} not found") from None
    if parsed.version != 4 or str(parsed) != value.lower():
        raise NotFound(detail=f"{kind} not found")
    return str(parsed)


def new_id() -> str:
    return str(uuid.uuid4())
