"""JSON log lines on stdout, buffered so a request costs no system call.

Lines are appended to an in-memory buffer and written with one `os.write`
when the buffer passes `FLUSH_BYTES`, when `flush()` is called (the runtime's
periodic tick, shutdown), or at once for events (errors, reloads), which are
rare and must not wait.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from typing import Any

import orjson

FLUSH_BYTES = 64 * 1024


class LogWriter:
    """Appends JSON lines to a buffer and writes them to a file descriptor."""

    def __init__(self, fd: int = 1) -> None:
        self.fd = fd
        self.buffer = bytearray()
        self._lock = threading.Lock()
        atexit.register(self.flush)

    def append(self, line: bytes) -> None:
        # bytearray += is one C call under the GIL: safe without the lock.
        self.buffer += line
        if len(self.buffer) > FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            n = len(self.buffer)
            if not n:
                return
            data = bytes(self.buffer[:n])
            del self.buffer[:n]  # lines appended meanwhile stay for the next flush
        view = memoryview(data)
        while view:
            try:
                written = os.write(self.fd, view)
            except BlockingIOError:
                time.sleep(0.001)
                continue
            except OSError:
                return  # stdout closed: nothing sensible left to do with a log line
            view = view[written:]

    def event(self, level: str, message: str, **fields: Any) -> None:
        """Write one structured event line now (not per request: it flushes)."""
        record = {"time": iso_now(), "level": level, "msg": message, **fields}
        self.append(orjson.dumps(record, default=str) + b"\n")
        self.flush()


_second = -1
_second_text = ""


def iso_now() -> str:
    """UTC time as ISO 8601 with milliseconds; the seconds part is cached."""
    global _second, _second_text
    now = time.time()
    sec = int(now)
    if sec != _second:
        _second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
        _second = sec
    return f"{_second_text}.{int((now - sec) * 1000):03d}Z"


writer = LogWriter()
