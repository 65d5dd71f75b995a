"""What both servers share (Granian for HTTP and HTTPS, uvicorn for mTLS: serve.py, tls_server.py):
the event loop they run on, and SIGTERM's first step, the drain window. Its own module so that neither server
module imports the other."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from kubeship.runtime.drain import DrainState


class DrainTimes(Protocol):
    """The two settings the drain reads (ServeOptions has them)."""

    @property
    def drain_seconds(self) -> float: ...
    @property
    def shutdown_timeout(self) -> float: ...


def start_drain(options: DrainTimes, drain: DrainState, then: Callable[[], None]) -> None:
    """SIGTERM's first step, for either server: readiness 503 now, `then` (stop) after the window."""
    from kubeship.runtime.log import writer

    drain.start()
    writer.event(
        "info",
        "SIGTERM: draining; readiness now 503",
        drain_seconds=options.drain_seconds,
        shutdown_timeout=options.shutdown_timeout,
    )
    timer = threading.Timer(options.drain_seconds, then)
    timer.daemon = True
    timer.start()


def has_uvloop() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True
