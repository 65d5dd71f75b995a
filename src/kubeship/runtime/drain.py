"""The drain flag: set by SIGTERM in the supervisor, read by every worker.

Workers are separate processes, so the flag is a file whose path the
supervisor passes in KUBESHIP_DRAIN_FILE; tests and embedders call `start()`
on the object directly, no signal needed.
"""

from __future__ import annotations

import os
from pathlib import Path

DRAIN_FILE_ENV = "KUBESHIP_DRAIN_FILE"


class DrainState:
    def __init__(self, flag_file: str | None = None) -> None:
        self.flag_file = flag_file if flag_file is not None else os.environ.get(DRAIN_FILE_ENV)
        self._draining = False

    @property
    def draining(self) -> bool:
        if not self._draining and self.flag_file and os.path.exists(self.flag_file):
            self._draining = True  # a drain never ends: remember it, stop checking
        return self._draining

    def start(self) -> None:
        self._draining = True
        if self.flag_file:
            Path(self.flag_file).touch()
