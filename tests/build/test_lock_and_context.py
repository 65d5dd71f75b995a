"""`kubeship init`'s locked requirements (read from what is installed), and `kubeship build`'s check of
its context before any builder runs."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from kubeship.build import dockerfile
from kubeship.build.context import missing_in_context
from kubeship.build.lock import locked_requirements, requirements_text
from kubeship.spec.load import parse_spec


def test_the_lock_pins_every_dependency_to_the_installed_version() -> None:
    lines, missing = locked_requirements(["kubeship", "fastapi"])
    pins = dict(line.split("==") for line in lines)
    assert missing == []
    for name in ("kubeship", "fastapi", "starlette", "pydantic", "granian", "click", "ruamel.yaml", "PyJWT"):
        assert pins[name] == metadata.version(name), name
    assert "cryptography" in pins  # pyjwt[crypto]: an extra kubeship asks for is followed
    assert "pytest" not in pins and "numpy" not in pins  # kubeship's dev and tools extras are not


def test_what_is_not_installed_is_named_not_pinned() -> None:
    text, unpinned = requirements_text(("kubeship", "no-such-framework-xyz"))
    assert unpinned == ["no-such-framework-xyz"]
    assert text.splitlines()[-1] == "no-such-framework-xyz" and "not pinned" in text


SPEC = 'name: web\nversion: "1.0.0"\nimage: {name: web, tag: "1.0.0"}\ncontainer: {app: "svc.main:app"}\n'


def test_the_context_check_names_each_missing_file_with_its_line(tmp_path: Path) -> None:
    spec = parse_spec(SPEC + "build: {wheelhouse: wheels}\n")
    (tmp_path / "Dockerfile").write_text(dockerfile(spec))
    (tmp_path / "wheels").mkdir()
    problems = missing_in_context(tmp_path / "Dockerfile", tmp_path, spec)
    assert any(
        p.endswith("`kubeship init` writes a locked one; or list your dependencies there, pinned")
        and "COPY requirements.txt" in p
        for p in problems
    )
    assert not any("COPY wheels/" in p for p in problems)  # the directory is there
    assert any("no main.py (nor package svc.main/)" in p for p in problems)
    assert any("build.wheelhouse holds no wheels" in p for p in problems)
    (tmp_path / "requirements.txt").write_text("kubeship==0.1.0\n")
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "main.py").write_text("app = None\n")
    (tmp_path / "wheels" / "kubeship-0.1.0-py3-none-any.whl").write_bytes(b"")
    assert missing_in_context(tmp_path / "Dockerfile", tmp_path, spec) == []


def test_a_users_own_dockerfile_is_checked_for_what_it_copies_only(tmp_path: Path) -> None:
    spec = parse_spec(SPEC)
    (tmp_path / "Dockerfile").write_text(
        'FROM python:3.11 AS b\nCOPY --from=b /x /y\nCOPY *.py ./\nCOPY ["a b", "/c"]\n'
        "ADD https://example.com/x /x\nCOPY --chown=1:1 config/ /etc/app/\n"
    )
    [problem] = missing_in_context(tmp_path / "Dockerfile", tmp_path, spec)
    assert problem.startswith(f"{tmp_path / 'Dockerfile'}:6: COPY config/: not in the build context")
