"""The runtime middleware: every production concern around any ASGI app, in one layer.

Each ASGI layer costs about a microsecond (a coroutine, a wrapped `send`), so
the concerns are composed in a single `__call__` rather than stacked. Their
order is fixed here and pinned by a test:

    request id  →  access log + metrics  →  recovery  →  health / readiness / metrics
                →  CORS  →  auth  →  the user's app

so a recovered exception is logged and counted as an ordinary 500, and probes
never need a token.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import os
import re
import traceback
from collections.abc import Awaitable, Callable, Iterable
from http import HTTPStatus
from time import perf_counter
from typing import Any

import orjson

from kubeship.names import HEALTH_PATH, METRICS_PATH, READY_PATH, REQUEST_ID_HEADER, UNMATCHED_ROUTE
from kubeship.runtime import metrics as metrics_mod
from kubeship.runtime.auth import AuthFailure
from kubeship.runtime.config import Config
from kubeship.runtime.context import current_config
from kubeship.runtime.cors import CorsPolicy
from kubeship.runtime.drain import DrainState
from kubeship.runtime.log import LogWriter, iso_now, writer
from kubeship.runtime.settings import RuntimeSettings
from kubeship.runtime.types import ASGIApp, Message, Receive, Scope, Send

ReadinessCheck = Callable[[], bool | Awaitable[bool]]

_RID_HEADER = REQUEST_ID_HEADER.encode()
_VALID_RID = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")  # refuse ids that could forge log lines
_OWN_PATHS = frozenset({HEALTH_PATH, READY_PATH, METRICS_PATH})
_JSON = (b"content-type", b"application/json")
_STATUS_TEXT = {s.value: str(s.value) for s in HTTPStatus}
UNKNOWN_ROUTE = "<unknown>"


class Runtime:
    """Wrap an ASGI app with the production middleware.

    >>> app = Runtime(my_fastapi_app, readiness={"db": db_is_up})  # doctest: +SKIP
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: RuntimeSettings | None = None,
        config: Config | None = None,
        readiness: dict[str, ReadinessCheck] | None = None,
        drain: DrainState | None = None,
        log: LogWriter = writer,
        metrics: metrics_mod.RedMetrics | None = None,
    ) -> None:
        self.app = app
        self.settings = settings if settings is not None else RuntimeSettings.from_env()
        self.config = config
        self.readiness = dict(readiness or {})
        self.drain = drain if drain is not None else DrainState()
        self.log = log
        self.metrics = metrics if metrics is not None else metrics_mod.RedMetrics()
        self._cors = self.settings.cors if self.settings.cors.enabled else None
        self._auth = self.settings.auth
        self._log_probes = self.settings.log_probes
        self._json_errors = self.settings.json_errors
        self._ids = itertools.count(1)
        self._id_prefix = ""
        self._pid = -1
        self._tick_pending = False

    # -- per process --------------------------------------------------------------
    def _process_start(self) -> None:
        """Once per worker process (after fork): fresh ids, watcher thread."""
        self._pid = os.getpid()
        self._id_prefix = os.urandom(6).hex() + "-"
        self._ids = itertools.count(1)
        if self.config is None:
            self.config = current_config()
        if self.config is not None:
            self.config.watch()

    def _tick(self) -> None:
        self._tick_pending = False
        self.metrics.flush()
        self.log.flush()

    def _process_stop(self) -> None:
        if self.config is not None:
            self.config.stop()
        self.metrics.process_exit()
        self.log.flush()

    # -- ASGI ---------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http":
            if kind == "lifespan":
                await self._lifespan(scope, receive, send)
            else:
                await self.app(scope, receive, send)  # websockets pass through
            return
        if self._pid != os.getpid():
            self._process_start()
        if not self._tick_pending:
            self._tick_pending = True
            asyncio.get_running_loop().call_later(metrics_mod.FLUSH_INTERVAL, self._tick)

        start = perf_counter()
        metrics = self.metrics
        metrics.in_flight += 1
        # 1. request id, and the other headers this layer needs, in one pass
        rid = origin = authz = None
        for name, value in scope["headers"]:
            if name == _RID_HEADER:
                rid = value
            elif name == b"origin":
                origin = value
            elif name == b"authorization":
                authz = value
        if rid is None or _VALID_RID.fullmatch(rid) is None:
            rid = f"{self._id_prefix}{next(self._ids):x}".encode()
        cors_headers = None
        if self._cors is not None and origin is not None:
            origin_text = origin.decode("latin-1")
            if self._cors.allows_origin(origin_text):
                cors_headers = self._cors.response_headers(origin_text)

        status = 0
        sent = 0
        started = finished = False
        rewrite: Message | None = None  # a plain-text error being turned into JSON

        async def send_wrapper(message: Message) -> None:
            nonlocal status, sent, started, finished, rewrite
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), (_RID_HEADER, rid)]
                if cors_headers is not None:
                    headers += cors_headers
                message["headers"] = headers
                started = True
                if status >= 400 and self._json_errors and _is_plain_text(headers):
                    rewrite = message  # held back until the body is complete
                    return
                await send(message)
                return
            if message.get("more_body"):
                if rewrite is not None:
                    return
            else:
                finished = True
                if rewrite is not None:
                    message = await self._json_error_body(rewrite, send, rid)
                    rewrite = None
            sent += len(message.get("body", b""))
            await send(message)

        path = scope["path"]
        error: str | None = None
        try:
            # 2.-3. access log, metrics and recovery wrap everything below
            if path in _OWN_PATHS:
                await self._own_endpoint(path, scope["method"], send_wrapper)
            elif self._cors is not None and origin is not None and _is_preflight(scope):
                await _preflight(self._cors, scope, origin, send_wrapper)
            elif self._auth is not None and not self._auth.is_public(path):
                try:
                    scope["auth"] = self._auth.authenticate(authz, path)
                except AuthFailure as failure:
                    await _send_json(
                        send_wrapper,
                        failure.status,
                        {"error": failure.reason, "request_id": rid.decode()},
                        [(b"www-authenticate", b'Bearer realm="kubeship"')] if failure.status == 401 else [],
                    )
                else:
                    await self.app(scope, receive, send_wrapper)
            else:
                await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            self.log.event(
                "error",
                "unhandled exception",
                request_id=rid.decode(),
                method=scope["method"],
                path=path,
                traceback=traceback.format_exc(),
            )
            if finished:
                pass  # the app answered before raising (Starlette sends its 500, then re-raises)
            elif started:
                raise  # a response is half out: let the server abort the connection
            else:
                await _send_json(
                    send_wrapper, 500, {"error": "internal server error", "request_id": rid.decode()}
                )
        finally:
            metrics.in_flight -= 1
            duration = perf_counter() - start
            route = _route_template(scope, path, status)
            method = scope["method"]
            metrics.record(method, route, _STATUS_TEXT.get(status) or str(status), duration)
            if self._log_probes or path not in _OWN_PATHS:
                client = scope.get("client")
                record = {
                    "time": iso_now(),
                    "level": "info",
                    "msg": "request",
                    "method": method,
                    "route": route,
                    "path": path,
                    "status": status,
                    "duration_ms": round(duration * 1000, 3),
                    "bytes": sent,
                    "request_id": rid.decode(),
                    "client": client[0] if client else None,
                }
                if error is not None:
                    record["error"] = error
                self.log.append(orjson.dumps(record) + b"\n")

    # -- the runtime's own endpoints ---------------------------------------------
    async def _own_endpoint(self, path: str, method: str, send: Send) -> None:
        if method not in ("GET", "HEAD"):
            await _send_json(send, 405, {"error": "method not allowed"}, [(b"allow", b"GET, HEAD")])
        elif path == HEALTH_PATH:
            await _send_json(send, 200, {"status": "ok"})
        elif path == READY_PATH:
            failed = await self.failed_readiness()
            if failed:
                await _send_json(send, 503, {"status": "not ready", "failed": failed})
            else:
                await _send_json(send, 200, {"status": "ready"})
        else:
            body = self.metrics.exposition()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", metrics_mod.CONTENT_TYPE.encode())],
                }
            )
            await send({"type": "http.response.body", "body": body})

    async def failed_readiness(self) -> list[str]:
        """Names of failing readiness checks; `draining` first when draining."""
        failed = ["draining"] if self.drain.draining else []
        for name, check in self.readiness.items():
            try:
                result = check()
                if inspect.isawaitable(result):
                    result = await result
            except Exception as exc:
                self.log.event("warning", "readiness check raised", check=name, error=repr(exc))
                result = False
            if not result:
                failed.append(name)
        return failed

    async def _json_error_body(self, start: Message, send: Send, rid: bytes) -> Message:
        status = start["status"]
        body = orjson.dumps({"error": _reason(status), "status": status, "request_id": rid.decode()})
        headers = [
            (k, v) for k, v in start["headers"] if k.lower() not in (b"content-type", b"content-length")
        ]
        start["headers"] = [*headers, _JSON, (b"content-length", str(len(body)).encode())]
        await send(start)
        return {"type": "http.response.body", "body": body}

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def receive_wrapper() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup" and self._pid != os.getpid():
                self._process_start()
            elif message["type"] == "lifespan.shutdown":
                self._process_stop()
            return message

        await self.app(scope, receive_wrapper, send)


