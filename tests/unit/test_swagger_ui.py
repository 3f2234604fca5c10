"""/docs without a CDN (local_stack/swagger_ui.py): the page loads only its own files, the gateway serves
exactly those, and without the package (no npm, no registry) /docs says so instead of a blank page."""

from __future__ import annotations

import re

import pytest

from local_stack import swagger_ui
from local_stack.gateway import Gateway


def test_the_page_loads_only_its_own_files_and_the_gateway_serves_only_those():
    urls = re.findall(r'(?:src|href)="([^"]+)"', swagger_ui.PAGE)
    assert sorted(urls) == sorted(["/openapi.json", *(swagger_ui.ASSET_PATH + name for name in swagger_ui.ASSETS)])
    assert "http" not in swagger_ui.PAGE
    assert all(swagger_ui.serves(url) for url in urls if url != "/openapi.json")
    for other in (
        "/swagger-ui.css",
        "/docs/assets/",
        "/docs/assets/package.json",
        "/docs/assets/../../Makefile",
        "/docs/assets/swagger-ui.css/x",
        "/docsx",
    ):
        assert not swagger_ui.serves(other), other


def test_without_the_package_docs_answers_503_pointing_at_the_document(monkeypatch):
    def unavailable():
        raise swagger_ui.Unavailable("npm is needed once to fetch it")

    monkeypatch.setattr(swagger_ui, "ensure_installed", unavailable)
    for path in ("/docs", "/docs/assets/swagger-ui-bundle.js"):
        status, headers, body = Gateway.docs(path)
        assert status == 503 and headers["Content-Type"].startswith("text/html"), path
        assert b'href="/openapi.json"' in body and b"npm is needed once" in body
        assert f"{swagger_ui.PACKAGE}@{swagger_ui.VERSION}".encode() in body


@pytest.mark.parametrize("name", sorted(swagger_ui.ASSETS))
def test_each_file_is_served_with_its_content_type(monkeypatch, tmp_path, name):
    (tmp_path / name).write_bytes(b"x" * 10)
    monkeypatch.setattr(swagger_ui, "ensure_installed", lambda: tmp_path)
    status, headers, body = Gateway.docs(swagger_ui.ASSET_PATH + name)
    assert (status, body) == (200, b"x" * 10)
    assert headers["Content-Type"] == swagger_ui.ASSETS[name]
