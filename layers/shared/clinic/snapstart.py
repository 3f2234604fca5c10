"""Lambda SnapStart: every function's initialised memory is snapshotted once per published version and
restored into each new execution environment, so a cold start skips the imports.

A snapshot is shared by every environment restored from it, so nothing that must be unique or fresh
per environment may survive the restore. After a restore this module forgets:
- boto3's default session and every client the layer cached (they hold the credentials read when
  they were made, which the restored environment replaces, and pooled connections that are dead);
- Powertools' parameter providers and cache (a client, and the pagination secret as fetched);
- what the container remembered (the clinic settings, the doctors' calendars, the locations and
  resources): cheap to read again, and only good while the writes' checks prove them current;
- the ``random`` module's state, which would otherwise be identical in every restored environment
  (retry jitter in step across a whole fleet is what jitter exists to prevent).
Ids come from ``uuid4`` (``os.urandom``), which a snapshot does not repeat (as do the X-Ray SDK's trace
and subsegment ids; its UDP socket is unconnected, so the tracer made at init carries over as it is).

Before the snapshot, the request and response models are built (``build_models``). They are built on first
use otherwise (pydantic's ``defer_build``, clinic.models.common), which keeps a cold start without SnapStart
from building the dozens a function imports and never uses; but under SnapStart the init is paid once per
deploy and the first request after every restore, so the snapshot should hold them ready.

The hooks come from the runtime's ``snapshot_restore_py`` (in Lambda's Python runtimes; pinned in
the dev environment so tests run them). Without it, as in the local stack, nothing is registered.
"""

from __future__ import annotations

import random
import sys


def forget_environment_state() -> None:
    """What no restored environment may inherit from the snapshot (see the module's docstring)."""
    boto3 = sys.modules.get("boto3")
    if boto3 is not None:
        boto3.DEFAULT_SESSION = None
    for module_name, cached in (
        ("clinic.data.dynamo", "resource"),
        ("clinic.data.schedules", "_client"),
        ("clinic.data.event_bus", "_client"),
        ("clinic.idempotency", "_store"),
        ("clinic.pagination", "_secrets"),
    ):
        module = sys.modules.get(module_name)
        if module is not None:
            getattr(module, cached).cache_clear()
    parameters = sys.modules.get("aws_lambda_powertools.utilities.parameters")
    if parameters is not None:
        parameters.clear_caches()
        sys.modules["aws_lambda_powertools.utilities.parameters.base"].DEFAULT_PROVIDERS.clear()
    for module_name in ("clinic.services.clinic_settings", "clinic.services.doctors", "clinic.services.allocation"):
        module = sys.modules.get(module_name)
        if module is not None:
            module.forget()
    random.seed()


def build_models() -> None:
    """Build every request and response model the function has imported that is still deferred (generic
    definitions such as ``Page[T]`` aside: their parametrisations, ``Page[PatientOut]``, are built)."""
    from clinic.models.common import RequestModel, ResponseModel

    pending = [RequestModel, ResponseModel]
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if not model.__pydantic_complete__ and not model.__pydantic_generic_metadata__["parameters"]:
            model.model_rebuild()


def install() -> bool:
    """Register the hooks with the runtime, once; False where there is no runtime."""
    try:
        from snapshot_restore_py import (
            get_after_restore,
            get_before_snapshot,
            register_after_restore,
            register_before_snapshot,
        )
    except ImportError:
        return False
    if not any(entry[0] is build_models for entry in get_before_snapshot()):
        register_before_snapshot(build_models)
    if not any(entry[0] is forget_environment_state for entry in get_after_restore()):
        register_after_restore(forget_environment_state)
    return True
