"""What the FHIR functions share at the HTTP edge: their endpoint declaration, their answers, the base URL.

``fhir_endpoint`` is ``clinic.api.endpoint`` with the FHIR formats preset: answers in
``application/fhir+json`` and every error the function answers as an OperationOutcome, with the status
and headers the native routes give (``clinic.api`` keeps problem+json for every other endpoint). The
gateway's own answers (401 without a valid token, 429, an unknown path) stay problem+json: no function
runs for them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from clinic import parsing
from clinic.api import Answer, Endpoint, Request, endpoint, ok
from clinic.errors import ApiError
from clinic.fhir import FHIR_JSON, bundle, outcome, search
from clinic.fhir.models import FhirOperationOutcome


def answer(resource: dict[str, Any], status: int = 200) -> Answer:
    return ok(resource, status=status, content_type=FHIR_JSON)


def operation_outcome(error: ApiError) -> Answer:
    """``endpoint(problem=...)`` of every FHIR function: the error as an OperationOutcome."""
    return Answer(error.status, outcome.of_error(error), dict(error.headers), FHIR_JSON)


def fhir_endpoint(function: str, **declared: Any) -> Callable[[Callable[[Request], Answer]], Endpoint]:
    return endpoint(
        function, content_type=FHIR_JSON, problem=operation_outcome, problem_answers=FhirOperationOutcome, **declared
    )


def base_url(event: Mapping[str, Any]) -> str | None:
    """The FHIR base URL the client called (``https://<host>[/<stage>]/fhir``), or None when the event does
    not say (a hand-made test event). The host is the request's; on API Gateway's own domain
    (``*.amazonaws.com``) the stage is part of the path; on a custom domain (and locally) the path the
    function sees already holds any base-path mapping."""
    context = event.get("requestContext") or {}
    host = parsing.header(event, "Host") or context.get("domainName")
    if not host or not all(c.isalnum() or c in ".-:[]" for c in host):
        return None
    scheme = (parsing.header(event, "X-Forwarded-Proto") or "http").split(",")[0].strip().lower()
    scheme = scheme if scheme in ("http", "https") else "http"
    stage = f"/{context['stage']}" if host.lower().endswith(".amazonaws.com") and context.get("stage") else ""
    path = str(event.get("path") or "")
    concrete = str(event.get("resource") or "")
    for name, value in (event.get("pathParameters") or {}).items():
        concrete = concrete.replace("{" + name + "}", str(value))
    mapping = path[: -len(concrete)] if concrete and path.endswith(concrete) else ""
    return f"{scheme}://{host}{stage}{mapping}/fhir"


def searched(
    request: Request,
    resource_type: str,
    supported: tuple[str, ...],
    run: Callable[[search.Params], Any],
) -> Answer:
    """A search: its parameters read from every value of the query (unknown ones ignored, or refused under
    ``Prefer: handling=strict``), ``run`` (a use case answering a page: ``resources``, ``used``,
    ``next_pairs``, ``total``), and the searchset Bundle of that page."""
    found = search.params(
        request.event.get("multiValueQueryStringParameters"),
        supported,
        strict=search.strict_handling(request.header("Prefer")),
    )
    page = run(found)
    base = base_url(request.event)
    next_url = bundle.url(base, resource_type, page.next_pairs) if page.next_pairs else None
    return answer(
        bundle.searchset(
            page.resources,
            base=base,
            self_url=bundle.url(base, resource_type, page.used),
            next_url=next_url,
            total=page.total,
            ignored=found.ignored,
        )
    )
