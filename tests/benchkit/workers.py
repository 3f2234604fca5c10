"""The local stack's worker processes (local_stack/worker.py, one per warm execution environment),
found under the stack's process in /proc, and their peak resident memory (VmHWM). Linux only."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

from local_stack import template as tpl


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])  # the command may hold spaces and parentheses
        children[parent].append(int(entry))
    return children


def _descendants(pid: int) -> list[int]:
    children, found, todo = _children(), [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def workers(stack_pid: int) -> dict[str, list[int]]:
    """Function logical id → the pids of its worker processes under the stack."""
    by_dir = {str(f.code_dir): f.logical_id for f in tpl.functions()}
    found: dict[str, list[int]] = defaultdict(list)
    for pid in _descendants(stack_pid):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if len(argv) > 2 and argv[1].endswith(b"worker.py"):
            logical_id = by_dir.get(argv[2].decode())
            if logical_id:
                found[logical_id].append(pid)
    return found


def peak_rss_by_function(stack_pid: int) -> dict[str, tuple[float, int]]:
    """Function → (the highest VmHWM of its workers in MB, how many workers it has)."""
    result = {}
    for logical_id, pids in workers(stack_pid).items():
        peaks = [p for p in (peak_rss_mb(pid) for pid in pids) if p is not None]
        if peaks:
            result[logical_id] = (max(peaks), len(peaks))
    return result
