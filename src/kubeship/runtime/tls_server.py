"""`kubeship serve` with mTLS: uvicorn (httptools) over Python's ssl, with the same drain as Granian.

Granian terminates TLS in Rust and does not tell the app who the client is,
and mTLS without the client's identity cannot authorise anyone. Python's ssl
does (the peer certificate is read once per connection; `RotatingContext`
swaps the context per connection), at a cost in requests per second measured
in benchmarks/serve_tls.py. Plain HTTP, and HTTPS without client certificates
(granian_tls.py), stay on Granian.

The supervisor pre-binds the socket and forks the workers, each a uvicorn
server on that socket, and drains exactly as serve.py describes:
SIGTERM → readiness 503 → `drain_seconds` → workers stop gracefully
(in-flight requests finish, `shutdown_timeout`) → exit 0.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import signal
import socket
import threading
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from kubeship.runtime import BUILD
from kubeship.runtime.drain import DrainState
from kubeship.runtime.lifecycle import has_uvloop, start_drain
from kubeship.runtime.log import writer
from kubeship.runtime.tls import RotatingContext, TlsFiles, set_serving_context, tls_extension


class TlsHttpProtocol(HttpToolsProtocol):
    """httptools HTTP/1.1 with the ASGI TLS extension in every request's scope."""

    _tls: dict[str, Any] | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._tls = tls_extension(transport.get_extra_info("ssl_object"))  # once per connection

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._tls is not None:
            self.scope["extensions"] = {"tls": self._tls}  # type: ignore[dict-item]


def run(options: Any, drain: DrainState, files: TlsFiles, loader: Any) -> None:
    """Serve `loader()`'s app over TLS until SIGTERM/SIGINT, draining first."""
    sock = _bind(options.host, options.port)
    ctx = multiprocessing.get_context("fork")
    args = (options, files, loader, sock)
    workers = [ctx.Process(target=_worker, args=args) for _ in range(options.workers)]
    stop = threading.Event()
    draining = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal draining
        if signum == signal.SIGTERM and not draining and options.drain_seconds > 0:
            draining = True
            start_drain(options, drain, then=stop.set)
            return
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        for w in workers:
            w.start()
        writer.event(
            "info",
            "serving",
            url=f"https://{options.host}:{options.port}",
            workers=options.workers,
            sched=options.sched,
            gc_young=gc.get_threshold()[0],  # as the workers have it (serve.tune_collector)
            build=BUILD,  # compiled, or why not (compiled.py)
            pid=os.getpid(),
            mtls=files.ca is not None,
            server="uvicorn",
        )
        while not stop.wait(0.5):
            if not any(w.is_alive() for w in workers):
                writer.event("error", "every worker exited; stopping")
                break
        writer.event("info", "stopping: closing listeners, finishing in-flight requests")
        for w in workers:
            if w.pid is not None and w.is_alive():
                os.kill(w.pid, signal.SIGTERM)
        for w in workers:
            w.join(options.shutdown_timeout + 1)
            if w.is_alive():
                w.kill()
                w.join()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        sock.close()
    writer.event("info", "stopped")


def _worker(options: Any, files: TlsFiles, loader: Any, sock: socket.socket) -> None:
    app = loader()
    server_ctx = RotatingContext(files)
    set_serving_context(server_ctx)
    config = uvicorn.Config(
        app,
        http=TlsHttpProtocol,
        loop="uvloop" if has_uvloop() else "asyncio",
        lifespan="auto",
        log_level="warning",
        access_log=False,  # the runtime writes the access log
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=max(1, int(options.shutdown_timeout)),
    )
    config.load()
    config.ssl = server_ctx
    uvicorn.Server(config).run(sockets=[sock])


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock
