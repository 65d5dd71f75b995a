"""Serve an app with exactly `kubeship serve`'s Granian settings but no kubeship middleware.

usage: python granian_bare.py module:app PORT [--rsgi] [--sched other] [--python-gc]

--rsgi: the app speaks Granian's own interface (RSGI), not ASGI.
--sched other: Linux's default scheduling for the worker, as plain Granian runs (kubeship serve's
  workers run SCHED_BATCH: runtime/serve.py `schedule_threads`).
--python-gc: Python's own collector settings, as plain Granian runs (kubeship serve's workers
  freeze what startup loaded and size the young generation: runtime/serve.py `tune_collector`).
"""

from __future__ import annotations

import sys

from granian.constants import Interfaces
from granian.server import MPServer

from kubeship.names import DEFAULT_MAX_CONCURRENCY, DEFAULT_SCHED
from kubeship.runtime.serve import (
    ServeOptions,
    granian_options,
    load_app,
    schedule_threads,
    tune_collector,
)

target, port = sys.argv[1], int(sys.argv[2])
sched = sys.argv[sys.argv.index("--sched") + 1] if "--sched" in sys.argv else DEFAULT_SCHED
app = load_app(target)
options = granian_options(ServeOptions(target=target, host="127.0.0.1", port=port))
if "--rsgi" in sys.argv:
    options["interface"] = Interfaces.RSGI


def worker_app() -> object:
    schedule_threads(sched)  # in each worker, as kubeship serve's
    if "--python-gc" not in sys.argv:
        tune_collector(DEFAULT_MAX_CONCURRENCY)
    return app


server = MPServer(target, **options)
server.serve(target_loader=worker_app, wrap_loader=False)
