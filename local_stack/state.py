"""Where a running stack is: ``make run`` writes its gateway URL and DynamoDB endpoint to
``.local/stack.json`` (the tests' stacks to a file of their own), so ``make invoke`` reaches the store
that stack started, on whatever free port it got, and nothing else."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from local_stack import ROOT

STATE_FILE = ROOT / ".local" / "stack.json"


def read(path: Path = STATE_FILE) -> dict[str, Any] | None:
    """The running stack's state, or None if none was written or its process is gone."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        os.kill(int(state["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state


def write(path: Path, url: str, dynamodb: str) -> bool:
    """Record this process's stack, unless another live stack already has (it stays the one named)."""
    current = read(path)
    if current and current["pid"] != os.getpid():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}")
    scratch.write_text(json.dumps({"pid": os.getpid(), "url": url, "dynamodb": dynamodb}) + "\n", encoding="utf-8")
    scratch.replace(path)  # readers never see half a file
    return True


def clear(path: Path) -> None:
    """Remove the record if it is this process's."""
    current = read(path)
    if current and current["pid"] == os.getpid():
        path.unlink(missing_ok=True)
