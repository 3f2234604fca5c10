"""Use cases: each validates what the models cannot, applies the domain rules and calls storage."""

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from clinic.errors import NotFound

# The scope#key of the keyed request being computed (set by clinic.idempotency): new ids derive from
# it, so a retry after a lost answer writes the very same record and finds it there.
_active_key: ContextVar[str | None] = ContextVar("active_key", default=None)


@contextmanager
def keyed(scope_and_key: str) -> Iterator[None]:
    """Within a request that carries an Idempotency-Key."""
    token = _active_key.set(scope_and_key)
    try:
        yield
    finally:
        _active_key.reset(token)


def require_id(value: str, kind: str) -> str:
    """Ids in paths are UUID v4 strings; anything else is simply not found (a 404, never a 422)."""
    try:
        parsed = uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        raise NotFound(detail=f"{kind} not found") from None
    if parsed.version != 4 or str(parsed) != value.lower():
        raise NotFound(detail=f"{kind} not found")
    return str(parsed)


def new_id(purpose: str = "") -> str:
    """A fresh UUID v4 — or, inside a request with an Idempotency-Key, one derived from the key, so
    that a retry after a lost answer (the write committed, the response did not arrive) writes the
    same record and can recognise it as its own instead of creating a second one. A request that
    creates several records names each one's ``purpose`` (e.g. "occurrence-3")."""
    scope = _active_key.get()
    if scope is None:
        return str(uuid.uuid4())
    digest = hashlib.sha256(
        f"record-id:{scope}#{purpose}".encode() if purpose else ("record-id:" + scope).encode()
    ).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def in_a_keyed_request() -> bool:
    """Whether this request carries an Idempotency-Key (so it may be the retry of a committed write)."""
    return _active_key.get() is not None
