"""`kubeship serve`: the app under Granian, with a drain that Kubernetes can rely on.

Measured on this project's machine (benchmarks/serve.py), Granian serves a
bare ASGI app about 2.5× faster than uvicorn, and it completes in-flight
requests when its workers are stopped. What it lacks is the drain window
Kubernetes needs: after SIGTERM the pod must keep serving while endpoints and
load balancers stop sending to it. The supervisor below adds it:

    SIGTERM → readiness answers 503 at once (drain flag, seen by every worker)
            → keep serving for `drain_seconds`
            → stop workers: listeners close, in-flight requests finish,
              workers still busy after `shutdown_timeout` are killed
            → exit 0

A second SIGTERM, or SIGINT (Ctrl-C), skips the drain window.

Nothing here imports prometheus_client before PROMETHEUS_MULTIPROC_DIR is set:
the library picks its storage at import time.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import importlib
import math
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubeship.errors import AppLoadError, ConfigError, ServeError
from kubeship.names import (
    DEFAULT_DRAIN_SECONDS,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_PORT,
    DEFAULT_SCHED,
    DEFAULT_SHUTDOWN_TIMEOUT,
    ENV_SCHED,
    MAX_YOUNG_GENERATION,
    SCHED_POLICIES,
    TRACKED_PER_REQUEST,
)
from kubeship.runtime import BUILD
from kubeship.runtime.drain import DRAIN_FILE_ENV, DrainState
from kubeship.runtime.lifecycle import has_uvloop, start_drain
from kubeship.runtime.settings import ENV_MAX_CONCURRENCY, ENV_MTLS_REQUIRED, ENV_TLS_STATUS

if TYPE_CHECKING:
    from kubeship.runtime.granian_tls import ServedCopies

APP_ENV = "KUBESHIP_APP"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


@dataclass(frozen=True)
class ServeOptions:
    target: str
    host: str = "0.0.0.0"
    port: int = DEFAULT_PORT
    workers: int = 1
    drain_seconds: float = DEFAULT_DRAIN_SECONDS
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY  # per worker
    sched: str = DEFAULT_SCHED  # Linux scheduling policy of the workers' threads: batch or other
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None  # set: clients must present a certificate it signed (mTLS)


def serve(options: ServeOptions) -> None:
    """Run until SIGTERM/SIGINT; return after a clean drain, raise KubeshipError on bad input."""
    _check_options(options)
    port_lock = _hold_port(options.host, options.port)
    state_dir = Path(tempfile.mkdtemp(prefix="kubeship-"))
    try:
        metrics_dir = state_dir / "metrics"
        metrics_dir.mkdir()
        os.environ.setdefault(MULTIPROC_ENV, str(metrics_dir))
        os.environ[DRAIN_FILE_ENV] = str(state_dir / "draining")
        os.environ[APP_ENV] = options.target
        os.environ[ENV_MAX_CONCURRENCY] = str(options.max_concurrency)  # every worker's runtime
        os.environ[ENV_SCHED] = options.sched
        if options.tls_client_ca is not None:
            os.environ.setdefault(ENV_MTLS_REQUIRED, "true")  # every path but the probes
        _check_port_free(options.host, options.port)
        _wrapped_app()  # import and wrap once here: errors surface before any worker starts
        if options.tls_cert is None or options.tls_key is None:
            _run_granian(options, DrainState())
        elif options.tls_client_ca is None:  # HTTPS: Granian's TLS, the pair from private copies
            from kubeship.runtime.granian_tls import ServedCopies
            from kubeship.runtime.tls import TlsFiles

            copies = ServedCopies(TlsFiles(options.tls_cert, options.tls_key), state_dir)
            os.environ[ENV_TLS_STATUS] = str(copies.status_file)
            _run_granian(options, DrainState(), copies)
        else:  # mTLS: the app must know who the client is, which only Python's ssl tells
            from kubeship.runtime import tls_server
            from kubeship.runtime.tls import TlsFiles

            files = TlsFiles(options.tls_cert, options.tls_key, options.tls_client_ca)
            tls_server.run(options, DrainState(), files, worker_app)
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)
        _release_port(port_lock, options.host, options.port)


def load_app(target: str) -> Any:
    """Import `module:attribute` (the current directory is importable, as for uvicorn)."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise AppLoadError(f"{target!r}: expected module:attribute, e.g. 'app.main:app'")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise AppLoadError(
                f"{target!r}: no module named {exc.name!r}; run from the directory that holds it "
                "or fix the module path"
            ) from None
        raise AppLoadError(f"{target!r}: importing it failed: {exc}") from None
    except Exception as exc:
        raise AppLoadError(f"{target!r}: importing it raised {type(exc).__name__}: {exc}") from None
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            names = ", ".join(n for n in dir(module) if not n.startswith("_"))[:200]
            raise AppLoadError(
                f"{target!r}: module {module_name!r} has no attribute {attr!r} (it has: {names})"
            ) from None
    if not callable(obj):
        raise AppLoadError(f"{target!r}: {type(obj).__name__} is not an ASGI application")
    return obj


