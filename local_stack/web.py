"""The web app (``web/``, built into ``web/dist`` by ``make web``) served at ``/app/``, and the local
sign-in page that only the local stack has.

- ``/app/`` and its files, with the security headers the deployed site's CloudFront response-headers
  policy sends (a Content-Security-Policy allowing scripts, styles and connections to this origin only:
  here the API *is* this origin), and ``/app/config.json``: ``{"auth": "local", ...}`` (in AWS the
  deployment writes its own, naming the API and the Cognito pools).
- ``/_local/sign-in``: pick a role and a record (doctors and patients listed from the API with a local
  staff token, or an id typed in); its script asks ``POST /_local/token`` for a local token
  (local_stack/tokens.py, the role's own issuer) and hands it to the app window that opened it by
  ``postMessage`` to this origin only. The token is never put in a URL, a cookie or browser storage.
  ``/_local/token`` answers only a same-origin JSON POST addressed to a loopback host (a page on
  another site cannot read it, nor reach it through DNS rebinding).
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from local_stack import ROOT, tokens

DIST = ROOT / "web" / "dist"
SIGN_IN_DIR = Path(__file__).with_name("sign_in")
APP = "/app/"
SIGN_IN = "/_local/sign-in"
SIGN_IN_SCRIPT = "/_local/sign-in.js"
SIGN_IN_RECORDS = "/_local/sign-in/records"
TOKEN = "/_local/token"
LOCAL_PATHS = (SIGN_IN, SIGN_IN_SCRIPT, SIGN_IN_RECORDS, TOKEN)

# The pages' Content-Security-Policy, here and in AWS (infra/site.py's SiteHeadersPolicy): no inline script
# or style, nothing from another site. Locally the API is the app's own origin (connect-src 'self'); in AWS
# connect-src names the API's origin and the two pools' sign-in domains.
CSP_DIRECTIVES = (
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src {connect}",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
)


def content_security_policy(connect: str) -> str:
    return "; ".join(d.format(connect=connect) for d in CSP_DIRECTIVES)


CONTENT_SECURITY_POLICY = content_security_policy("'self'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
CONFIG = {"auth": "local", "api_url": "", "sign_in_url": SIGN_IN}

Answer = tuple[int, dict[str, str], bytes]


def serves(path: str) -> bool:
    return path == "/app" or path.startswith(APP) or path in LOCAL_PATHS


def _html(status: int, body: str) -> Answer:
    return (
        status,
        {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", **SECURITY_HEADERS},
        body.encode(),
    )


def _json(status: int, value: Any) -> Answer:
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store", **SECURITY_HEADERS}
    return status, headers, json.dumps(value).encode()


NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Clinic appointments</title></head>
<body><main><h1>The web app is not built</h1><p>Run <code>make web</code> (or <code>make run</code>, which builds it)
and reload.</p></main></body></html>"""


def _app_file(path: str) -> Answer:
    if path == "/app":
        return 308, {"Location": APP, "Content-Length": "0"}, b""
    if path == APP + "config.json":
        return _json(200, CONFIG)
    name = path[len(APP) :] or "index.html"
    if not (DIST / "index.html").is_file():
        return _html(503, NOT_BUILT)
    file = (DIST / name).resolve()
    if not file.is_relative_to(DIST.resolve()) or not file.is_file():
        return _html(404, "<!doctype html><title>Not found</title><p>Not found.</p>")
    content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type.endswith("javascript"):
        content_type += "; charset=utf-8"
    # Hashed asset names never change content; the pages are checked again every time.
    cache = "public, max-age=31536000, immutable" if name.startswith("assets/") else "no-cache"
    return 200, {"Content-Type": content_type, "Cache-Control": cache, **SECURITY_HEADERS}, file.read_bytes()


def _loopback(headers: Mapping[str, str], own_url: str) -> bool:
    """A request addressed to this stack by a loopback name, and (when a browser says) from its own origin."""
    port = urlsplit(own_url).port
    host = headers.get("Host") or ""
    if host not in (f"127.0.0.1:{port}", f"localhost:{port}"):
        return False
    origin = headers.get("Origin")
    return origin is None or origin == f"http://{host}"


def _records(own_url: str) -> Answer:
    """The doctors and patients to sign in as (the first 100 of each), read through the API as staff."""
    auth = {"Authorization": f"Bearer {tokens.mint('staff', sub='local-sign-in')}"}
    found: dict[str, list[dict[str, str]]] = {}
    for kind in ("doctors", "patients"):
        try:
            response = requests.get(f"{own_url}/{kind}", params={"limit": 100}, headers=auth, timeout=30)
            items = response.json().get("items", []) if response.ok else []
        except (requests.RequestException, ValueError):
            items = []
        found[kind] = [
            {"id": r["id"], "name": f"{r['family_name']}, {r['given_name']}"}
            for r in sorted(items, key=lambda r: (r.get("family_name", ""), r.get("given_name", "")))
        ]
    return _json(200, found)


def _token(headers: Mapping[str, str], body: bytes) -> Answer:
    if (headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
        return _json(415, {"detail": "send JSON"})
    try:
        asked = json.loads(body or b"{}")
        role, record = str(asked.get("role", "")), (str(asked.get("id") or "").strip() or None)
        return _json(200, {"token": tokens.mint(role, record)})
    except (ValueError, AttributeError) as error:
        return _json(422, {"detail": str(error) or "choose a role"})


def answer(method: str, path: str, headers: Mapping[str, str], body: bytes, own_url: str) -> Answer:
    """The answer for a path ``serves`` accepted."""
    if path == TOKEN:
        if method != "POST":
            return _json(405, {"detail": "POST only"})
        if not _loopback(headers, own_url):
            return _json(403, {"detail": "local sign-in answers its own origin only"})
        return _token(headers, body)
    if method not in ("GET", "HEAD"):
        return _json(405, {"detail": "GET only"})
    if path == SIGN_IN:
        return _html(200, (SIGN_IN_DIR / "page.html").read_text(encoding="utf-8"))
    if path == SIGN_IN_SCRIPT:
        script = (SIGN_IN_DIR / "sign-in.js").read_bytes()
        return (
            200,
            {"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-store", **SECURITY_HEADERS},
            script,
        )
    if path == SIGN_IN_RECORDS:
        if not _loopback(headers, own_url):
            return _json(403, {"detail": "local sign-in answers its own origin only"})
        return _records(own_url)
    return _app_file(path)
