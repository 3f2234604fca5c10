"""API Gateway (REST), locally: routes and gateway responses read from template.yaml, bearer
tokens checked before any function runs, REST (v1) proxy events, JSON access logs.

Besides the API it serves ``/openapi.json`` (generated from the code), ``/docs`` (Swagger UI, its files
served from a pinned npm package under ``/docs/assets/``: see local_stack/swagger_ui.py), given a
``LocalMetrics``, ``/_local/metrics`` and ``/_local/metrics.json`` (see local_stack/metrics.py), the
local views it is given (``/_local/events``, ``/_local/dead-letters``, ``/_local/schedules``: JSON, no
token, like the metrics), the web app at ``/app/`` with its local sign-in page (local_stack/web.py)
and the local AWS endpoints the functions' boto3 clients use
(``/_aws/events``: EventBridge, ``/_aws/scheduler``: EventBridge Scheduler).
"""

from __future__ import annotations

import base64
import json
import re
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO
from urllib.parse import urlsplit

from local_stack import events, swagger_ui, tokens, web
from local_stack import template as tpl
from local_stack.functions import FunctionFailed, Functions

# method, path, query, headers, body → status, headers, body
AwsService = Callable[[str, str, str, Any, bytes], tuple[int, dict[str, str], bytes]]
LocalView = Callable[[str], bytes]  # query string → JSON

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's own limit; the functions enforce 64 KiB


@dataclass(frozen=True)
class Target:
    route: tpl.Route
    function: str
    pattern: re.Pattern[str]


def _targets() -> list[Target]:
    found = [Target(route, f.logical_id, route.pattern()) for f in tpl.functions() for route in f.routes]
    # Literal segments win over {parameters}, as in API Gateway (/patients/search before /patients/{id}).
    return sorted(found, key=lambda t: (t.route.path.count("{"), -len(t.route.path)))


class GatewayResponses:
    """The template's ClinicApi GatewayResponses, rendered the way API Gateway renders them."""

    def __init__(self) -> None:
        resources = tpl.load()["Resources"]
        api = next((r for r in resources.values() if r["Type"] == "AWS::Serverless::Api"), {})
        self.responses = (api.get("Properties") or {}).get("GatewayResponses") or {}

    def render(self, kind: str, request_id: str, message: str = "", default_status: int = 500):
        spec = self.responses.get(kind) or self.responses.get("DEFAULT_5XX" if default_status >= 500 else "DEFAULT_4XX")
        spec = spec or {}
        status = int(spec.get("StatusCode", default_status))
        body = (spec.get("ResponseTemplates") or {}).get(
            "application/json"
        ) or '{"message": $context.error.messageString}'
        body = body.replace("$context.error.messageString", json.dumps(message)).replace(
            "$context.requestId", request_id
        )
        headers = {}
        for name, value in ((spec.get("ResponseParameters") or {}).get("Headers") or {}).items():
            value = str(value)
            headers[name] = (
                value[1:-1] if value.startswith("'") else request_id if value == "context.requestId" else value
            )
        return status, headers, body.encode()


_SKIP_KEYS = {"function_request_id", "xray_trace_id"}


def _compact(line: str) -> str:
    """A terminal-sized view of one JSON log line (the log file keeps it whole)."""
    try:
        record = json.loads(line)
    except ValueError:
        return line
    if not isinstance(record, dict):
        return line
    if "_aws" in record:
        names = [m["Name"] for d in record["_aws"].get("CloudWatchMetrics", []) for m in d.get("Metrics", [])]
        return "metric " + " ".join(names)
    if "level" in record:
        extras = " ".join(
            f"{k}={v}"
            for k, v in record.items()
            if (k.endswith("_id") and k not in _SKIP_KEYS) or k in ("status", "code", "storage_error")
        )
        text = f"{record['level']:<7} {record.get('message', '')}  {extras}".rstrip()
        if record.get("exception"):
            text += "\n" + str(record["exception"])
        return text
    if "httpMethod" in record:
        return f"{record['httpMethod']} {record['resourcePath']} → {record['status']} ({record['responseLatency']} ms)"
    return line