def wrap(app: ASGIApp, **kwargs: Any) -> Runtime:
    """`Runtime(app, **kwargs)`, unless `app` is wrapped already."""
    return app if isinstance(app, Runtime) else Runtime(app, **kwargs)


def _route_template(scope: Scope, path: str, status: int) -> str:
    """The route the framework matched, never the raw path (bounded cardinality)."""
    if path in _OWN_PATHS:
        return path
    route = scope.get("route")  # Starlette, FastAPI
    if route is not None:
        template: str | None = getattr(route, "path_format", None) or getattr(route, "path", None)
        if template is not None:
            # Routes inside a Mount are relative to it; the mount prefix is in root_path.
            return scope.get("root_path", "") + template if scope.get("root_path") else template
    template = scope.get("path_template")  # Litestar
    if isinstance(template, str):
        return template
    return UNMATCHED_ROUTE if status in (404, 405) else UNKNOWN_ROUTE


async def _preflight(cors: CorsPolicy, scope: Scope, origin: bytes, send: Send) -> None:
    method = req_headers = ""
    for name, value in scope["headers"]:
        if name == b"access-control-request-method":
            method = value.decode("latin-1")
        elif name == b"access-control-request-headers":
            req_headers = value.decode("latin-1")
    status, headers = cors.preflight(origin.decode("latin-1"), method, req_headers)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def _is_preflight(scope: Scope) -> bool:
    if scope["method"] != "OPTIONS":
        return False
    return any(name == b"access-control-request-method" for name, _ in scope["headers"])


def _is_plain_text(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name.lower() == b"content-type":
            return value.startswith(b"text/plain")
    return False


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return "error"


async def _send_json(
    send: Send, status: int, payload: dict[str, Any], extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = orjson.dumps(payload)
    headers = [_JSON, (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
