"""Shared test set-up: the layer on sys.path (as Lambda puts it), markers by folder, and the FHIR validator."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The template's Globals, for every test: Powertools reads them when the layer's logger and metrics
# are created, which is whenever a test module first imports the layer.
for _name, _value in (
    ("POWERTOOLS_SERVICE_NAME", "clinic-appointments"),
    ("POWERTOOLS_METRICS_NAMESPACE", "ClinicAppointments"),
):
    os.environ.setdefault(_name, _value)
LAYER = ROOT / "layers" / "shared"
for path in (str(LAYER), str(ROOT)):
    if path not in sys.path:
        sys.path.insert(0, path)


def pytest_collection_modifyitems(config, items):
    for item in items:
        folder = Path(str(item.fspath)).parent.name
        if folder in ("unit", "handlers", "integration", "template"):
            item.add_marker(getattr(pytest.mark, folder))
    clock_sweep.select(config, items)


# The clock sweep (--clock-sweep, --clock-at): tests/clock_sweep.py, its hooks taken in here.
from tests import clock_sweep  # noqa: E402 - after the layer is on sys.path, beside the hooks it adds

pytest_addoption = clock_sweep.pytest_addoption
pytest_configure = clock_sweep.pytest_configure
pytest_unconfigure = clock_sweep.pytest_unconfigure
pytest_generate_tests = clock_sweep.pytest_generate_tests
pytest_runtest_setup = clock_sweep.pytest_runtest_setup
pytest_runtest_teardown = clock_sweep.pytest_runtest_teardown


@pytest.fixture(scope="session")
def fhir_validator():
    """A real FHIR R4 validator (tests/fhir_validator.py): .validate(resource) -> issues, .assert_valid(resource)."""
    from tests.fhir_validator import fhir_validator as shared

    validator = shared()
    validator.start()
    return validator  # the process-wide one: tests.fhir_validator stops it at interpreter exit
