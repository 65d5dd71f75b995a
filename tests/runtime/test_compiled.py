"""The compiled runtime: this install runs it, a stale build never runs, and source runs the same."""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import kubeship.runtime
from kubeship.runtime import compiled
from tests.conftest import ROOT

SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def runtime_copy(tmp_path: Path, *, built: bool) -> Path:
    """The runtime's sources, with stand-ins for a compiled build (files named as extensions)."""
    out = tmp_path / "runtime"
    out.mkdir()
    for name in compiled.MODULES:
        shutil.copy(compiled.HERE / f"{name}.py", out / f"{name}.py")
        if built:
            (out / f"{name}{SUFFIX}").write_bytes(b"")
    if built:
        (out / compiled.DIGEST_FILE).write_text(compiled.source_digest(out) + "\n")
    return out


def test_no_build_is_pure(tmp_path: Path) -> None:
    assert compiled.build_state(runtime_copy(tmp_path, built=False)) == "pure"


def test_a_build_of_these_sources_is_compiled(tmp_path: Path) -> None:
    assert compiled.build_state(runtime_copy(tmp_path, built=True)) == "compiled"


def test_an_edited_source_makes_the_build_stale(tmp_path: Path) -> None:
    runtime = runtime_copy(tmp_path, built=True)
    with (runtime / "log.py").open("a") as source:
        source.write("# edited\n")
    assert compiled.build_state(runtime) == "stale"


def test_a_build_without_its_digest_is_stale(tmp_path: Path) -> None:
    runtime = runtime_copy(tmp_path, built=True)
    (runtime / compiled.DIGEST_FILE).unlink()
    assert compiled.build_state(runtime) == "stale"


def test_one_module_missing_from_the_build_is_pure(tmp_path: Path) -> None:
    runtime = runtime_copy(tmp_path, built=True)
    (runtime / f"gate{SUFFIX}").unlink()
    assert compiled.build_state(runtime) == "pure"


@pytest.mark.skipif(os.environ.get("KUBESHIP_COMPILE") == "0", reason="installed pure on purpose")
def test_this_install_runs_the_runtime_compiled() -> None:
    """What `pip install` / `make venv` built is what runs (a failed compile would fall back silently)."""
    assert kubeship.runtime.BUILD == "compiled"
    for name in compiled.MODULES:
        assert compiled.is_compiled(importlib.import_module(f"kubeship.runtime.{name}")), name


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True, timeout=60
    )


@pytest.mark.skipif(kubeship.runtime.BUILD != "compiled", reason="needs a compiled install")
def test_a_stale_build_runs_from_source_and_says_so(tmp_path: Path) -> None:
    """A build from other sources (an edit after `pip install -e .`) is never run, all modules alike."""
    runtime = tmp_path / "kubeship" / "runtime"
    shutil.copytree(compiled.HERE, runtime, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(compiled.HERE.parent, tmp_path / "kubeship", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "runtime"))  # fmt: skip
    for lib in compiled.HERE.parent.parent.glob(f"*__mypyc{SUFFIX}"):
        shutil.copy(lib, tmp_path / lib.name)  # the build's shared library sits beside the package
    with (runtime / "middleware.py").open("a") as source:
        source.write("\nEDITED = True\n")
    code = (
        "import kubeship.runtime as r, kubeship.runtime.middleware as m, kubeship.runtime.log as l\n"
        "from kubeship.runtime.compiled import is_compiled\n"
        "print(r.BUILD, m.EDITED, is_compiled(m), is_compiled(l))"
    )
    result = run_python(code, PYTHONPATH=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["stale", "True", "False", "False"]
    assert "built from other sources" in result.stderr and "pip install -e ." in result.stderr


@pytest.mark.skipif(kubeship.runtime.BUILD != "compiled", reason="needs a compiled install")
def test_the_runtime_behaves_the_same_from_source() -> None:
    """KUBESHIP_PURE=1 runs the same sources uncompiled: their behaviour tests pass there too."""
    tests = ROOT / "tests" / "runtime"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         str(tests / "test_access_log.py"), str(tests / "test_headers.py"), str(tests / "test_metrics.py"),
         str(tests / "test_cors_auth.py"), str(tests / "test_frameworks.py")],
        cwd=ROOT, env={**os.environ, compiled.ENV_PURE: "1"}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    check = run_python(
        "import kubeship.runtime as r, kubeship.runtime.middleware as m\n"
        "from kubeship.runtime.compiled import is_compiled\nprint(r.BUILD, is_compiled(m))",
        **{compiled.ENV_PURE: "1"},
    )
    assert check.stdout.split() == ["source", "False"], check.stderr
