"""The wheelhouse a build installs from: every locked requirement as a wheel in the build context.

`kubeship init` locks `kubeship==<version>`, which no package index may serve (a checkout, a fork, a
pre-release): the wheel for it is built from where it is installed here (the source directory or the
wheel pip recorded in `direct_url.json`), the others fetched as pinned. The image then installs with
`--no-index`, exactly the lock.
"""

from __future__ import annotations

import json
import re
import sys
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)")


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def installed_source(name: str) -> str | None:
    """The local directory or wheel a distribution was installed from (editable or not), if any."""
    try:
        raw = metadata.distribution(name).read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    if not raw:
        return None
    try:
        url = urlparse(json.loads(raw).get("url", ""))
    except (ValueError, AttributeError):
        return None
    if url.scheme != "file":
        return None
    path = Path(unquote(url.path))
    return str(path) if path.exists() else None


def pins(requirements: str) -> dict[str, str]:
    """{normalized name: version} of the `name==version` lines of a requirements file."""
    out = {}
    for line in requirements.splitlines():
        match = _NAME.match(line)
        if match:
            out[_key(match.group(1))] = match.group(2)
    return out


def missing(requirements: str, wheel_dir: Path) -> list[str]:
    """The pinned names with no wheel of that version in `wheel_dir`."""
    have = set()
    for wheel in wheel_dir.glob("*.whl") if wheel_dir.is_dir() else []:
        name, _, rest = wheel.name.partition("-")
        have.add((_key(name), rest.partition("-")[0]))
    return sorted(name for name, version in pins(requirements).items() if (name, version) not in have)


def wheel_requirements(requirements: str) -> str:
    """The lock with each requirement installed here from a local source pointed at that source."""
    out = []
    for line in requirements.splitlines():
        match = _NAME.match(line)
        source = installed_source(match.group(1)) if match else None
        out.append(source if source is not None else line)
    return "\n".join(out) + "\n"


def wheel_argv(requirements_file: Path, wheel_dir: Path) -> list[str]:
    """pip wheel, each locked requirement alone (the lock already holds every dependency, pinned)."""
    return [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(wheel_dir),
            "-r", str(requirements_file)]  # fmt: skip
