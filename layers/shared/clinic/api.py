"""The HTTP edge every function shares: one endpoint per function, its route declared in clinic.routes.

A function module reads like a table of contents::

    @endpoint("BookAppointment", body=AppointmentCreate, answers=AppointmentOut, status=201,
              summary="Book an appointment", conflicts="SLOT_UNAVAILABLE or PATIENT_UNAVAILABLE")
    def book_appointment(request: Request) -> Answer:
        appointment = appointments.book(request.body, request.caller)
        return created(f"/appointments/{appointment['id']}", appointment)

    lambda_handler = book_appointment

Around every use case, in this order: the caller's role against the route's (403, before anything
is parsed, so a stranger learns nothing), the body's size (413), content type (415), JSON (400) and
model (422), the query's model (422), and the Idempotency-Key where the route takes one. After it,
whatever happened: the audit record, X-Request-Id and CORS headers. Every error becomes
problem+json here, once; the services raise errors and never choose headers or status lines.

Deliberately not Powertools' event handler: each function serves one route, and importing the
resolver (its package pulls every resolver and its OpenAPI validation machinery) was most of a cold
start. Powertools still logs, counts, traces and keeps the idempotency records, and the OpenAPI
document is generated from these endpoints at build and test time (local_stack/openapi.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError
from botocore.exceptions import ConnectionError as BotoConnectionError

from clinic import access, audit, config, parsing, routes, snapstart
from clinic.data import dynamo
from clinic.data.permissions import tables_of
from clinic.data.transactions import StillConflicting
from clinic.errors import ApiError, Forbidden, ServiceUnavailable, invalid
from clinic.identity import Caller, caller_from_event
from clinic.observability import count, handler_observed, log_failure, logger

PROBLEM_JSON = "application/problem+json"
JSON = "application/json"

# DynamoDB answers that mean "not now": the client should retry later (503 + Retry-After).
_TRANSIENT_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
    "LimitExceededException",
}
IDEMPOTENCY_KEY_MAX = 255
_EXPOSED_HEADERS = "Location, X-Request-Id, Retry-After, Idempotent-Replayed"


@dataclass
class Request:
    """What a use case may know about the request: validated input and the caller, nothing raw."""

    route: routes.Route
    caller: Caller
    path: dict[str, str]
    body: Any = None  # the validated body model, when the endpoint takes one
    query: Any = None  # the validated query model, when the endpoint takes one
    event: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def header(self, name: str) -> str | None:
        return parsing.header(self.event, name)


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = JSON
    error: ApiError | None = field(default=None, repr=False, compare=False)  # what a problem answer was made from


def ok(body: Any, status: int = 200, headers: dict[str, str] | None = None, content_type: str = JSON) -> Answer:
    return Answer(status, body, dict(headers or {}), content_type)


def created(location: str, body: Any) -> Answer:
    return Answer(201, body, {"Location": location})


def no_content() -> Answer:
    return Answer(204)


def problem(error: ApiError) -> Answer:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": error.title,
        "status": error.status,
        "code": error.code,
        "detail": error.detail,
    }
    if error.errors:
        body["errors"] = [e.as_dict() for e in error.errors]
    answer = Answer(error.status, body, dict(error.headers), PROBLEM_JSON)
    answer.error = error  # an endpoint with its own error format (``problem=``) renders the error itself
    return answer


def _unavailable(detail: str = "storage is temporarily unavailable; retry") -> Answer:
    return problem(ServiceUnavailable(detail=detail, headers={"Retry-After": "1"}))


class Endpoint:
    """One function's endpoint: its declared route, its input models, its use case, and what it
    answers (for the OpenAPI document). Calling it with (event, context) is the Lambda handler."""

    # Errors in another format than problem+json (set by ``endpoint(problem=...)``; FHIR: OperationOutcome):
    # the function from the error to the answer, and the answer body's model for the OpenAPI document.
    problem: Callable[[ApiError], Answer] | None = None
    problem_answers: type | None = None
    # On a keyed route, whether this request takes its Idempotency-Key (``endpoint(keyed_when=...)``; FHIR: one
    # route serves $find, which changes nothing, and $hold and $book, which do). None: every request does.
    keyed_when: Callable[[Request], bool] | None = None
    # A path parameter that takes named values rather than an id (for the OpenAPI document; FHIR: the operations)
    path_values: dict[str, tuple[str, ...]] | None = None

    def __init__(
        self,
        function: str,
        handle: Callable[[Request], Answer],
        *,
        body: type | None,
        query: type | None,
        answers: Any,
        status: int,
        summary: str,
        description: str,
        conflicts: str | None,
        content_type: str,
        other_answers: dict[int, str],
    ) -> None:
        route = routes.BY_FUNCTION.get(function)
        if route is None:
            raise LookupError(f"{function} is not declared in clinic.routes")
        self.route, self.handle = route, handle
        self.body_model, self.query_model, self.answers, self.status = body, query, answers, status
        self.summary, self.description, self.conflicts = summary, description, conflicts
        self.content_type, self.other_answers = content_type, other_answers
        self.name = handle.__name__
        self.__doc__ = handle.__doc__
        if config.in_lambda():  # fail closed at init, not on the first request that needs a table
            permissions = route.all_permissions
            config.require(
                config.variables_for(
                    tables_of(permissions),
                    paginates="pagination" in permissions,
                    identifies=route.roles is not routes.ANYONE,  # the pools' issuers (clinic.identity)
                )
            )
        snapstart.install()  # a restored snapshot forgets its clients, caches and random state
        self._lambda = handler_observed(self._serve)

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        return self._lambda(event, context)

    # ------------------------------------------------------------------ one request
    def _serve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        logger.append_keys(route=f"{self.route.method} {self.route.path}")
        caller = caller_from_event(event)
        audit.start_request(self.route, event, caller)
        with dynamo.deadline_of(context):  # no DynamoDB call starts that could outlast the invocation
            answer = self._answer(event, context, caller)
            if self.route.audit is not None:
                answer = self._audited(event, caller, answer)
        if self.problem is not None and answer.error is not None:
            answer = self.problem(answer.error)  # the same status and headers, in the endpoint's own format
        response = _proxy(answer, event)
        logger.info("request handled", extra={"status": answer.status})
        return response

    def _answer(self, event: dict[str, Any], context: Any, caller: Caller) -> Answer:
        try:
            if (event.get("httpMethod"), event.get("resource")) != self.route.key:
                raise Forbidden(detail="not allowed")  # routed here by mistake: fail closed
            access.check_route(caller, self.route)
            access.require_active_doctor(caller, self.route, _doctor_is_active)
            request = self._request(event, caller)
            if self.route.keyed and (self.keyed_when is None or self.keyed_when(request)):
                return self._once(request, context)
            return self.handle(request)
        except Exception as error:
            return _failure(error)

    def _request(self, event: dict[str, Any], caller: Caller) -> Request:
        raw = parsing.body_bytes(event)
        parsing.check_size(raw)
        body = None
        if self.body_model is not None:
            data = None
            if raw:
                parsing.check_content_type(event)
                data = parsing.parse_json(raw)
            body = parsing.model(self.body_model, data)
        query = None
        if self.query_model is not None:
            query = parsing.model(self.query_model, event.get("queryStringParameters") or {}, where="query")
        return Request(self.route, caller, dict(event.get("pathParameters") or {}), body, query, event)

    def _once(self, request: Request, context: Any) -> Answer:
        """At most once per Idempotency-Key (clinic.idempotency); without a key, simply once."""
        key = parsing.header(request.event, "Idempotency-Key")
        if key is None:
            return self.handle(request)
        if not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX:
            raise invalid("Idempotency-Key", f"must be 1 to {IDEMPOTENCY_KEY_MAX} characters")
        from clinic import idempotency  # only keyed requests pay for Powertools' idempotency

        def compute() -> dict[str, Any]:
            answer = self.handle(request)
            return {"status": answer.status, "body": answer.body, "headers": answer.headers}

        payload = request.body.model_dump(mode="json") if request.body is not None else None
        scope = f"{request.route.method} {request.event.get('path')}#{request.caller.sub}"
        outcome = idempotency.once(key, scope, payload, compute, context)
        headers = dict(outcome.get("headers") or {})
        if outcome.get("replayed"):
            headers["Idempotent-Replayed"] = "true"
        return Answer(outcome["status"], outcome["body"], headers, self.content_type)

    def _audited(self, event: dict[str, Any], caller: Caller, answer: Answer) -> Answer:
        """Leave the audit records of a patient-data route; without them, the answer is not given."""
        try:
            audit.record(self.route, event, caller, answer.status)
        except (ClientError, BotoCoreError) as error:
            log_failure("audit record not written", error)
            count("AuditWriteFailed")
            return _unavailable("the service is temporarily unavailable; retry")
        return answer


def endpoint(
    function: str,
    *,
    body: type | None = None,
    query: type | None = None,
    answers: Any = None,
    status: int = 200,
    summary: str = "",
    description: str = "",
    conflicts: str | None = None,
    content_type: str = JSON,
    other_answers: dict[int, str] | None = None,
    problem: Callable[[ApiError], Answer] | None = None,
    problem_answers: type | None = None,
    keyed_when: Callable[[Request], bool] | None = None,
    path_values: dict[str, tuple[str, ...]] | None = None,
) -> Callable[[Callable[[Request], Answer]], Endpoint]:
    """Declare a function's endpoint. ``function`` names its route in clinic.routes; ``body`` and
    ``query`` are the pydantic models its input must pass; ``answers`` (a model) and ``status`` its
    success, ``other_answers`` other statuses with the same body, ``conflicts`` when it answers 409 and
    with which codes — all for the OpenAPI document. ``problem`` answers the endpoint's errors in another
    format than problem+json (same status and headers; FHIR: OperationOutcome), ``problem_answers`` is that
    body's model; without them, errors are problem+json as everywhere else. ``keyed_when`` narrows a keyed
    route's Idempotency-Key to the requests it says (default: all); ``path_values`` documents a path parameter
    that takes named values, not an id."""

    def declare(handle: Callable[[Request], Answer]) -> Endpoint:
        made = Endpoint(
            function,
            handle,
            body=body,
            query=query,
            answers=answers,
            status=status,
            summary=summary,
            description=description or (handle.__doc__ or "").strip(),
            conflicts=conflicts,
            content_type=content_type,
            other_answers=dict(other_answers or {}),
        )
        made.problem, made.problem_answers, made.keyed_when = problem, problem_answers, keyed_when
        made.path_values = path_values
        return made

    return declare


def _doctor_is_active(doctor_id: str) -> bool:
    from clinic.services import doctors  # only a doctor's request reads a doctor here

    return doctors.is_active(doctor_id)


# ---------------------------------------------------------------------- errors → answers
def _failure(error: Exception) -> Answer:
    if isinstance(error, StillConflicting):  # other transactions kept holding the items: retry
        logger.error("storage unavailable", extra={"storage_error": "TransactionConflict"})
        count("StorageUnavailable")
        return _unavailable("the records are busy; retry")
    if isinstance(error, ApiError):
        if error.status >= 500:
            logger.error("request failed", extra={"code": error.code})
        return problem(error)
    if isinstance(error, (ClientError, BotoCoreError)):
        code = error.response["Error"]["Code"] if isinstance(error, ClientError) else type(error).__name__
        if code in _TRANSIENT_CODES or isinstance(
            error, (BotoConnectionError, ReadTimeoutError, dynamo.DeadlineExceeded)
        ):
            logger.error("storage unavailable", extra={"storage_error": code})
            count("StorageUnavailable")
            return _unavailable()
        log_failure("storage error", error, storage_error=code)
        return problem(ApiError(detail="unexpected error"))
    if _is_idempotency_store_error(error):
        logger.error("idempotency store unavailable", extra={"storage_error": type(error).__name__})
        count("StorageUnavailable")
        return _unavailable()
    log_failure("unhandled error", error)
    return problem(ApiError(detail="unexpected error"))


def _is_idempotency_store_error(error: Exception) -> bool:
    """Powertools' idempotency store failing (checked by name: its module is imported only by keyed
    requests, and a function that never took a key must not import it to find out)."""
    return type(error).__name__ in (
        "IdempotencyPersistenceLayerError",
        "IdempotencyInconsistentStateError",
        "IdempotencyItemAlreadyExistsError",
    ) and type(error).__module__.startswith("aws_lambda_powertools.utilities.idempotency")


# ---------------------------------------------------------------------- the proxy response
def _proxy(answer: Answer, event: Mapping[str, Any]) -> dict[str, Any]:
    headers = {**answer.headers}
    if answer.body is None:
        body = ""
    else:
        headers["Content-Type"] = answer.content_type
        # Keys sorted, so an idempotent replay is byte-for-byte the first answer.
        body = json.dumps(answer.body, sort_keys=True, separators=(",", ":"))
    headers["X-Request-Id"] = (event.get("requestContext") or {}).get("requestId") or ""
    headers.update(_cors(event))
    return {"statusCode": answer.status, "headers": headers, "body": body, "isBase64Encoded": False}


def _cors(event: Mapping[str, Any]) -> dict[str, str]:
    """CORS for the one configured origin (CorsAllowedOrigin), and none for any other; API Gateway
    answers the preflight itself."""
    allowed = os.environ.get("CORS_ALLOWED_ORIGIN", "")
    origin = parsing.header(event, "Origin")
    if not allowed or origin != allowed:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": _EXPOSED_HEADERS, "Vary": "Origin"}
