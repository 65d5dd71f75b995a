"""The runtime middleware: every production concern around any ASGI app, in one layer.

Each ASGI layer costs about a microsecond (a coroutine, a wrapped `send`), so
the concerns are composed in a single `__call__` rather than stacked. Their
order is fixed here and pinned by a test:

    request id  →  access log + metrics  →  recovery  →  health / readiness
                →  client certificate (mTLS)  →  metrics  →  CORS  →  auth  →  the user's app

so a recovered exception is logged and counted as an ordinary 500, and probes
never need a token or a client certificate (the kubelet has neither).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import re
import traceback
from collections.abc import Awaitable, Callable, Iterable
from http import HTTPStatus
from time import perf_counter, time
from typing import Any

import orjson

from kubeship.names import HEALTH_PATH, METRICS_PATH, READY_PATH, REQUEST_ID_HEADER, UNMATCHED_ROUTE
from kubeship.runtime import audit as audit_mod
from kubeship.runtime import frameworks
from kubeship.runtime import metrics as metrics_mod
from kubeship.runtime.auth import AuthFailure, AuthPolicy, token_subject
from kubeship.runtime.config import Config
from kubeship.runtime.context import current_config
from kubeship.runtime.cors import CorsPolicy
from kubeship.runtime.drain import DrainState
from kubeship.runtime.gate import Gate, wait_turn
from kubeship.runtime.log import MILLIS, LogWriter, iso_time, second_text, writer
from kubeship.runtime.settings import RuntimeSettings
from kubeship.runtime.tls import serving_context
from kubeship.runtime.types import ASGIApp, Message, Receive, Scope, Send

ReadinessCheck = Callable[[], bool | Awaitable[bool]]

_RID_HEADER = REQUEST_ID_HEADER.encode()
_VALID_RID = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")  # refuse ids that could forge log lines
_WANTED = {_RID_HEADER: 0, b"origin": 1, b"authorization": 2}  # the request headers this layer reads
_OWN_PATHS = frozenset({HEALTH_PATH, READY_PATH, METRICS_PATH})
_PROBE_PATHS = frozenset({HEALTH_PATH, READY_PATH})
_JSON = (b"content-type", b"application/json")
UNKNOWN_ROUTE = "<unknown>"
CLIENT_GONE = 499  # logged for a request dropped from the queue: nginx's "client closed request"
_BATCH = 256  # finished requests folded at once
# A finished request as the batch keeps it: end and duration (perf_counter seconds), method, path,
# route, status, bytes sent, request id, error, client, user, peer. The times and the id typed, so
# compiled code works on them natively; the rest is as the server or the app gave it.
Finished = tuple[float, float, Any, Any, Any, Any, Any, bytes, Any, Any, Any, Any]


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
        self._clients = self.settings.clients if self.settings.clients.enabled else None
        self._audit = self.settings.audit
        self._log_probes = self.settings.log_probes
        self._access_log = self.settings.access_log
        self._json_errors = self.settings.json_errors
        limit = self.settings.max_concurrency
        self._gate = Gate(limit) if limit is not None else None
        headers = self.settings.security_headers
        self._security = headers.plan() if headers is not None else None
        self._last_id = 0
        self._id_prefix = b""
        self._process_ready = False
        self._armed = False
        self._retiring = False  # this worker is being replaced: see retire()
        self._answered_errors = False  # the app answers its own exceptions and says so: see frameworks
        self.in_flight = 0
        self._done: list[Finished] = []  # finished requests: see the end of __call__
        os.register_at_fork(after_in_child=self._after_fork)

    # -- per process --------------------------------------------------------------
    def _process_start(self) -> None:
        """Once per worker process (after fork): fresh ids, watcher thread."""
        self._process_ready = True
        self._id_prefix = os.urandom(6).hex().encode() + b"-"
        self._last_id = 0
        if self.config is None:
            self.config = current_config()
        if self.config is not None:
            self.config.watch()
        if self._audit is not None:
            self._audit.open()
        if self._json_errors:  # the runtime answers the app's 500s: a framework's own layer for it is shed
            frameworks.shed_duplicate_recovery(self.app)
        self._answered_errors = frameworks.report_answered_errors(self.app)

    def retire(self) -> None:
        """This worker is about to be replaced (a renewed certificate): each connection closes after
        its next response, so clients reconnect to the new worker rather than lose a request sent on
        a kept-alive connection just as this worker stops."""
        self._retiring = True

    def _after_fork(self) -> None:
        self._process_ready = False
        self._armed = False
        self._done = []

    def _arm(self) -> None:
        """Before the first request of a tick: start the process once, schedule the fold."""
        if not self._process_ready:
            self._process_start()
        self._armed = True
        asyncio.get_running_loop().call_later(metrics_mod.FLUSH_INTERVAL, self._tick)

    def _tick(self) -> None:
        self._armed = False
        self._fold()
        self.metrics.flush()
        self.log.flush()

    def _process_stop(self) -> None:
        if self.config is not None:
            self.config.stop()
        if self._audit is not None:
            self._audit.close()
        self._fold()
        self.metrics.process_exit()
        self.log.flush()

    # -- ASGI ---------------------------------------------------------------------
    # The hot path below is written for speed (locals over attributes, no
    # coroutine per `send`): it is the whole per-request cost of the runtime.
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self._lifespan(scope, receive, send)
            else:
                await self.app(scope, receive, send)  # websockets pass through
            return
        if not self._armed:
            self._arm()

        start = perf_counter()
        self.in_flight += 1
        # 1. request id, and the other headers this layer needs, in one pass
        rid_bytes = origin = authz = None
        for header in scope["headers"]:
            # Indexed, not unpacked: compiled, unpacking a header (a tuple or a list, ASGI allows
            # either) iterates it, and most headers are not looked at past their name.
            wanted = _WANTED.get(header[0])  # one lookup a header, not three comparisons
            if wanted is None:
                continue
            value = header[1]
            if wanted == 0:
                rid_bytes = value
            elif wanted == 1:
                origin = value
            else:
                authz = value
        if rid_bytes is None or _VALID_RID.fullmatch(rid_bytes) is None:
            self._last_id += 1  # in decimal: a native int's text, where a %x format is a generic call
            rid_bytes = self._id_prefix + str(self._last_id).encode()
        # As text only where a body or an event says it (errors, audit): not per request.
        rid_header = (_RID_HEADER, rid_bytes)
        cors = self._cors
        cors_headers = None
        if cors is not None and origin is not None:
            origin_text = origin.decode("latin-1")
            if cors.allows_origin(origin_text):
                cors_headers = cors.response_headers(origin_text)

        trail = self._audit
        bound = None
        refuse_unaudited = False
        if trail is not None:
            request_audit = audit_mod.RequestAudit(trail, scope, rid_bytes.decode())
            bound = audit_mod.bind(request_audit)
            hit = audit_mod.match(trail.operations, scope["method"], scope["path"])
            send = _AuditedSend(send, request_audit, hit)
            refuse_unaudited = hit is not None and not trail.healthy and not trail.fail_open

        status = 0
        sent = 0
        finished = False
        held: Message | None = None  # a plain-text error response being turned into JSON
        json_errors = self._json_errors
        security = self._security
        https = scope.get("scheme") == "https"

        def send_wrapper(message: Message) -> Awaitable[None]:
            # A plain function returning send's awaitable: no extra coroutine per message.
            nonlocal status, sent, finished, held
            kind: str = message["type"]  # typed: compiled, compared as text, not as any object
            if kind == "http.response.start":
                status = message["status"]
                headers = message["headers"] = [*message.get("headers", ())]
                if security is not None:
                    security.add(headers, https)  # looks at the app's own headers only
                headers.append(rid_header)
                if cors_headers is not None:
                    headers += cors_headers
                if self._retiring:
                    headers.append((b"connection", b"close"))
                if status >= 400 and json_errors and _is_plain_text(headers):
                    held = message  # sent with a JSON body once the original body is complete
                    return _done()
                return send(message)
            more = message.get("more_body", False)
            if held is not None:
                if more:
                    return _done()
                start_message, held = held, None
                finished = True
                body = _json_error(start_message, rid_bytes.decode())
                sent += len(body)
                return _send_both(send, start_message, body)
            if not more:
                finished = True
            sent += len(message.get("body", b""))
            return send(message)

        path = scope["path"]
        own = path in _OWN_PATHS  # the runtime's own endpoint: answered here, its path its route
        error = None
        try:
            # 2.-3. access log, metrics and recovery wrap everything below
            if refuse_unaudited:
                await _send_json(send_wrapper, 503, _UNAUDITED | {"request_id": rid_bytes.decode()})
            elif (
                self._clients is not None
                and path not in _PROBE_PATHS
                and (refused := self._clients.check(scope, path)) is not None
            ):
                await _send_json(send_wrapper, refused[0], {**refused[1], "request_id": rid_bytes.decode()})
            elif own:
                await self._own_endpoint(path, scope["method"], send_wrapper)
            elif cors is not None and origin is not None and _is_preflight(scope):
                await _preflight(cors, scope, origin, send_wrapper)
            elif (
                self._auth is not None
                and (failure := _authenticate(self._auth, scope, authz, path)) is not None
            ):
                await _send_json(
                    send_wrapper,
                    failure.status,
                    {"error": failure.reason, "request_id": rid_bytes.decode()},
                    [(b"www-authenticate", b'Bearer realm="kubeship"')] if failure.status == 401 else [],
                )
            elif (gate := self._gate) is None:
                await self.app(scope, receive, send_wrapper)
            elif gate.try_enter():
                try:
                    await self.app(scope, receive, send_wrapper)
                finally:
                    gate.leave()
            # queued: the wait counts in the request's duration (the access log shows it)
            elif (replay := await wait_turn(gate, receive)) is None:
                status = CLIENT_GONE  # left while queued: nothing served
            else:
                try:
                    await self.app(scope, replay, send_wrapper)
                finally:
                    replay.close()
                    gate.leave()
        except Exception as exc:
            rid = rid_bytes.decode()
            error = self._log_unhandled(exc, rid, scope["method"], path)
            if finished:
                pass  # the app answered before raising (Starlette sends its 500, then re-raises)
            elif status:
                raise  # a response is half out: let the server abort the connection
            elif isinstance(exc, audit_mod.AuditUnavailable):
                await _send_json(send_wrapper, 503, _UNAUDITED | {"request_id": rid})
            else:
                await _send_json(send_wrapper, 500, _error_body(500, rid))
        finally:
            if bound is not None:
                audit_mod.unbind(bound)
            if status >= 500 and error is None and self._answered_errors:
                answered = scope.pop(frameworks.ANSWERED_ERROR, None)  # its traceback holds the scope
                if isinstance(answered, BaseException):  # answered by the app, logged here all the same
                    error = self._log_unhandled(answered, rid_bytes.decode(), scope["method"], path)
            end = perf_counter()
            self.in_flight -= 1
            # Logging and metrics happen in batches (`_fold`): per request, one tuple of what they
            # read, never the scope: a framework's scope holds its request's object graph (FastAPI's
            # route, app, dependency state), which would then outlive the young GC generation and be
            # promoted, making every later collection walk it.
            extensions = scope.get("extensions")
            tls = extensions.get("tls") if extensions is not None else None
            route = path if own else _route_template(scope, status)
            done = self._done
            done.append((
                end, end - start, scope["method"], path, route, status, sent, rid_bytes, error,
                scope.get("client"), token_subject(scope), tls.get("identity") if tls else None,
            ))  # fmt: skip
            if len(done) >= _BATCH:
                self._fold()

    def _log_unhandled(self, exc: BaseException, rid: str, method: Any, path: Any) -> str:
        """The error event of an exception the app did not handle; its text for the access log."""
        self.log.event(
            "error",
            "unhandled exception",
            request_id=rid,
            method=method,
            path=path,
            traceback="".join(traceback.format_exception(exc)),
        )
        return f"{type(exc).__name__}: {exc}"

    def _fold(self) -> None:
        """Turn finished requests into metric counts and access-log lines, all at once.

        Done per batch rather than per request because a tight loop over a
        few hundred records runs at about half the cost per record of the same
        work interleaved with the server's I/O.
        """
        self.metrics.in_flight = self.in_flight
        done, self._done = self._done, []
        if not done:
            return
        by_labels: dict[tuple[str, str, int], list[float]] = {}  # (method, route, status) → durations
        for record in done:
            labels = (record[2], record[4], record[5])
            durations = by_labels.get(labels)
            if durations is None:
                by_labels[labels] = [record[1]]
            else:
                durations.append(record[1])
        record_many = self.metrics.record_many
        for (method, route, status), durations in by_labels.items():
            record_many(method, route, status, durations)
        if self._access_log:
            skip = frozenset() if self._log_probes else _OWN_PATHS
            lines = access_lines(done, time() - perf_counter(), skip)
            if lines:
                self.log.append(lines)

    # -- the runtime's own endpoints ---------------------------------------------
    async def _own_endpoint(self, path: str, method: str, send: Send) -> None:
        if method not in ("GET", "HEAD"):
            await _send_json(send, 405, {"error": "method not allowed"}, [(b"allow", b"GET, HEAD")])
        elif path == HEALTH_PATH:
            await _send_json(send, 200, {"status": "ok"})
        elif path == READY_PATH:
            failed = await self.failed_readiness()
            ready: dict[str, Any] = {"status": "not ready", "failed": failed} if failed else {}
            tls = serving_context()
            if tls is not None and tls.error is not None:
                ready["tls"] = tls.status()  # still serving, on the last good certificate
            await _send_json(send, 503 if failed else 200, ready or {"status": "ready"})
        else:
            self._fold()
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

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def receive_wrapper() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup" and not self._process_ready:
                self._process_start()
            elif message["type"] == "lifespan.shutdown":
                self._process_stop()
            return message

        await self.app(scope, receive_wrapper, send)


_UNAUDITED = {"error": "the audit trail cannot record this operation; refused (fail closed)"}


def _authenticate(auth: AuthPolicy, scope: Scope, authz: bytes | None, path: str) -> AuthFailure | None:
    """Claims into scope["auth"] (a public path needs none); → why the request is refused, if it is."""
    if auth.is_public(path):
        return None
    try:
        scope["auth"] = auth.authenticate(authz, path)
    except AuthFailure as failure:
        # Without its traceback: from source, the traceback's frame holds `failure`, a cycle.
        return failure.with_traceback(None)
    return None


class _AuditedSend:
    """`send` that writes the audit record of a sensitive request before its response starts,
    and answers 503 instead when that record (or an `audit()` call) could not be written.

    A class, not closures: compiled, nested functions that call each other share an environment
    that holds each of them, a reference cycle per request left to the collector with the request's
    scope in it (tests/runtime/test_garbage.py)."""

    def __init__(
        self,
        send: Send,
        request: audit_mod.RequestAudit,
        hit: tuple[audit_mod.Operation, dict[str, str]] | None,
    ) -> None:
        self.send = send
        self.request = request
        self.hit = hit
        self.replaced = False

    def __call__(self, message: Message) -> Awaitable[None]:
        request = self.request
        if message["type"] == "http.response.start":
            if self.hit is not None:
                op, params = self.hit
                trail, scope = request.trail, request.scope
                record = {
                    "kind": "request",
                    "action": op.action,
                    "target": scope["path"],
                    "params": params,
                    "outcome": message["status"],
                    **audit_mod.request_fields(scope, request.rid),
                }
                ticket = trail.append(record)  # its place in the chain now; durable below
                if ticket is None and not trail.fail_open:
                    return self._refuse()
                if ticket is not None and not request.refused:
                    return self._when_durable(ticket, message)
            if request.refused:
                return self._refuse()  # the app went on after audit() could not record
            return self.send(message)
        if self.replaced:
            return _done()  # the app's body is dropped: its status was never confirmed to the client
        return self.send(message)

    async def _when_durable(self, ticket: int, message: Message) -> None:
        # The response starts only once the record is on disk; concurrent requests share the sync.
        trail = self.request.trail
        if await trail.durable(ticket) or trail.fail_open:
            await self.send(message)
        else:
            await self._refuse()

    def _refuse(self) -> Awaitable[None]:
        self.replaced = True
        rid, trail = self.request.rid, self.request.trail
        writer.event("error", "audit record not written; answering 503", request_id=rid, error=trail.error)
        body = orjson.dumps(_UNAUDITED | {"request_id": rid})
        headers = [_JSON, (b"content-length", str(len(body)).encode())]
        return _send_both(self.send, {"type": "http.response.start", "status": 503, "headers": headers}, body)


def wrap(app: ASGIApp, **kwargs: Any) -> Runtime:
    """`Runtime(app, **kwargs)`, unless `app` is wrapped already."""
    return app if isinstance(app, Runtime) else Runtime(app, **kwargs)


# The access line built from text pieces, the batch encoded once: a bytes %-format of its eleven
# fields cost about 4,500 instructions a line, most of the access log. Every field a client or an app
# can shape goes through orjson (quotes, control characters, non-ASCII); the request id is one the
# runtime made or checked against _VALID_RID.
_THOUSANDTHS = tuple(f"{n:03d}" for n in range(1000))
_QUOTED: dict[str, str] = {}  # method, route, client address → their JSON text: few distinct values
# (behind an ingress the clients are its few pods)
_QUOTED_PATHS: dict[str, str] = {}  # paths, apart: those with ids in them would crowd the others out
_QUOTED_MAX = 4096  # past it (a client inventing methods) each one is quoted afresh
_QUOTED_LEN = 256  # nor a longer one: Granian passes a 60 KB method through, 4,096 of them held 0.5 GB


def _quoted(text: Any, cache: dict[str, str] = _QUOTED) -> str:
    quoted = orjson.dumps(text, default=str).decode()
    if len(cache) < _QUOTED_MAX and isinstance(text, str) and len(text) <= _QUOTED_LEN:
        cache[text] = quoted
    return quoted


def access_lines(done: list[Finished], wall_offset: float, skip: frozenset[str]) -> bytes:
    """The JSON access-log lines of finished requests (the tuples `Runtime.__call__` appends),
    leaving out those whose path is in `skip`; `wall_offset` turns perf_counter into wall time."""
    lines: list[str] = []
    dumps = orjson.dumps
    quoted = _QUOTED
    paths = _QUOTED_PATHS
    millis = MILLIS
    thousandths = _THOUSANDTHS
    second = top = 0.0  # the whole second the last line fell in, and the next one
    head = ""
    for end, duration, method, path, route, status, sent, rid, error, client, user, peer in done:
        if path in skip:
            continue
        wall = end + wall_offset
        if not second <= wall < top:  # lines come in the order requests ended: rarely
            second = float(int(wall))
            top = second + 1
            head = '{"time":"' + second_text(second)
        try:
            if type(status) is not int or type(sent) is not int:
                raise TypeError("not a number")  # an app's odd status: written as text below
            micros = int(duration * 1_000_000)
            line = (
                f'{head}{millis[int((wall - second) * 1000)]}","level":"info","msg":"request",'
                f'"method":{quoted.get(method) or _quoted(method)},'
                f'"route":{quoted.get(route) or _quoted(route)},'
                f'"path":{paths.get(path) or _quoted(path, paths)},'
                f'"status":{status},"duration_ms":{micros // 1000}.{thousandths[micros % 1000]},'
                f'"bytes":{sent},"request_id":"{rid.decode()}",'
                f'"client":{(quoted.get(client[0]) or _quoted(client[0])) if client else "null"}'
            )
            if user is not None:
                line += ',"user":' + dumps(user, default=str).decode()
            if peer:
                line += ',"peer":' + dumps(peer, default=str).decode()
            if error is not None:
                line += ',"error":' + dumps(error).decode()
        except TypeError:  # orjson refuses a lone surrogate; a status or size that is no number
            line = _access_line_of_odd_values(
                wall, duration, method, path, route, status, sent, rid.decode(), error, client, user, peer
            )
        lines.append(line)
    if not lines:
        return b""
    lines.append("")
    return "}\n".join(lines).encode()


def _access_line_of_odd_values(wall: float, duration: float, *fields: Any) -> str:
    """The access line when a value is not what ASGI promises (a server passing undecodable bytes
    through as surrogates, a status that is no int): each string made valid, the rest as text."""
    method, path, route, status, sent, rid, error, client, user, peer = fields
    record = {
        "time": iso_time(wall),
        "level": "info",
        "msg": "request",
        "method": method,
        "route": route,
        "path": path,
        "status": status,
        "duration_ms": int(duration * 1_000_000) / 1000,
        "bytes": sent,
        "request_id": rid,
        "client": client[0] if client else None,
        **({"user": user} if user is not None else {}),
        **({"peer": peer} if peer else {}),
        **({"error": error} if error is not None else {}),
    }
    valid = {k: v.encode("utf-8", "replace").decode() if isinstance(v, str) else v for k, v in record.items()}
    return orjson.dumps(valid, default=str)[:-1].decode()  # without the "}" the lines are joined with


def _route_template(scope: Scope, status: int) -> str:
    """The route the framework matched, never the raw path (bounded cardinality)."""
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


def _json_error(start: Message, rid: str) -> bytes:
    """Turn a held plain-text error into JSON with the request id; returns the new body."""
    status = start["status"]
    body = orjson.dumps(_error_body(status, rid))
    headers = [(k, v) for k, v in start["headers"] if k.lower() not in (b"content-type", b"content-length")]
    start["headers"] = [*headers, _JSON, (b"content-length", str(len(body)).encode())]
    return body


async def _send_both(send: Send, start: Message, body: bytes) -> None:
    await send(start)
    await send({"type": "http.response.body", "body": body})


async def _done() -> None:
    return None


def _is_plain_text(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name.lower() == b"content-type":
            return value.startswith(b"text/plain")
    return False


def _error_body(status: int, rid: str) -> dict[str, Any]:
    """An error's JSON: the same whether the runtime answered or turned a framework's text into it."""
    return {"error": _reason(status), "status": status, "request_id": rid}


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
