"""The HTTP edge every function shares: the resolver, problem+json errors and the entrypoint.

A function module reads like a table of contents::

    app = create_app()

    @app.post("/patients", responses=document(201, PatientOut))
    def register_patient(body: Annotated[PatientCreate, Body()]):
        ...

    lambda_handler = entrypoint(app)
"""

from __future__ import annotations

import base64
import json
import os
from typing import Annotated, Any, Callable

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyInconsistentStateError,
    IdempotencyItemAlreadyExistsError,
    IdempotencyPersistenceLayerError,
)
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError as BotoConnectionError, ReadTimeoutError

from clinic import access, audit
from clinic.data import dynamo
from clinic.errors import ApiError, FieldError, MalformedJson, NotFound, PayloadTooLarge, ServiceUnavailable, ValidationFailed
from clinic.identity import Caller, caller_from_event
from clinic.models.common import MAX_BODY_BYTES, ResponseModel
from clinic.observability import count, log_failure, logger, metrics, tracer

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


class Problem(ResponseModel):
    """RFC 9457 problem details, with the service's stable ``code``."""

    type: str = "about:blank"
    title: str
    status: int
    code: str
    detail: str = ""
    errors: list[dict[str, str]] = []


def problem_response(error: ApiError) -> Response:
    body = {"type": "about:blank", "title": error.title, "status": error.status, "code": error.code,
            "detail": error.detail}
    if error.errors:
        body["errors"] = [e.as_dict() for e in error.errors]
    return Response(status_code=error.status, content_type=PROBLEM_JSON, body=json.dumps(body),
                    headers=dict(error.headers))


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type=JSON, body=json.dumps(body), headers=headers or {})


def created(location: str, body: Any) -> Response:
    return json_response(201, body, {"Location": location})


def _field_of(loc: tuple | list) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def _validation_problem(error: RequestValidationError) -> ApiError:
    errors = error.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return MalformedJson(detail="the request body is not valid JSON")
    fields = []
    for e in errors:
        message = e.get("msg") or e.get("type") or "invalid"
        if e.get("type") == "missing" and list(e.get("loc", ())) == ["body"]:
            message = "a JSON body is required"
        elif e.get("type") == "value_error" and str((e.get("loc") or ("",))[-1]) == "email":
            message = "value is not a valid email address"  # email-validator's message quotes the input
        fields.append(FieldError(_field_of(e.get("loc", ())), message))
    return ValidationFailed(detail="the request is not valid", errors=fields)


def create_app() -> APIGatewayRestResolver:
    """A REST (v1) resolver with request validation and the service's problem+json errors."""
    origin = os.environ.get("CORS_ALLOWED_ORIGIN", "")
    cors = CORSConfig(allow_origin=origin, allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
                      expose_headers=["Location", "X-Request-Id", "Retry-After", "Idempotent-Replayed"],
                      max_age=600) if origin else None  # no origin configured: no CORS headers at all
    app = APIGatewayRestResolver(enable_validation=True, cors=cors)

    @app.exception_handler(ApiError)
    def _api_error(error: ApiError) -> Response:
        if error.status >= 500:
            logger.error("request failed", extra={"code": error.code})
        return problem_response(error)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(error: RequestValidationError) -> Response:
        return problem_response(_validation_problem(error))

    @app.exception_handler(UnicodeDecodeError)
    def _undecodable(error: UnicodeDecodeError) -> Response:
        # Powertools decodes the body as UTF-8 before parsing JSON; bytes that are not UTF-8 are not
        # JSON (RFC 8259), so that is the client's malformed body, not our 500.
        if not _body_is_utf8(app.current_event.raw_event):
            return problem_response(MalformedJson(detail="the request body is not UTF-8 JSON"))
        log_failure("unhandled error", error)
        return problem_response(ApiError(detail="unexpected error"))

    # (Powertools takes a list of exception classes; a tuple would silently never match.)
    @app.exception_handler([ClientError, BotoCoreError])
    def _storage_error(error: Exception) -> Response:
        code = error.response["Error"]["Code"] if isinstance(error, ClientError) else type(error).__name__
        transient = code in _TRANSIENT_CODES or isinstance(
            error, (BotoConnectionError, ReadTimeoutError, dynamo.DeadlineExceeded))
        if transient:
            logger.error("storage unavailable", extra={"storage_error": code})
            count("StorageUnavailable")
            return problem_response(ServiceUnavailable(detail="storage is temporarily unavailable; retry",
                                                       headers={"Retry-After": "1"}))
        log_failure("storage error", error, storage_error=code)
        return problem_response(ApiError(detail="unexpected error"))

    @app.exception_handler([IdempotencyPersistenceLayerError, IdempotencyInconsistentStateError,
                            IdempotencyItemAlreadyExistsError])
    def _idempotency_store_error(error: Exception) -> Response:
        logger.error("idempotency store unavailable", extra={"storage_error": type(error).__name__})
        count("StorageUnavailable")
        return problem_response(ServiceUnavailable(detail="storage is temporarily unavailable; retry",
                                                   headers={"Retry-After": "1"}))

    @app.not_found
    def _no_route(_: Exception) -> Response:
        return problem_response(NotFound(detail="no such route"))

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        log_failure("unhandled error", error)
        return problem_response(ApiError(detail="unexpected error"))

    return app


