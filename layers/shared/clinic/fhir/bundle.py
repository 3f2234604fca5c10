"""Searchset Bundles. Pure.

Each match is an entry with ``search.mode = match`` and, when the request's base URL is known, a
``fullUrl``; the parameters a lenient search ignored are one more entry, a warning OperationOutcome with
``search.mode = outcome``. ``link`` has ``self`` (the search as understood: the parameters that were
used, not the ignored ones) and ``next`` when there is more. ``total`` only when it is known for free.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from clinic.fhir import outcome


def url(base: str | None, resource_type: str, pairs: list[tuple[str, str]]) -> str:
    """A search URL: absolute under ``base`` when it is known, else relative to the FHIR base."""
    query = urlencode(pairs, safe="/:,|")
    path = f"{base}/{resource_type}" if base else resource_type
    return f"{path}?{query}" if query else path


def searchset(
    matches: list[dict[str, Any]],
    *,
    base: str | None,
    self_url: str,
    next_url: str | None = None,
    total: int | None = None,
    ignored: list[str] | tuple[str, ...] = (),
) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    for resource in matches:
        entry: dict[str, Any] = {"resource": resource, "search": {"mode": "match"}}
        if base:
            entry["fullUrl"] = f"{base}/{resource['resourceType']}/{resource['id']}"
        entries.append(entry)
    if ignored:
        entries.append({"resource": outcome.ignored_parameters(ignored), "search": {"mode": "outcome"}})
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if total is not None:
        bundle["total"] = total
    bundle["link"] = [{"relation": "self", "url": self_url}]
    if next_url:
        bundle["link"].append({"relation": "next", "url": next_url})
    if entries:
        bundle["entry"] = entries
    return bundle
