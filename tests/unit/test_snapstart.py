"""SnapStart's hooks, run the way Lambda runs them: through the runtime's own registry
(snapshot_restore_py, pinned in the dev environment). Whatever a function cached before the snapshot
— clients holding the credentials of the environment that made them, the settings and calendars it
remembered, the random state — is gone in every restored environment; and the models a cold start
without SnapStart builds on first use are built before the snapshot."""

from __future__ import annotations

import random

import boto3
import pytest
import snapshot_restore_py
from moto import mock_aws

from clinic import snapstart

pytestmark = pytest.mark.unit


def restore_from_snapshot() -> None:
    """What the runtime does when it resumes an environment: every registered hook, in order."""
    for hook, args, kwargs in snapshot_restore_py.get_after_restore():
        hook(*args, **kwargs)


@pytest.fixture
def aws(monkeypatch):
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "DOCTORS_TABLE": "doctors",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield


def test_installing_registers_the_hooks_once_with_the_runtime():
    assert snapstart.install() and snapstart.install()
    hooks = [hook for hook, _, _ in snapshot_restore_py.get_after_restore()]
    assert hooks.count(snapstart.forget_environment_state) == 1
    hooks = [hook for hook, _, _ in snapshot_restore_py.get_before_snapshot()]
    assert hooks.count(snapstart.build_models) == 1


def take_snapshot() -> None:
    """What the runtime does before it snapshots an initialised environment: every registered hook."""
    for hook, args, kwargs in snapshot_restore_py.get_before_snapshot():
        hook(*args, **kwargs)


def test_the_snapshot_holds_the_models_built_which_a_cold_start_without_snapstart_defers():
    from clinic.models.common import Page, RequestModel, ResponseModel

    class Answer(ResponseModel):
        value: int

    class Body(RequestModel):
        value: int

    answers = Page[Answer]
    assert not any(model.__pydantic_complete__ for model in (Answer, Body, answers))  # deferred to first use
    snapstart.install()

    take_snapshot()

    assert all(model.__pydantic_complete__ for model in (Answer, Body, answers))
    assert answers(items=[{"value": 1}], next_token=None).model_dump() == {"items": [{"value": 1}], "next_token": None}


def test_given_a_function_initialised_before_the_snapshot_then_a_restored_one_forgets_its_state(aws):
    from clinic.data import dynamo, event_bus, schedules
    from clinic.services import clinic_settings, doctors

    # Given clients, remembered settings and calendars, and a random state made before the snapshot
    snapstart.install()
    boto3.setup_default_session()
    clients = (dynamo.resource(), schedules._client(), event_bus._client())
    clinic_settings.restore_container_state((0.0, {"hold_minutes": 5}))
    doctors.restore_container_state({"d": {"id": "d", "version": 1}})
    random.seed(42)
    state_in_snapshot = random.getstate()
    session = boto3.DEFAULT_SESSION

    # When an environment is restored from it
    restore_from_snapshot()

    # Then nothing of it is reused: new clients (with this environment's credentials), fresh reads
    assert boto3.DEFAULT_SESSION is None or boto3.DEFAULT_SESSION is not session
    assert dynamo.resource() is not clients[0]
    assert schedules._client() is not clients[1] and event_bus._client() is not clients[2]
    assert clinic_settings.container_state() is None
    assert doctors.container_state() == {}
    # and no two restored environments draw the same "random" jitter
    assert random.getstate() != state_in_snapshot


def test_given_no_snapstart_runtime_then_installing_is_a_no_op(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def without_runtime(name, *args, **kwargs):
        if name == "snapshot_restore_py":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_runtime)
    assert snapstart.install() is False
