"""Builds kubeship; the runtime's per-request modules compiled with mypyc where a compiler is found.

`KUBESHIP_COMPILE=0` builds pure Python. A failed compile (no C compiler, no Python headers) is
reported and the build goes on pure: the same source, slower. What is compiled and the guard
against a stale build: src/kubeship/runtime/compiled.py.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).parent
# Each build in its own directory: two builds of one checkout at once (the e2e tests' wheels) share nothing.
BUILD = tempfile.mkdtemp(prefix="kubeship-build-")
atexit.register(shutil.rmtree, BUILD, ignore_errors=True)
RUNTIME = HERE / "src" / "kubeship" / "runtime"
_spec = importlib.util.spec_from_file_location("_kubeship_compiled", RUNTIME / "compiled.py")
compiled = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(compiled)  # type: ignore[union-attr]


def _skip(why: str) -> list:
    print(f"kubeship: building pure Python: {why}", file=sys.stderr)
    return []


def ext_modules() -> list:
    if os.environ.get("KUBESHIP_COMPILE", "1") == "0":
        return _skip("KUBESHIP_COMPILE=0")
    try:
        from mypyc.build import mypycify
    except ImportError:
        return _skip("mypyc is not installed")
    sources = [str((RUNTIME / f"{name}.py").relative_to(HERE)) for name in compiled.MODULES]
    try:
        # The project's mypy settings load plugins of the tools extra; compiling needs none of them.
        return mypycify(["--config-file=", "--ignore-missing-imports", *sources],
                        opt_level="3", group_name="kubeship_runtime", target_dir=BUILD)  # fmt: skip
    except (Exception, SystemExit) as exc:
        return _skip(f"mypyc failed: {exc}")


class BuildExt(build_ext):
    """Compile if a compiler works, and record which sources the build was made from."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:
            print(f"kubeship: building pure Python: compiling failed: {exc}", file=sys.stderr)
            return
        if self.extensions:
            out = Path(self.get_ext_fullpath("kubeship.runtime.middleware")).parent
            (out / compiled.DIGEST_FILE).write_text(compiled.source_digest(RUNTIME) + "\n")


setup(ext_modules=ext_modules(), cmdclass={"build_ext": BuildExt}, options={"build": {"build_base": BUILD}})
