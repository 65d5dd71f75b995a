"""A locked requirements file from the environment kubeship runs in: the roots (kubeship's runtime, the
app's framework) and everything they need, each pinned to the version installed here.

Walks the installed distributions' own metadata (what pip resolved), so the image gets what the
developer ran, not whatever the index serves on build day. Markers are evaluated for this Python
and platform; the header says which, since the image's Python should be the same.
"""

from __future__ import annotations

import platform
import re
from collections.abc import Sequence
from importlib import metadata

from packaging.requirements import InvalidRequirement, Requirement


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_requirements(roots: Sequence[str]) -> tuple[list[str], list[str]]:
    """(`name==version` lines, sorted; requirements that are not installed here, as written)."""
    pinned: dict[str, str] = {}
    missing: list[str] = []
    todo: list[tuple[str, frozenset[str]]] = []
    for root in roots:
        req = Requirement(root)
        todo.append((req.name, frozenset(req.extras)))
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, extras = todo.pop()
        if (_key(name), extras) in seen:
            continue
        seen.add((_key(name), extras))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
            continue
        pinned[_key(dist.metadata["Name"])] = f"{dist.metadata['Name']}=={dist.version}"
        for raw in dist.requires or []:
            try:
                req = Requirement(raw)
            except InvalidRequirement:
                continue
            wanted = not req.marker or any(req.marker.evaluate({"extra": e}) for e in (extras or {""}))
            if wanted:
                todo.append((req.name, frozenset(req.extras)))
    return sorted(pinned.values(), key=str.lower), sorted(set(missing))


def requirements_text(roots: Sequence[str]) -> tuple[str, list[str]]:
    """The file `kubeship init` writes, and the roots it could not pin (not installed here)."""
    lines, missing = locked_requirements(roots)
    header = (
        "# Locked by `kubeship init` from the environment it ran in "
        f"(Python {platform.python_version()}, {platform.system().lower()}):\n"
        f"# {', '.join(roots)} and everything they need, each pinned to the installed version.\n"
        "# The image installs exactly these; after an upgrade here, run `kubeship init --requirements`.\n"
    )
    body = "\n".join(lines)
    unpinned = [r for r in roots if Requirement(r).name in missing]
    if unpinned:
        body += "\n# not installed where `kubeship init` ran, so not pinned: install it and run it again\n"
        body += "\n".join(unpinned)
    return header + body + "\n", unpinned
