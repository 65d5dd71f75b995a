"""Which runtime modules run compiled, and the guard that never lets a stale build run.

The modules every request passes through are compiled with mypyc when kubeship is installed
(`setup.py`; a wheel, or `pip install -e .`): the same source, about half the runtime's CPU a request.
Where no compiler is found the install is pure Python and behaves the same.

A compiled module sits beside its source and wins the import. After the source is edited (a
checkout with an editable install) the build would be stale: its digest of the sources no longer
matches, so every one of these modules is then imported from source (they call each other
natively, so it is all or none) and a warning says how to rebuild. `KUBESHIP_PURE=1` does the
same on purpose, for a profiler that reads Python frames. Nothing here imports the
modules themselves, and setup.py loads this file alone (it needs only the standard library).
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

PACKAGE = "kubeship.runtime"
MODULES = ("middleware", "log", "metrics", "headers", "gate", "cors", "auth", "audit")  # the per-request path
DIGEST_FILE = "compiled.sha256"  # written by setup.py beside the compiled modules
ENV_PURE = "KUBESHIP_PURE"  # =1: run from source anyway (a profiler that reads Python frames, py-spy)
HERE = Path(__file__).parent


def source_digest(directory: Path) -> str:
    """SHA-256 over the compiled modules' sources, in order."""
    digest = hashlib.sha256()
    for name in MODULES:
        digest.update((directory / f"{name}.py").read_bytes())
    return digest.hexdigest()


def _extension(directory: Path, name: str) -> Path | None:
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        if (directory / f"{name}{suffix}").exists():
            return directory / f"{name}{suffix}"
    return None


def build_state(directory: Path = HERE) -> str:
    """ "compiled", "pure" (no build) or "stale" (built from other sources than these)."""
    if not all(_extension(directory, name) for name in MODULES):
        return "pure"
    if not all((directory / f"{name}.py").exists() for name in MODULES):
        return "compiled"  # an install without the sources: nothing else could run
    recorded = directory / DIGEST_FILE
    try:
        if recorded.read_text().strip() == source_digest(directory):
            return "compiled"
    except OSError:
        pass  # no digest (a build from before it), or a source missing: not to be trusted
    return "stale"


def is_compiled(module: ModuleType) -> bool:
    """The module was loaded from a compiled extension, not its source."""
    return isinstance(getattr(module, "__loader__", None), importlib.machinery.ExtensionFileLoader)


class _FromSource:
    """A meta-path finder that loads the named modules from their .py files."""

    def __init__(self, directory: Path, names: Sequence[str]) -> None:
        self._sources = {f"{PACKAGE}.{name}": directory / f"{name}.py" for name in names}

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> object:
        source = self._sources.get(fullname)
        return None if source is None else importlib.util.spec_from_file_location(fullname, source)


def guard(directory: Path = HERE) -> str:
    """At the package's import: a stale build (or `KUBESHIP_PURE=1`) runs from source; → the state:
    "compiled", "pure", "stale" or "source" (compiled, run from source on request)."""
    state = build_state(directory)
    if state == "compiled" and os.environ.get(ENV_PURE) == "1":
        state = "source"
    if state in ("stale", "source") and not any(isinstance(f, _FromSource) for f in sys.meta_path):
        sys.meta_path.insert(0, _FromSource(directory, MODULES))  # type: ignore[arg-type]
    if state == "stale":
        print(
            f"kubeship: the compiled runtime in {directory} was built from other sources; running them "
            "from source (slower). Rebuild: pip install -e . (or make venv)",
            file=sys.stderr,
        )
    return state
