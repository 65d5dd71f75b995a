"""Build a one-file Go program from benchmarks/apps offline, against Debian's Go library packages."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

APPS = Path(__file__).parent / "apps"
DEBIAN_GOPATH = Path("/usr/share/gocode")


def go_build(source: str, workdir: Path, needs: dict[str, str]) -> Path:
    """`source` (a file in apps/) built into workdir; `needs` maps import paths to Debian packages."""
    missing = [pkg for path, pkg in needs.items() if not (DEBIAN_GOPATH / "src" / path).is_dir()]
    if shutil.which("go") is None or missing:
        sys.exit(f"need Debian's golang-go {' '.join(missing)}: run `make bench`")
    name = Path(source).stem
    src = workdir / "src" / name
    src.mkdir(parents=True)
    shutil.copy(APPS / source, src / "main.go")
    binary = workdir / name
    env = {
        **os.environ,
        "GO111MODULE": "off",  # GOPATH mode: the libraries are Debian's, no module download
        "GOPATH": f"{workdir}:{DEBIAN_GOPATH}",
        "GOCACHE": str(workdir / "cache"),
    }
    subprocess.run(["go", "build", "-o", str(binary), name], cwd=src, env=env, check=True)
    return binary
