"""The layer and the functions as `sam build` ships them — built here, for this machine — and the checks
that shipped bytecode is the runtime's and current. Used by `make bench` (cold starts as shipped) and by
tests/template/test_build.py (the real `sam build` output).

`sam build` builds the layer and every function with infra/build/Makefile (their ``BuildMethod:
makefile`` in template.yaml): sources, dependencies and a checked-hash ``.pyc`` for every ``.py``,
compiled by the runtime's Python. ``build`` runs the same targets with the same Python version, for this
machine's platform (``PIP_PLATFORMS=`` : pip's wheels for this machine instead of Lambda's arm64 ones),
so that the artefacts can run here: the same files compiled by the same command, only the native
extensions (pydantic-core, cryptography, cffi, wrapt) differ.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from local_stack import ROOT
from local_stack import template as tpl

MAKEFILE = ROOT / "infra" / "build" / "Makefile"


def runtime() -> str:
    """The functions' runtime, from template.yaml's Globals (e.g. "python3.12")."""
    return tpl.load()["Globals"]["Function"]["Runtime"]


def runtime_python() -> str | None:
    """An interpreter of the runtime's version: $RUNTIME_PYTHON, else pyenv's, else one on PATH."""
    wanted = runtime()
    if os.environ.get("RUNTIME_PYTHON"):
        return os.environ["RUNTIME_PYTHON"]
    version = wanted.removeprefix("python")
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    for candidate in sorted(Path(pyenv_root, "versions").glob(f"{version}*/bin/{wanted}"), reverse=True):
        return str(candidate)
    return shutil.which(wanted)


def tracing_active(logical_id: str) -> bool:
    """Whether the template turns X-Ray active tracing on for the function (its own or the Globals')."""
    template = tpl.load()
    own = template["Resources"][logical_id].get("Properties", {}).get("Tracing")
    return (own or template["Globals"]["Function"].get("Tracing")) == "Active"


def layers() -> dict[str, Path]:
    """Each layer's logical id and its ContentUri folder."""
    return {
        logical_id: tpl.BASE / resource["Properties"]["ContentUri"]
        for logical_id, resource in tpl.load()["Resources"].items()
        if resource["Type"] == "AWS::Serverless::LayerVersion"
    }


@dataclass(frozen=True)
class Artefacts:
    root: Path
    python: str  # the interpreter that compiled them (and must run them)

    def layer(self, logical_id: str = "SharedLayer") -> Path:
        return self.root / logical_id / "python"  # where Lambda mounts it: /opt/python

    def function(self, logical_id: str) -> Path:
        return self.root / logical_id  # /var/task


def make_target(logical_id: str, source: Path, artefacts: Path, python: str, *, this_machine: bool) -> None:
    """One target of infra/build/Makefile, as `sam build` runs it (in the resource's folder, with
    ARTIFACTS_DIR); for this machine's platform when ``this_machine``."""
    artefacts.mkdir(parents=True, exist_ok=True)
    variables = [f"ARTIFACTS_DIR={artefacts}", f"PYTHON={python}"]
    if this_machine:
        variables.append("PIP_PLATFORMS=")
    answer = subprocess.run(
        ["make", "-s", "--no-print-directory", "-f", str(MAKEFILE), f"build-{logical_id}", *variables],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=900,
        env={k: v for k, v in os.environ.items() if not k.startswith("MAKE")},
    )
    if answer.returncode != 0:
        raise RuntimeError(f"make build-{logical_id} failed:\n{answer.stdout[-2000:]}\n{answer.stderr[-3000:]}")


def build(dest: Path, python: str, functions: list[str]) -> Artefacts:
    """The layers and ``functions`` (logical ids) as `sam build` makes them, for this machine."""
    for logical_id, source in layers().items():
        make_target(logical_id, source, dest / logical_id, python, this_machine=True)
    for logical_id in functions:
        make_target(logical_id, tpl.function(logical_id).code_dir, dest / logical_id, python, this_machine=True)
    return Artefacts(dest, python)


# Run by the runtime's Python (the hash of a hash-based .pyc is keyed by the interpreter's magic
# number): every .py under the folders given, and what is wrong with its compiled file for this Python.
CHECK_BYTECODE = r"""
import importlib.util, json, sys
from pathlib import Path
problems, sources = [], 0
for root in sys.argv[1:]:
    for source in sorted(Path(root).rglob("*.py")):
        sources += 1
        cached = Path(importlib.util.cache_from_source(str(source)))
        if not cached.exists():
            problems.append(f"{source}: no {cached.name}")
            continue
        header = cached.read_bytes()[:16]
        flags = int.from_bytes(header[4:8], "little")
        if header[:4] != importlib.util.MAGIC_NUMBER:
            problems.append(f"{cached}: compiled by another Python")
        elif flags != 0b11:
            problems.append(f"{cached}: not a checked-hash pyc (flags {flags:#b})")
        elif header[8:16] != importlib.util.source_hash(source.read_bytes()):
            problems.append(f"{cached}: stale (its hash is not the source's)")
print(json.dumps({"sources": sources, "problems": problems, "tag": sys.implementation.cache_tag}))
"""


def check_bytecode(python: str, *roots: Path) -> dict:
    """{"sources": n, "problems": [...], "tag": "cpython-312"}: every .py under ``roots`` must have its
    checked-hash .pyc for ``python``, compiled from exactly that source."""
    answer = subprocess.run(
        [python, "-c", CHECK_BYTECODE, *map(str, roots)], capture_output=True, text=True, timeout=300, check=True
    )
    return json.loads(answer.stdout)


def _elf_machine(path: Path) -> bytes:
    """An ELF file's e_machine field (x86-64, aarch64...)."""
    with open(path, "rb") as handle:
        return handle.read(20)[18:20]


def foreign_distributions(python: str, layer: Path) -> dict[str, str]:
    """The distributions (name → version) whose native extensions in ``layer`` are built for another
    machine than ``python``'s (Lambda's arm64 on this one), from their dist-info RECORDs."""
    here = _elf_machine(Path(os.path.realpath(shutil.which(python) or python)))
    found: dict[str, str] = {}
    for record in layer.glob("*.dist-info/RECORD"):
        name, version = record.parent.name.removesuffix(".dist-info").rsplit("-", 1)
        for line in record.read_text(encoding="utf-8").splitlines():
            path = layer / line.split(",", 1)[0]
            if path.suffix == ".so" and path.exists() and _elf_machine(path) != here:
                found[name] = version
    return found


def host_natives(python: str, layer: Path, dest: Path) -> Path:
    """This machine's builds of the layer's foreign native extensions (same versions), in ``dest``: for
    importing an arm64 build here, every Python module from the build and only these from elsewhere."""
    wanted = foreign_distributions(python, layer)
    if wanted:
        subprocess.run(
            [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q", "--no-deps"]
            + ["--only-binary=:all:", "--no-compile", "--target", str(dest)]
            + [f"{name}=={version}" for name, version in sorted(wanted.items())],
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
    return dest