class Console:
    """Where function logs and access logs go: the terminal (unless quiet) and LOCAL_LOG_FILE."""

    def __init__(self, stream: TextIO | None = sys.stdout, log_file: str | None = None) -> None:
        self.stream = stream
        self.file = open(log_file, "a", encoding="utf-8", buffering=1) if log_file else None  # noqa: SIM115
        self.lock = threading.Lock()
        self.listeners: list[Callable[[str, str], None]] = []

    def __call__(self, source: str, line: str) -> None:
        for listener in self.listeners:
            listener(source, line)
        with self.lock:
            if self.file:
                self.file.write(line + "\n")
            if self.stream:
                self.stream.write(f"{source.removesuffix('Function'):<20} {_compact(line)}\n")
                self.stream.flush()

    def close(self) -> None:
        if self.file:
            self.file.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default backlog (5) resets connections when many clients arrive at once


class Gateway:
    def __init__(
        self,
        functions: Functions,
        console: Console,
        host: str = "127.0.0.1",
        port: int = 3000,
        local_metrics: Any = None,
        aws_services: dict[str, AwsService] | None = None,
        local_views: dict[str, LocalView] | None = None,
    ) -> None:
        self.functions, self.console = functions, console
        self.local_metrics = local_metrics  # a local_stack.metrics.LocalMetrics, or None
        self.aws_services = aws_services or {}  # path prefix (/_aws/events) → handler
        self.local_views = local_views or {}  # path (/_local/events) → JSON view
        self.targets = _targets()
        self.responses = GatewayResponses()
        self._openapi: dict[str, Any] | None = None  # built once; served naming the address it is served on
        self._openapi_bytes: dict[str, bytes] = {}
        self._openapi_lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "clinic-local-gateway"

            def setup(self) -> None:
                super().setup()
                # Headers and body leave in two writes; with Nagle's algorithm on, a keep-alive
                # client's delayed ACK held every response back ~40 ms (measured by make bench).
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self) -> None:
                gateway.handle(self)

            def do_POST(self) -> None:
                gateway.handle(self)

            def do_PATCH(self) -> None:
                gateway.handle(self)

            def do_PUT(self) -> None:
                gateway.handle(self)

            def do_DELETE(self) -> None:
                gateway.handle(self)

            def do_HEAD(self) -> None:
                gateway.handle(self)

            def do_OPTIONS(self) -> None:
                gateway.handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = _Server((host, port), Handler)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def serve_forever(self) -> None:
        self.server.serve_forever(poll_interval=0.2)

    def shutdown(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------ requests
    def openapi(self, host: str | None = None) -> bytes:
        """/openapi.json naming this gateway as its server: as the browser addressed it when that is this
        gateway's port on a loopback name (localhost or 127.0.0.1: same origin for Swagger UI), else its URL."""
        port = self.server.server_address[1]
        url = f"http://{host}" if host in (f"127.0.0.1:{port}", f"localhost:{port}") else self.url
        with self._openapi_lock:
            if url not in self._openapi_bytes:
                from local_stack.openapi import build, served_from

                if self._openapi is None:
                    self._openapi = build()
                self._openapi_bytes[url] = json.dumps(served_from(self._openapi, url), indent=2).encode()
            return self._openapi_bytes[url]

    @staticmethod
    def docs(path: str) -> tuple[int, dict[str, str], bytes]:
        """/docs (Swagger UI's page) or one of its files, from the pinned package (fetched on first use)."""
        try:
            if path in ("/docs", "/docs/"):
                swagger_ui.ensure_installed()
                return 200, {"Content-Type": "text/html; charset=utf-8"}, swagger_ui.PAGE.encode()
            name = path.removeprefix(swagger_ui.ASSET_PATH)
            body = (swagger_ui.ensure_installed() / name).read_bytes()
            return 200, {"Content-Type": swagger_ui.ASSETS[name], "Cache-Control": "public, max-age=3600"}, body
        except swagger_ui.Unavailable as error:
            return (
                503,
                {"Content-Type": "text/html; charset=utf-8", "Retry-After": "5"},
                swagger_ui.UNAVAILABLE.format(reason=error).encode(),
            )

    def match(self, method: str, path: str) -> tuple[Target | None, dict[str, str]]:
        for target in self.targets:
            found = target.pattern.match(path)
            if found and target.route.method == method:
                return target, found.groupdict()
        return None, {}

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        started = time.monotonic()
        request_id = str(uuid.uuid4())
        url = urlsplit(request.path)
        method = request.command
        length = int(request.headers.get("Content-Length") or 0)
        if length > MAX_PAYLOAD_BYTES:
            request.close_connection = True
            status, headers, body = self.responses.render("REQUEST_TOO_LARGE", request_id, default_status=413)
            return self._send(request, request_id, started, status, headers, body, None)
        payload = request.rfile.read(length) if length else b""

        target, parameters = self.match("GET" if method == "HEAD" else method, url.path)
        if target is None:
            if method in ("GET", "HEAD") and url.path == "/openapi.json":
                document = self.openapi(request.headers.get("Host"))
                return self._send(
                    request, request_id, started, 200, {"Content-Type": "application/json"}, document, None
                )
            if method in ("GET", "HEAD") and swagger_ui.serves(url.path):
                return self._send(request, request_id, started, *self.docs(url.path), None)
            if web.serves(url.path):  # the web app at /app/ and the local sign-in page (local_stack/web.py)
                answer = web.answer(method, url.path, request.headers, payload, self.url)
                return self._send(request, request_id, started, *answer, None)
            if url.path.startswith("/_aws/"):
                prefix = "/".join(url.path.split("/", 3)[:3])  # /_aws/<service>
                service = self.aws_services.get(prefix)
                if service is not None:
                    status, headers, body = service(
                        method, url.path[len(prefix) :], url.query, request.headers, payload
                    )
                    return self._send(request, request_id, started, status, headers, body, None, log=False)
            view = self.local_views.get(url.path)
            if view is not None and method in ("GET", "HEAD"):
                return self._send(
                    request,
                    request_id,
                    started,
                    200,
                    {"Content-Type": "application/json", "Cache-Control": "no-store"},
                    view(url.query),
                    None,
                )
            local = ("/_local/metrics", "/_local/metrics.json")
            if method in ("GET", "HEAD") and self.local_metrics is not None and url.path in local:
                html = url.path == "/_local/metrics"
                return self._send(
                    request,
                    request_id,
                    started,
                    200,
                    {
                        "Content-Type": "text/html; charset=utf-8" if html else "application/json",
                        "Cache-Control": "no-store",
                    },
                    self.local_metrics.html() if html else self.local_metrics.json(),
                    None,
                )
            status, headers, body = self.responses.render(
                "MISSING_AUTHENTICATION_TOKEN", request_id, "Missing Authentication Token", 403
            )
            return self._send(request, request_id, started, status, headers, body, None)

        claims = None
        if target.route.authorized:
            try:
                claims = tokens.as_authorizer_claims(tokens.verify(request.headers.get("Authorization")))
            except tokens.InvalidToken:
                status, headers, body = self.responses.render("UNAUTHORIZED", request_id, "Unauthorized", 401)
                return self._send(request, request_id, started, status, headers, body, target)

        event = events.build_event(
            method=method,
            resource=target.route.path,
            path=url.path,
            path_parameters=parameters,
            query_string=url.query,
            headers=dict(request.headers.items()),
            body=payload,
            claims=claims,
            source_ip=request.client_address[0],
            request_id=request_id,
        )
        try:
            result = self.functions.invoke(target.function, event, request_id)
            status = int(result.get("statusCode", 200))
            headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
            for name, values in (result.get("multiValueHeaders") or {}).items():
                headers[name] = ", ".join(str(v) for v in values)
            raw = result.get("body") or ""
            body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
        except (FunctionFailed, KeyError, TypeError, ValueError) as error:
            self.console(
                "ApiGateway",
                json.dumps(
                    {"level": "ERROR", "message": "integration failed", "requestId": request_id, "error": str(error)}
                ),
            )
            status, headers, body = self.responses.render("DEFAULT_5XX", request_id, "Internal server error", 502)
        self._send(request, request_id, started, status, headers, body, target)

    def _send(
        self,
        request: BaseHTTPRequestHandler,
        request_id: str,
        started: float,
        status: int,
        headers: dict[str, str],
        body: bytes,
        target: Target | None,
        log: bool = True,
    ) -> None:
        request.send_response(status)
        sent = {k.lower() for k in headers}
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                request.send_header(name, value)
        if "x-request-id" not in sent:
            request.send_header("X-Request-Id", request_id)
        request.send_header("x-amzn-RequestId", request_id)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(body)
        if not log:
            return  # the local AWS endpoints log their own lines (ids and counts)
        # The access log of the template's AccessLogSetting: ids and status only, never a query string.
        self.console(
            "ApiGateway",
            json.dumps(
                {
                    "requestId": request_id,
                    "httpMethod": request.command,
                    "resourcePath": target.route.path if target else urlsplit(request.path).path.split("?")[0],
                    "status": status,
                    "responseLatency": round((time.monotonic() - started) * 1000, 1),
                    "integration": target.function if target else None,
                }
            ),
        )
