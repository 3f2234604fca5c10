"""API Gateway REST (v1) proxy events, shaped like the ones Lambda receives behind a REST API."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any
from urllib.parse import parse_qs

STAGE = "local"


def build_event(
    *,
    method: str,
    resource: str,
    path: str,
    path_parameters: dict[str, str] | None,
    query_string: str,
    headers: dict[str, str],
    body: bytes,
    claims: dict[str, str] | None,
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
) -> dict[str, Any]:
    query = parse_qs(query_string, keep_blank_values=True)
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers.items():
        multi_headers.setdefault(name, []).append(value)
    text: str | None
    encoded = False
    if not body:
        text = None
    else:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode(), True
    now = time.time()
    context: dict[str, Any] = {
        "accountId": "000000000000",
        "apiId": "local",
        "domainName": headers.get("Host", "127.0.0.1"),
        "extendedRequestId": request_id or str(uuid.uuid4()),
        "httpMethod": method,
        "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
        "path": f"/{STAGE}{path}",
        "protocol": "HTTP/1.1",
        "requestId": request_id or str(uuid.uuid4()),
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "requestTimeEpoch": int(now * 1000),
        "resourceId": "local",
        "resourcePath": resource,
        "stage": STAGE,
    }
    if claims is not None:
        context["authorizer"] = {"claims": claims}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": dict(headers) or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": context,
        "body": text,
        "isBase64Encoded": encoded,
    }
