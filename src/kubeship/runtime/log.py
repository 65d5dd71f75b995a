"""JSON log lines on stdout, buffered so a request costs no system call.

Lines are queued in memory and written with one `os.write` when they pass
`FLUSH_BYTES`, when `flush()` is called (the runtime's
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
    """Collects JSON lines and writes them to a file descriptor in one system call."""

    def __init__(self, fd: int = 1) -> None:
        self.fd = fd
        self._chunks: list[bytes] = []
        self._size = 0
        self._lock = threading.Lock()
        atexit.register(self.flush)

    def append(self, lines: bytes) -> None:
        """Queue complete lines (one or many); written at the next flush."""
        self._chunks.append(lines)  # atomic under the GIL: the config watcher thread logs too
        self._size += len(lines)
        if self._size > FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            # Take what is queued now; a line appended meanwhile by another
            # thread stays in the list for the next flush (each step is one
            # C call under the GIL).
            chunks = self._chunks
            n = len(chunks)
            data = b"".join(chunks[:n])
            del chunks[:n]
            self._size = 0
        if not data:
            return
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
        self.append(orjson.dumps(record, default=str, option=orjson.OPT_APPEND_NEWLINE))
        self.flush()


# ".000Z" to ".999Z" by milliseconds into the second; [1000] for a product that rounds up to 1000.0
MILLIS = (*(f".{ms:03d}Z" for ms in range(1000)), ".999Z")
_second = -1
_second_text = ""


def second_text(second: float) -> str:
    """The whole second of a UTC timestamp as ISO 8601, without the fraction."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


def iso_now() -> str:
    return iso_time(time.time())


def iso_time(timestamp: float) -> str:
    """UTC time as ISO 8601 with milliseconds; the seconds part is cached (called per request)."""
    global _second, _second_text
    millis = int(timestamp * 1000)
    sec = millis // 1000
    if sec != _second:
        _second_text = second_text(sec)
        _second = sec
    return _second_text + MILLIS[millis - sec * 1000]


writer = LogWriter()
