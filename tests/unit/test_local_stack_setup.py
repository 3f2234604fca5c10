"""The local stack's set-up on its own (no store, no network): `make run IN_MEMORY=1`."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from local_stack import ROOT


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize(("variables", "in_memory"), [((), False), (("IN_MEMORY=1",), True), (("IN_MEMORY=0",), False)])
def test_make_run_passes_in_memory(variables, in_memory):
    dry_run = subprocess.run(["make", "-n", "run", *variables], cwd=ROOT, capture_output=True, text=True, check=True)
    command = dry_run.stdout.strip().splitlines()[-1]
    assert command.split()[-2:] == (["serve", "--in-memory"] if in_memory else ["local_stack", "serve"])