# The Idempotency-Key header of the keyed POSTs, as a route parameter: it documents the header in the
# OpenAPI document and rejects a key of the wrong length (422) before anything runs. ``once`` reads it.
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=255,
    description="Makes retries safe: the same key and body within 24 h answer the first response again "
                "(with Idempotent-Replayed: true) and create nothing new; another body is 422 "
                "IDEMPOTENCY_KEY_REUSED; while the first request runs, 409 IDEMPOTENCY_IN_PROGRESS.")]


def once(app: APIGatewayRestResolver, payload: Any, compute: Callable[[], dict[str, Any]]) -> Response:
    """Answer a create or cancel at most once per Idempotency-Key (see clinic.idempotency).

    ``compute`` returns {"status", "body", "headers"}; a replay carries ``Idempotent-Replayed: true``."""
    from clinic import idempotency

    event = app.current_event
    key = idempotency.key_from(event.headers)
    scope = f"{event.http_method} {event.path}#{caller(app).sub}"
    context = app.lambda_context
    idempotency.register_context(context)  # an in-progress record expires with this invocation
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    outcome = idempotency.once(key, scope, payload, compute, remaining)
    headers = dict(outcome.get("headers") or {})
    if outcome.get("replayed"):
        headers["Idempotent-Replayed"] = "true"
    # Keys sorted as the stored record has them, so a replay is byte-for-byte the first answer.
    return Response(status_code=outcome["status"], content_type=JSON, headers=headers,
                    body=json.dumps(outcome["body"], sort_keys=True))


def caller(app: APIGatewayRestResolver) -> Caller:
    """The identity seam, as handlers see it."""
    return caller_from_event(app.current_event.raw_event)


def _body_bytes(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    return base64.b64decode(body, validate=False) if event.get("isBase64Encoded") else body.encode()


def _body_is_utf8(event: dict[str, Any]) -> bool:
    try:
        _body_bytes(event).decode("utf-8")
    except (UnicodeDecodeError, ValueError):
        return False
    return True


def _body_too_large(event: dict[str, Any]) -> bool:
    body = event.get("body") or ""
    size = len(body.encode()) if not event.get("isBase64Encoded") else len(base64.b64decode(body, validate=False))
    return size > MAX_BODY_BYTES


def entrypoint(app: APIGatewayRestResolver) -> Callable[[dict, Any], dict]:
    """The Lambda handler: logs with the request id as correlation id, metrics with cold starts,
    a trace that never captures responses, the body-size guard, and X-Request-Id on every answer."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        request = event.get("requestContext") or {}
        method, resource = event.get("httpMethod", ""), event.get("resource", "")
        logger.append_keys(route=f"{method} {resource}")
        audit.start_request()
        who = caller_from_event(event)
        with dynamo.deadline_of(context):  # no DynamoDB call starts that could outlast the invocation
            try:
                access.check_route(who, method, resource)  # before validation: a stranger learns nothing
                if _body_too_large(event):
                    raise PayloadTooLarge(detail="the request body is over 64 KiB")
            except ApiError as refused:
                response = _as_proxy(problem_response(refused))
            else:
                response = app.resolve(event, context)
            response = _audited(event, who, response)
        response.setdefault("headers", {})["X-Request-Id"] = request.get("requestId", "")
        logger.info("request handled", extra={"status": response.get("statusCode")})
        return response

    return handler


def _audited(event: dict[str, Any], who: Caller, response: dict[str, Any]) -> dict[str, Any]:
    """Leave the audit record of a patient-data route; without it, the answer is not given."""
    try:
        audit.write(audit.build_records(event, who, response))
    except (ClientError, BotoCoreError) as error:
        log_failure("audit record not written", error)
        count("AuditWriteFailed")
        return _as_proxy(problem_response(ServiceUnavailable(detail="the service is temporarily unavailable; retry",
                                                             headers={"Retry-After": "1"})))
    return response


def _as_proxy(response: Response) -> dict[str, Any]:
    headers = {"Content-Type": response.content_type or PROBLEM_JSON, **(response.headers or {})}
    return {"statusCode": response.status_code, "headers": headers, "body": response.body, "isBase64Encoded": False}


def document(status: int, model: type | None = None, description: str = "Success",
             conflict: str | None = None) -> dict[int, dict]:
    """OpenAPI responses for a route: its success answer plus the problem answers every route can give
    (400 malformed JSON, 401/403 from the gateway and access rules, 404, 413 body over 64 KiB, 422,
    503 storage). ``conflict`` documents the route's 409: when it can happen, with which ``code``s."""
    responses: dict[int, dict] = {}
    success: dict[str, Any] = {"description": description}
    if model is not None:
        success["content"] = {JSON: {"model": model}}
    responses[status] = success
    problems = [(400, "Malformed JSON"), (401, "Unauthenticated"), (403, "Forbidden"), (404, "Not found"),
                (413, "Payload too large"), (422, "Validation error"),
                (503, "Service unavailable; retry after Retry-After seconds")]
    if conflict:
        problems.append((409, f"Conflict: {conflict}"))
    for code, text in sorted(problems):
        responses[code] = {"description": text, "content": {PROBLEM_JSON: {"model": Problem}}}
    return responses
