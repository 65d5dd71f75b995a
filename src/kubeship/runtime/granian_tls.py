"""HTTPS without client certificates, on Granian's own TLS, following rotation.

Granian terminates TLS in Rust: keep-alive HTTPS at 0.81-0.86× plain HTTP where Python's ssl under
uvicorn reaches 0.45-0.52× (benchmarks/serve_tls.py, one core). It does not tell the app who the client is, so
mTLS stays on tls_server.py; and it reads the certificate only when a worker starts (by resolved
path, so a kubelet `..data` swap is not even seen). The supervisor keeps rotation:

- `ServedCopies` reads the mounted pair once per change, checks it with Python's ssl (a half-written
  mount, a key from another certificate), and only then replaces private copies, which are what
  Granian's workers load: a broken pair never reaches a worker, the copies stay the last good
  certificate, and the reason is logged once and shown on /readyz (a status file every worker reads),
  as `RotatingContext` does on the other server.
- `watch` then asks Granian for its rolling respawn (SIGHUP's): each worker is replaced by a new one
  on the new pair, the old finishing its in-flight requests; the process does not restart. A worker
  stopping closes its idle keep-alive connections, and a request a client sends on one at that moment
  is lost (measured: ~10 per roll under wrk's 16 busy connections). So `retire_first` tells the old
  worker RETIRE_SECONDS ahead (RETIRE_SIGNAL): each of its connections closes after its next response
  ("Connection: close", which every HTTP/1.1 client and proxy honours), and clients reconnect.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubeship.errors import ConfigError
from kubeship.runtime.config import Fingerprint, fingerprint
from kubeship.runtime.log import writer
from kubeship.runtime.tls import RECHECK_SECONDS, TlsFiles, build_context

RETIRE_SIGNAL = signal.SIGUSR1
RETIRE_SECONDS = 1.0  # of "Connection: close" before a replaced worker stops: every client's next request


def retire_first(pid: Callable[[], int | None], terminate: Callable[[], None]) -> Callable[[], None]:
    """`terminate` for a worker that is about to be replaced: retire it, then stop it."""

    def retire_then_terminate() -> None:
        if (worker := pid()) is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker, RETIRE_SIGNAL)
            time.sleep(RETIRE_SECONDS)
        terminate()

    return retire_then_terminate


class ServedCopies:
    """The private copies of the last good certificate and key Granian serves, and their status."""

    def __init__(self, files: TlsFiles, directory: Path) -> None:
        self.files = files
        self.cert, self.key = directory / "tls.crt", directory / "tls.key"
        self.status_file = directory / "tls-status.json"
        self._fingerprint: Fingerprint | None = None
        self.error: str | None = None  # why the mounted files are not the ones served
        if not self.refresh():  # at start-up a bad pair is the command's error, not a log line
            raise ConfigError(self.error or f"{files.cert}: TLS files not readable")

    def refresh(self) -> bool:
        """Copy the mounted pair if it changed and is good; True when new copies are in place. A
        changed pair that is not good is logged once (after start-up) and leaves the copies as they are."""
        seen = tuple(entry for path in self.files.paths() for entry in fingerprint(path))
        if seen == self._fingerprint:
            return False
        self._fingerprint = seen
        staged = TlsFiles(self.cert.with_name("tls.crt.new"), self.key.with_name("tls.key.new"))
        try:
            for source, target in ((self.files.cert, staged.cert), (self.files.key, staged.key)):
                try:
                    data = source.read_bytes()
                except OSError:
                    raise ConfigError(f"{source}: TLS file not found or not readable") from None
                _write_private(target, data)
            build_context(staged, server=True, shown=self.files)  # what Granian would load, checked first
        except ConfigError as exc:
            for path in staged.paths():
                path.unlink(missing_ok=True)
            if self._set_status(str(exc)):
                writer.event("error", "TLS reload failed; serving the last good certificate", error=str(exc))
            return False
        # Two renames, not one: no worker starts between them (workers start on `respawn`, after).
        os.replace(staged.key, self.key)
        os.replace(staged.cert, self.cert)
        self._set_status(None)
        return True

    def _set_status(self, error: str | None) -> bool:
        """Record the outcome for /readyz; True when it is an error while serving (not at start-up)."""
        self.error = error
        serving = self.status_file.exists()
        status: dict[str, Any] = json.loads(self.status_file.read_text()) if serving else {}
        if error is None:
            status = {"loaded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        else:
            status["error"] = error
        _write_private(self.status_file, json.dumps(status).encode())
        return serving and error is not None


def watch(copies: ServedCopies, respawn: Callable[[], None], stop: threading.Event) -> threading.Thread:
    """Check the mounted files every RECHECK_SECONDS until `stop`; respawn the workers on new copies."""

    def loop() -> None:
        while not stop.wait(RECHECK_SECONDS):
            try:
                renewed = copies.refresh()
            except OSError as exc:  # the private directory itself: keep serving, say why
                writer.event("error", "TLS reload failed; serving the last good certificate", error=str(exc))
                continue
            if renewed:
                cert = str(copies.files.cert)
                writer.event("info", "TLS certificate reloaded; rolling the workers onto it", cert=cert)
                respawn()

    thread = threading.Thread(target=loop, name="kubeship-tls-watch", daemon=True)
    thread.start()
    return thread


class StatusFile:
    """A worker's view of the supervisor's TLS status, for /readyz (read only when asked)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def status(self) -> dict[str, Any]:
        try:
            out: dict[str, Any] = json.loads(self.path.read_text())
            return out
        except (OSError, ValueError):
            return {}

    @property
    def error(self) -> str | None:
        return self.status().get("error")


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically, readable by this user only (it may be a private key)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