def worker_app() -> Any:
    """The servers' factory, called first in each (forked) worker: the user's app wrapped by the runtime.

    A forked worker starts with the supervisor's signal handlers, which only flag the supervisor's
    own loop: a SIGTERM or SIGINT that came now was swallowed, and the worker served on until the
    kill timeout (a stop while workers start took 20 s). Until its server installs the worker's own
    handlers, after this returns, a stop ends the worker at once: it has served nothing yet."""
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, signal.SIG_DFL)
    schedule_threads(os.environ.get(ENV_SCHED, DEFAULT_SCHED))
    return _wrapped_app()


def schedule_threads(policy: str) -> None:
    """Put every thread of this process, and so every thread it starts later, under `policy`.

    A worker is at least two threads handing each request back and forth: Granian's I/O thread (Rust)
    and the Python thread running the app. On a busy core, under Linux's default policy, each wakes
    and preempts the other several times a request: measured 1.6 context switches a request and a
    quarter of FastAPI's throughput on Granian (benchmarks/serve.py). SCHED_BATCH threads never
    preempt on wakeup (they run when the running thread blocks or its slice ends), and are still
    preempted by other processes' normal threads: the worker stays polite to its neighbours. No
    privilege is needed; where the call is refused (a sandbox) the worker runs as it was."""
    number = getattr(os, f"SCHED_{policy.upper()}", None)
    if number is None or not os.path.isdir("/proc/self/task"):
        return  # not Linux
    for tid in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError):  # gone meanwhile, or refused
            os.sched_setscheduler(int(tid), number, os.sched_param(0))


def _wrapped_app() -> Any:
    """The user's app wrapped by the runtime: the supervisor's first check, then each worker's."""
    from kubeship.runtime.middleware import wrap  # after the multiprocess env is set

    app = wrap(load_app(os.environ[APP_ENV]))
    if (status := os.environ.get(ENV_TLS_STATUS)) is not None:
        from kubeship.runtime.granian_tls import RETIRE_SIGNAL, StatusFile
        from kubeship.runtime.tls import set_serving_context

        set_serving_context(StatusFile(Path(status)))
        if hasattr(app, "retire"):
            signal.signal(RETIRE_SIGNAL, lambda signum, frame: app.retire())
    # what this worker admits, as the runtime parsed it (no bound: sized for the default one)
    tune_collector(app.settings.max_concurrency or DEFAULT_MAX_CONCURRENCY)
    return app


def young_generation(max_concurrency: int, current: int) -> int:
    """The young generation's size for a worker holding up to `max_concurrency` requests in the app.

    Python collects its young objects every 700 net allocations. Requests that await (a database,
    an audit record's fdatasync) keep their objects alive meanwhile: 64 FastAPI requests in flight
    are ~6,000-10,000 of them, so every young collection walked them all and moved them to the older
    generations, which then walked them again: 10 % of a worker's CPU on a FastAPI endpoint awaiting
    2 ms (its collections timed with gc.callbacks), a third without the freeze below (Granian alone:
    benchmarks/serve.py, the /query rows). A young generation larger than the requests in flight
    holds them until they finish and free themselves. At most MAX_YOUNG_GENERATION, however high
    the bound. Never lowered, and 0 (collection off) stays off: what the app set for itself stays."""
    sized = min(TRACKED_PER_REQUEST * max_concurrency, MAX_YOUNG_GENERATION)
    return max(current, sized) if current else 0


def tune_collector(max_concurrency: int) -> None:
    """The garbage collector set for serving: startup objects frozen, the young generation sized."""
    # Everything loaded so far lives as long as the process: move it out of the
    # collector's sight, so a full collection no longer walks every module,
    # class and route on the request path (and forked pages stay shared).
    gc.collect()
    gc.freeze()
    young, *older = gc.get_threshold()
    gc.set_threshold(young_generation(max_concurrency, young), *older)


def _check_options(options: ServeOptions) -> None:
    if not 0 < options.port < 65536:
        raise ServeError(f"--port {options.port}: expected 1-65535")
    if options.workers < 1:
        raise ServeError(f"--workers {options.workers}: expected at least 1")
    if options.sched not in SCHED_POLICIES:
        raise ServeError(f"--sched {options.sched}: expected one of {', '.join(SCHED_POLICIES)}")
    if options.drain_seconds < 0 or options.shutdown_timeout <= 0:
        raise ServeError("--drain-seconds must be ≥ 0 and --shutdown-timeout > 0")
    if (options.tls_cert is None) != (options.tls_key is None):
        raise ServeError("--tls-cert and --tls-key go together")
    if options.tls_client_ca is not None and options.tls_cert is None:
        raise ServeError("--tls-client-ca (mTLS) needs --tls-cert and --tls-key")
    for path in (options.tls_cert, options.tls_key, options.tls_client_ca):
        if path is not None and not path.is_file():
            raise ConfigError(f"{path}: TLS file not found")
    if options.tls_cert is not None and options.tls_key is not None:
        from kubeship.runtime.tls import TlsFiles, build_context

        build_context(TlsFiles(options.tls_cert, options.tls_key, options.tls_client_ca), server=True)


def _hold_port(host: str, port: int) -> int:
    """A lock on host:port held while this server runs: Granian's workers bind with SO_REUSEPORT, so a
    second server started at the same moment would pass the free-port check and share the port (the
    kernel splitting requests between them). The second waits for nothing: it exits 5 at once."""
    import fcntl

    path = _port_lock_path(host, port)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ServeError(
                f"port {port} on {host} is already in use by another kubeship serve; stop it or pass --port"
            ) from None
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)  # its holder removed the file as we opened it: lock the one there now


def _release_port(fd: int, host: str, port: int) -> None:
    """Remove the lock file while still holding it (a waiter that opened it then sees it gone and
    retries on a fresh file: `_hold_port`), so no file is left behind per port ever served."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(_port_lock_path(host, port))
    os.close(fd)


def _port_lock_path(host: str, port: int) -> str:
    name = f"kubeship-port-{host.replace(':', '_').replace('/', '_')}-{port}.lock"
    return os.path.join(tempfile.gettempdir(), name)


def _check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ServeError(
                    f"port {port} on {host} is already in use; stop the other server or pass --port"
                ) from None
            raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _run_granian(options: ServeOptions, drain: DrainState, copies: ServedCopies | None = None) -> None:
    """Plain HTTP, or HTTPS from `copies` (renewed copies roll the workers: granian_tls.py)."""
    from granian.server import MPServer

    from kubeship.runtime.log import writer

    class DrainingServer(MPServer):
        draining = False

        def signal_handler_interrupt(self, signum: int | None = None, *args: Any, **kwargs: Any) -> None:
            if signum == signal.SIGTERM and not self.draining and options.drain_seconds > 0:
                self.draining = True
                start_drain(options, drain, then=super().signal_handler_interrupt)
                return
            writer.event("info", "stopping: closing listeners, finishing in-flight requests")
            super().signal_handler_interrupt()

    server = DrainingServer(options.target, **granian_options(options, copies))
    stop_watch = threading.Event()
    if copies is not None:
        from kubeship.runtime.granian_tls import retire_first, watch

        def respawn() -> None:
            if not server.draining and not server.interrupt_signal:
                for worker in list(server.wrks):
                    worker.terminate = retire_first(worker._id, worker.terminate)  # type: ignore[method-assign]
                server.signal_handler_reload()  # Granian's SIGHUP: a new worker, then the old one stops

        watch(copies, respawn, stop_watch)
    writer.event(
        "info",
        "serving",
        app=options.target,
        url=f"{'https' if copies else 'http'}://{options.host}:{options.port}",
        workers=options.workers,
        sched=options.sched,
        gc_young=gc.get_threshold()[0],  # as the workers have it (tune_collector)
        build=BUILD,  # compiled, or why not (compiled.py)
        pid=os.getpid(),
    )
    try:
        server.serve(target_loader=worker_app, wrap_loader=False)
    finally:
        stop_watch.set()
    writer.event("info", "stopped")


def granian_options(options: ServeOptions, copies: ServedCopies | None = None) -> dict[str, Any]:
    """Granian's settings (the benchmarks run bare apps with the same ones): plain HTTP, or HTTPS on
    the private copies of the certificate. mTLS is served by tls_server.py: Granian does not tell the
    app who the client is."""
    from granian.constants import HTTPModes, Interfaces, Loops, SSLProtocols, TaskImpl
    from granian.log import LogLevels

    tls: dict[str, Any] = {}
    if copies is not None:
        # TLS 1.2 as well, as Python's ssl side allows (Granian's own default is 1.3 only)
        tls = {"ssl_cert": copies.cert, "ssl_key": copies.key, "ssl_protocol_min": SSLProtocols.tls12}
    return {
        **tls,
        "address": options.host,
        "port": options.port,
        "interface": Interfaces.ASGI,
        "workers": options.workers,
        "loop": Loops.uvloop if has_uvloop() else Loops.asyncio,
        # Not TaskImpl.rust: faster, but anyio's to_thread (FastAPI's sync handlers) breaks under it.
        "task_impl": TaskImpl.asyncio,
        "http": HTTPModes.http1,
        "backlog": 2048,
        # Granian's backpressure is left at its default (backlog / workers): it counts connections, not
        # requests, so idle keep-alive connections from a proxy would take every slot and the next
        # connection, a kubelet probe's included, would wait unanswered. The runtime bounds requests.
        "log_level": LogLevels.warning,
        "workers_kill_timeout": max(1, math.ceil(options.shutdown_timeout)),
    }
