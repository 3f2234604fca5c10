"""The local stack as a new user meets it: real HTTP, tokens checked at the gateway, problem+json
from the template's gateway responses, the generated OpenAPI document, `make invoke`, and its store:
DynamoDB Local on 127.0.0.1 only, never a store the stack did not start, two clones side by side."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import jwt
import pytest
import requests

from local_stack import background, dynamodb, tokens
from local_stack import template as tpl

ROOT = Path(__file__).resolve().parents[2]
ADA = {"given_name": "Ada", "family_name": "Lovelace", "birth_date": "1990-12-10", "sex": "female"}


def lines_for(stack, request_id: str) -> list[dict]:
    found = []
    for line in stack.log_lines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if request_id in (record.get("correlation_id"), record.get("requestId")):
            found.append(record)
    return found


def test_health_needs_no_token_and_reports_the_store(stack):
    response = requests.get(stack.url + "/health", timeout=30)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.headers["X-Request-Id"]


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer not-a-jwt",
        "Basic dXNlcjpwYXNz",
        "Bearer " + tokens.mint("staff", key="some-other-secret"),
        "Bearer " + tokens.mint("staff", ttl_seconds=-60),
        "Bearer " + jwt.encode({"cognito:groups": ["staff"], "exp": int(time.time()) + 60}, tokens.secret()),  # no sub
    ],
    ids=["missing", "malformed", "not-bearer", "wrong-signature", "expired", "no-sub"],
)
def test_a_bad_token_is_401_and_the_function_never_runs(stack, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = requests.get(stack.url + "/patients", headers=headers, timeout=30)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "UNAUTHENTICATED"
    time.sleep(0.2)  # let the log pump write
    records = lines_for(stack, response.headers["X-Request-Id"])
    assert records and all("function_name" not in r for r in records)  # only the gateway's access log


def test_unknown_route_is_a_404_problem(stack):
    response = requests.delete(stack.url + "/patients", headers=stack.headers(), timeout=30)
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


def test_the_readme_patient_examples_work(stack):
    headers = stack.headers()
    created = requests.post(stack.url + "/patients", json=ADA, headers=headers, timeout=30)
    assert created.status_code == 201
    patient = created.json()
    assert created.headers["Location"] == f"/patients/{patient['id']}"
    assert isinstance(patient["age"], int)
    found = requests.post(
        stack.url + "/patients/search", json={"family_name_prefix": "love"}, headers=headers, timeout=30
    ).json()
    assert patient["id"] in [p["id"] for p in found["items"]]
    read = requests.get(f"{stack.url}/patients/{patient['id']}", headers=headers, timeout=30)
    assert read.json() == patient


def test_bad_input_is_a_problem_and_changes_nothing(stack):
    headers = {**stack.headers(), "Content-Type": "application/json"}
    before = requests.get(stack.url + "/patients?limit=100", headers=headers, timeout=30).json()["items"]
    malformed = requests.post(stack.url + "/patients", data="{not json", headers=headers, timeout=30)
    assert (malformed.status_code, malformed.json()["code"]) == (400, "MALFORMED_JSON")
    unknown = requests.post(stack.url + "/patients", json={**ADA, "ssn": "x"}, headers=headers, timeout=30)
    assert (unknown.status_code, unknown.json()["code"]) == (422, "VALIDATION_ERROR")
    assert "ssn" in [e["field"] for e in unknown.json()["errors"]]
    huge = requests.post(stack.url + "/patients", json={**ADA, "given_name": "A" * 70_000}, headers=headers, timeout=30)
    assert huge.status_code == 413
    after = requests.get(stack.url + "/patients?limit=100", headers=headers, timeout=30).json()["items"]
    assert after == before


def test_openapi_and_docs_are_served(stack):
    document = requests.get(stack.url + "/openapi.json", timeout=60).json()
    assert document["openapi"].startswith("3.1")
    assert "/appointments/{appointment_id}/cancel" in document["paths"]
    assert document["paths"]["/health"]["get"]["security"] == []
    docs = requests.get(stack.url + "/docs", timeout=300)  # the first request fetches swagger-ui-dist once
    assert docs.status_code == 200 and "/openapi.json" in docs.text


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        url = found.get("src") if tag == "script" else found.get("href") if tag == "link" else None
        if url:
            self.urls.append((tag, url))


def test_docs_works_offline_every_script_and_stylesheet_is_served_by_the_stack(stack):
    """Given /docs, Then every file its page loads is a local path the stack answers with the right type
    (Swagger UI from the pinned swagger-ui-dist, not from a CDN), and nothing else under /docs/assets is."""
    docs = requests.get(stack.url + "/docs", timeout=300)  # the first request fetches swagger-ui-dist once
    assert docs.status_code == 200 and docs.headers["Content-Type"].startswith("text/html")
    page = _References()
    page.feed(docs.text)
    assert {tag for tag, _ in page.urls} == {"script", "link"}, page.urls
    assert not [url for _, url in page.urls if "//" in url or not url.startswith("/docs/assets/")], page.urls
    assert "http" not in docs.text.replace("/openapi.json", "")
    types = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    for _, url in page.urls:
        asset = requests.get(stack.url + url, timeout=30)
        assert asset.status_code == 200, url
        assert asset.headers["Content-Type"].split(";")[0] == types[Path(url).suffix], (url, asset.headers)
        assert len(asset.content) > 100, url
    bundle = requests.get(stack.url + "/docs/assets/swagger-ui-bundle.js", timeout=30).text
    assert "SwaggerUIBundle" in bundle
    for other in ("/docs/assets/package.json", "/docs/assets/swagger-ui-bundle.js.map", "/docs/assets/index.html"):
        assert requests.get(stack.url + other, timeout=30).status_code == 404, other


def test_make_invoke_runs_one_function_on_an_event_file(stack):
    result = subprocess.run(
        [sys.executable, "-m", "local_stack", "invoke", "HealthFunction", "events/health.json"],
        cwd=ROOT,
        env={**os.environ, "DYNAMODB_ENDPOINT": stack.dynamodb_endpoint},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["status"] == "ok"


def test_openapi_names_the_address_it_is_served_on(stack):
    """Swagger UI's "Try it out" calls the document's first server: it must be this stack (here on a free
    port, as with PORT=3100), as the browser addressed it when that is a loopback name, never port 3000."""
    port = urlsplit(stack.url).port
    assert port != 3000
    served = lambda **headers: requests.get(stack.url + "/openapi.json", headers=headers, timeout=60).json()
    assert served()["servers"][0]["url"] == stack.url
    assert served(Host=f"localhost:{port}")["servers"][0]["url"] == f"http://localhost:{port}"
    assert served(Host="attacker.example")["servers"][0]["url"] == stack.url  # not any name a request brings
    assert "amazonaws.com" in served()["servers"][1]["url"]  # the deployed stack stays listed


# ------------------------------------------------------------------ the store
def listening_addresses(port: int) -> set[str]:
    """The local addresses of the sockets listening on ``port``, read from /proc/net/tcp (what `ss -ltn` shows)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        address, hex_port = fields[1].split(":")
        if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    for line in Path("/proc/net/tcp6").read_text().splitlines()[1:]:
        fields = line.split()
        address, hex_port = fields[1].split(":")
        if fields[3] == "0A" and int(hex_port, 16) == port:
            words = [bytes.fromhex(address[i : i + 8])[::-1] for i in range(0, 32, 8)]
            found.add(socket.inet_ntop(socket.AF_INET6, b"".join(words)))
    return found


