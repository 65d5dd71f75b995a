"""The test app, slow to reach in each worker (an import-time warm-up there, say): the window
between a worker's fork and its server's own signal handlers, held open long enough to stop in."""

from __future__ import annotations

import os
import time
from typing import Any

from fastapi_app import app as _app

_SUPERVISOR = os.getpid()  # the process that imported it first; workers are forked from it


def __getattr__(name: str) -> Any:
    if name != "app":
        raise AttributeError(name)
    if os.getpid() != _SUPERVISOR:
        if mark := os.environ.get("SLOW_START_MARK"):
            open(mark, "w").close()  # the worker is in the window now
        time.sleep(float(os.environ.get("SLOW_START_SECONDS", "5")))
    return _app
