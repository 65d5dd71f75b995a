"""Write a directory the way the kubelet mounts a ConfigMap or Secret: atomically, via `..data`."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomic_mount(directory: Path, data: dict[str, str], version: int) -> None:
    """Same layout and swap as kubernetes/pkg/volume/util/atomic_writer.go.

    dir/..2026_11_27_10_00_00.N/key   the payload, in a fresh timestamped directory
    dir/..data -> ..2026_...N         swapped with rename(2): readers see old or new, never a mix
    dir/key -> ..data/key             user-visible names, created once
    """
    directory.mkdir(parents=True, exist_ok=True)
    payload = directory / f"..2026_11_27_10_00_00.{version}"
    payload.mkdir()
    for key, value in data.items():
        (payload / key).write_text(value)
    tmp_link = directory / "..data_tmp"
    os.symlink(payload.name, tmp_link)
    os.replace(tmp_link, directory / "..data")
    for key in data:
        link = directory / key
        if not link.is_symlink():
            os.symlink(f"..data/{key}", link)
