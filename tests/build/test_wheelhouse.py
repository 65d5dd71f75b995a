"""The wheelhouse for the lock: which wheels are missing, and kubeship built from where it is installed."""

from __future__ import annotations

from pathlib import Path

from kubeship.build.wheelhouse import installed_source, missing, pins, wheel_requirements
from tests.conftest import ROOT

LOCK = "# locked\nkubeship==0.1.0\nFastAPI==0.115.0\nstarlette==0.38.2 ; python_version >= '3.8'\n"


def test_pins_read_the_lock_by_normalized_name() -> None:
    assert pins(LOCK) == {"kubeship": "0.1.0", "fastapi": "0.115.0", "starlette": "0.38.2"}


def test_missing_compares_names_and_versions(tmp_path: Path) -> None:
    assert missing(LOCK, tmp_path / "none") == ["fastapi", "kubeship", "starlette"]
    (tmp_path / "fastapi-0.115.0-py3-none-any.whl").touch()
    (tmp_path / "starlette-0.37.0-py3-none-any.whl").touch()  # another version: still missing
    assert missing(LOCK, tmp_path) == ["kubeship", "starlette"]


def test_kubeship_comes_from_where_it_is_installed_here() -> None:
    source = installed_source("kubeship")
    assert source is not None and Path(source).resolve() == ROOT.resolve()  # this checkout (editable)
    lines = wheel_requirements(LOCK).splitlines()
    assert lines[1] == source and lines[2] == "FastAPI==0.115.0"  # the rest as pinned
    assert installed_source("no-such-distribution") is None
