"""Every user-facing error class has its own exit code; secrets never print."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

from kubeship import errors
from kubeship.runtime.secrets import Secret


def all_subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *all_subclasses(sub)]
    return out


def test_each_error_class_has_a_distinct_documented_exit_code() -> None:
    classes = [errors.KubeshipError, *all_subclasses(errors.KubeshipError)]
    codes = [c.exit_code for c in classes]
    assert len(set(codes)) == len(codes)
    for cls in classes:
        assert cls.__name__ in (errors.__doc__ or ""), f"{cls.__name__} missing from the error tree docstring"


def test_secret_is_masked_everywhere_but_reveal() -> None:
    s = Secret("canary-s3cret")
    assert "canary" not in str(s) + repr(s) + f"{s}" + repr([s]) + repr({"k": s})
    assert s.reveal() == "canary-s3cret"
    with pytest.raises(TypeError):
        pickle.dumps(s)


def test_cli_import_does_not_load_prometheus_client() -> None:
    # `kubeship serve` must set PROMETHEUS_MULTIPROC_DIR before prometheus_client is imported.
    code = "import sys, kubeship.cli, kubeship.runtime; print('prometheus_client' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
