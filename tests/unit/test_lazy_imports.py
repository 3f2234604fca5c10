"""Cold start, pinned: what a function must NOT import at init.

Each check imports one function (functions/<name>/app.py) in a fresh interpreter, with the layer on
sys.path and the function's own template environment (local_stack.functions.worker_environment, as
the local stack's workers run it), and reads sys.modules. The heavy modules below are loaded only by
the requests that use them; importing them at init puts their cost on every cold start:

- Powertools' idempotency utility: only a request carrying an Idempotency-Key (clinic.api._once);
- the X-Ray SDK: only when tracing is on (clinic.observability);
- Powertools' event handler (its resolvers and OpenAPI machinery): never (clinic.api is our own edge);
- cryptography: only when a pagination token is made or read (clinic.pagination);
- email_validator: only when a request carries an e-mail address (clinic.models.patients.Email).

And the request and response models are not built at import (pydantic's defer_build, set on their base
classes in clinic.models.common): a model's validator and serializer are made when a request first uses it,
so a function pays for the two or three models it serves, not for every class of the modules it imports.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from local_stack import template as tpl
from local_stack.functions import worker_environment

HEAVY = {
    "aws_lambda_powertools.utilities.idempotency": "Powertools idempotency (keyed requests only)",
    "aws_xray_sdk": "the X-Ray SDK (tracing on only)",
    "aws_lambda_powertools.event_handler": "Powertools' event handler and its OpenAPI machinery",
    "cryptography": "cryptography (pagination tokens, on first use)",
    "email_validator": "email_validator (an e-mail address to check, on first use)",
}
# Import the function as the local stack's worker does (sys.path: its code, then the layer), then
# optionally run a snippet, and print the loaded module names.
PROBE = r"""
import json, sys
code_dir, module, snippet, *layers = sys.argv[1:]
sys.path[:] = [code_dir, *layers, *sys.path[1:]]
__import__(module)
exec(snippet)
print(json.dumps(sorted(sys.modules)))
"""


def loaded(logical_id: str, snippet: str = "", **env: str) -> set[str]:
    function = tpl.function(logical_id)
    environment = worker_environment(function, "http://127.0.0.1:9")  # nothing is called: no store needed
    environment.update(env)
    answer = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            str(function.code_dir),
            function.module,
            snippet,
            *(str(p) for p in tpl.layer_dirs()),
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert answer.returncode == 0, answer.stderr
    return set(json.loads(answer.stdout.strip().splitlines()[-1]))


def heavy_in(modules: set[str]) -> dict[str, str]:
    return {
        prefix: what
        for prefix, what in HEAVY.items()
        if any(m == prefix or m.startswith(prefix + ".") for m in modules)
    }


def test_a_plain_read_imports_none_of_the_heavy_modules():
    modules = loaded("GetPatientFunction")
    assert "clinic.api" in modules and "boto3" in modules  # the probe did import the function
    assert heavy_in(modules) == {}


@pytest.mark.parametrize(
    "logical_id",
    [
        "BookAppointmentFunction",  # keyed: idempotency waits for the first request with a key
        "ListPatientsFunction",  # paginates: cryptography waits for the first token
        "DoctorAvailabilityFunction",
    ],
)
def test_other_kinds_of_function_import_none_of_them_at_init_either(logical_id):
    assert heavy_in(loaded(logical_id)) == {}


def test_the_probe_sees_the_x_ray_sdk_when_tracing_is_on():
    """The check above would pass vacuously if the probe could not see a lazily imported module."""
    modules = loaded("GetPatientFunction", POWERTOOLS_TRACE_DISABLED="false")
    assert set(heavy_in(modules)) == {"aws_xray_sdk"}


def test_pagination_loads_cryptography_on_its_first_token_only():
    snippet = (
        "import sys; from clinic import pagination; before = 'cryptography' in sys.modules; "
        "token = pagination.encode({'id': 'x'}, 'scope'); "
        "assert not before and 'cryptography' in sys.modules; "
        "assert pagination.decode(token, 'scope') == {'id': 'x'}"
    )
    assert "cryptography" in loaded("ListPatientsFunction", snippet)


# The layer's request and response models that are built (validator and serializer made), printed by the
# probe after the import; a generic class's own definition (Page[T]) is left out.
BUILT_MODELS = (
    "import pydantic; print(json.dumps(sorted(f'{m.__name__}.{c.__name__}' for m in list(sys.modules.values()) "
    "if (getattr(m, '__name__', None) or '').startswith(('clinic.models', 'clinic.fhir.models')) "
    "for c in vars(m).values() if isinstance(c, type) and issubclass(c, pydantic.BaseModel) "
    "and c.__module__ == m.__name__ and c.__pydantic_complete__ "
    "and not c.__pydantic_generic_metadata__['parameters'])))"
)


def built_models(logical_id: str, snippet: str = "") -> list[str]:
    function = tpl.function(logical_id)
    environment = worker_environment(function, "http://127.0.0.1:9")
    answer = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            str(function.code_dir),
            function.module,
            snippet + "\n" + BUILT_MODELS,
            *(str(p) for p in tpl.layer_dirs()),
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert answer.returncode == 0, answer.stderr
    return json.loads(answer.stdout.strip().splitlines()[0])


@pytest.mark.parametrize("logical_id", ["BookAppointmentFunction", "ListDoctorsFunction", "FhirSearchSlotFunction"])
def test_no_model_is_built_at_init(logical_id):
    assert built_models(logical_id) == []


def test_a_model_is_built_on_first_use():
    """The check above would pass vacuously if the probe could not see a built model."""
    snippet = "from clinic.models.health import HealthOut; HealthOut(status='ok', version='', checks={}, latency_ms=0)"
    assert "clinic.models.health.HealthOut" in built_models("HealthFunction", snippet)


# After a function's import: is the garbage collector on, and was the init frozen (clinic/__init__.py
# pauses the collector for the imports of a function's process, clinic.observability freezes what the init
# made and resumes it when the handler is made)?
GC_STATE = "import gc; print(json.dumps([gc.isenabled(), gc.get_freeze_count() > 0]))"


def gc_state(logical_id: str, **env: str) -> list[bool]:
    function = tpl.function(logical_id)
    environment = {**worker_environment(function, "http://127.0.0.1:9"), **env}
    answer = subprocess.run(
        [sys.executable, "-c", PROBE, str(function.code_dir), function.module, GC_STATE]
        + [str(p) for p in tpl.layer_dirs()],
        env={k: v for k, v in environment.items() if v},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert answer.returncode == 0, answer.stderr
    return json.loads(answer.stdout.strip().splitlines()[0])


@pytest.mark.parametrize("logical_id", ["GetPatientFunction", "BookAppointmentFunction", "PublishEventsFunction"])
def test_a_function_ends_its_init_with_the_collector_on_and_the_init_frozen(logical_id):
    assert gc_state(logical_id) == [True, True]


def test_outside_a_function_importing_the_layer_leaves_the_collector_alone():
    """Tests and tools (the template generator, the OpenAPI build) import the layer too."""
    assert gc_state("GetPatientFunction", AWS_LAMBDA_FUNCTION_NAME="") == [True, False]