def non_loopback_address() -> str | None:
    """This machine's address on its default route (a UDP "connect" sends nothing), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def refused_on(address: str, port: int) -> bool:
    try:
        socket.create_connection((address, port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc/net/tcp")
def test_dynamodb_local_listens_on_loopback_only(stack):
    port = urlsplit(stack.dynamodb_endpoint).port
    assert listening_addresses(port) == {"127.0.0.1"}
    address = non_loopback_address()
    if address is None:
        return  # no other interface: the listening address above is the proof
    with socket.create_server(("0.0.0.0", 0)) as control:  # noqa: S104 - the control: reachable on every interface
        assert not refused_on(address, control.getsockname()[1]), "the control is unreachable: the test proves nothing"
    assert refused_on(address, port), f"DynamoDB Local answers on {address}:{port}"


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc/net/tcp")
def test_without_a_jdk_compiler_the_plain_jar_runs_with_a_warning(monkeypatch, capsys):
    """The fallback, and the control for the test above: the plain jar listens on every interface."""
    monkeypatch.setattr(dynamodb, "_javac", lambda: None)
    store = dynamodb.start_dynamodb_local(None, in_memory=True)
    try:
        assert "listens on EVERY network interface" in capsys.readouterr().err
        assert "ALL INTERFACES" in store.mode
        assert store.client().list_tables()["TableNames"] == []
        assert listening_addresses(urlsplit(store.endpoint).port) == {"0.0.0.0"}  # noqa: S104
    finally:
        store.stop()


@pytest.mark.skipif(dynamodb._javac() is None, reason="needs a JDK compiler")
def test_the_launcher_is_compiled_once_and_again_when_its_source_changes(tmp_path, monkeypatch):
    folder = dynamodb.dynamodb_local_dir()
    source = tmp_path / dynamodb.LAUNCHER_SOURCE.name
    source.write_bytes(dynamodb.LAUNCHER_SOURCE.read_bytes())
    monkeypatch.setattr(dynamodb, "LAUNCHER_SOURCE", source)
    monkeypatch.setattr(dynamodb, "LAUNCHER_CACHE", tmp_path / "cache")
    first = dynamodb.launcher_classes(folder)
    compiled = (first / f"{dynamodb.LAUNCHER}.class").stat().st_mtime_ns
    assert dynamodb.launcher_classes(folder) == first
    assert (first / f"{dynamodb.LAUNCHER}.class").stat().st_mtime_ns == compiled  # cached, not compiled again
    source.write_text(source.read_text() + "// changed\n")
    second = dynamodb.launcher_classes(folder)
    assert second != first and (second / f"{dynamodb.LAUNCHER}.class").is_file()
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [second.name]  # the stale copy is gone


def serve(root: Path, state_file: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`python -m local_stack serve` in ``root``, expected to refuse (it would serve forever otherwise)."""
    clean = {k: v for k, v in os.environ.items() if k not in ("DYNAMODB_ENDPOINT", "LOCAL_DYNAMODB_PORT")}
    return subprocess.run(
        [sys.executable, "-m", "local_stack", "serve", "--port", "0", "--state-file", str(state_file), *args],
        cwd=root,
        env={**clean, "SEED": "0", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_taken_dynamodb_port_is_refused_never_shared(stack, tmp_path):
    """The issue's second `make run`: LOCAL_DYNAMODB_PORT names a port another stack's store holds. It
    refuses, with the reason, instead of serving from the other stack's database."""
    port = urlsplit(stack.dynamodb_endpoint).port
    refused = serve(ROOT, tmp_path / "stack.json", "--in-memory", LOCAL_DYNAMODB_PORT=str(port))
    assert refused.returncode == 1
    assert f"DynamoDB port {port} is taken" in refused.stderr and "LOCAL_DYNAMODB_PORT" in refused.stderr
    assert not (tmp_path / "stack.json").exists()
    # past the check (a port taken between the check and the start): the launcher cannot bind it, and says so
    with pytest.raises(dynamodb.PortTaken):
        dynamodb.start_dynamodb_local(port, in_memory=True)
    assert requests.get(stack.url + "/health", timeout=30).status_code == 200


def clone(folder: Path) -> Path:
    """What `make run` needs, as another clone has it (its own .local), sharing only the downloaded npm packages.
    Its template keeps the patient routes only: two stacks of all 49 functions take minutes to warm here."""
    for part in ("local_stack", "functions", "layers"):
        shutil.copytree(ROOT / part, folder / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    template = tpl.load()
    keep = {"HealthFunction", "RegisterPatientFunction", "ListPatientsFunction", "GetPatientFunction"}
    template["Resources"] = {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] != "AWS::Serverless::Function" or name in keep
    }
    (folder / "template.yaml").write_text(json.dumps(template, indent=1), encoding="utf-8")  # JSON is YAML
    (folder / ".local").mkdir()
    (folder / ".local" / "npm").symlink_to(dynamodb.NPM_PREFIX)
    return folder


COLD = {"LOCAL_WARM": "0"}  # workers start on first use: warming ~70 functions each would be most of the test's CPU


def test_two_clones_run_side_by_side_each_on_its_own_store(tmp_path):
    """Given two clones' `make run`s (persistent stores, no LOCAL_DYNAMODB_PORT), Then each starts its own
    DynamoDB Local on a free port, a patient registered in one is not in the other, and a second stack on a
    clone's data folder is refused."""
    dynamodb.dynamodb_local_dir()  # fetched once, before two stacks want it
    roots = [clone(tmp_path / name) for name in ("a", "b")]
    with ThreadPoolExecutor(2) as pool:
        starting = [
            pool.submit(background.start, tmp_path / f"{r.name}.log", root=r, in_memory=False, env=COLD) for r in roots
        ]
    running = [s.result() for s in starting if s.exception() is None]
    try:
        assert len(running) == 2, [str(s.exception()) for s in starting if s.exception()]
        a, b = running
        assert a.dynamodb_endpoint != b.dynamodb_endpoint
        headers = {"Authorization": f"Bearer {tokens.mint('staff')}"}
        created = requests.post(a.url + "/patients", json=ADA, headers=headers, timeout=60)
        assert created.status_code == 201, created.text
        patient = created.json()["id"]
        assert requests.get(f"{a.url}/patients/{patient}", headers=headers, timeout=60).status_code == 200
        assert requests.get(f"{b.url}/patients/{patient}", headers=headers, timeout=60).status_code == 404
        listed = requests.get(b.url + "/patients?limit=100", headers=headers, timeout=60).json()["items"]
        assert patient not in {p["id"] for p in listed}
        assert (roots[0] / ".local" / "dynamodb-data").is_dir() and (roots[1] / ".local" / "dynamodb-data").is_dir()

        refused = serve(roots[0], tmp_path / "third.json")
        assert refused.returncode == 1
        assert f"is in use by another local stack (pid {a.process.pid})" in refused.stderr, refused.stderr
        assert requests.get(f"{a.url}/patients/{patient}", headers=headers, timeout=60).status_code == 200
    finally:
        for stack in running:
            stack.stop()
