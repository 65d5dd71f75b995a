"""The audit trail: sensitive operations as hash-chained JSON records, apart from the access log.

One record per sensitive request (method + route template from the spec, e.g.
`DELETE /databases/{name}`) and per `audit(...)` call from the app: who
(token subject, client certificate identity, or anonymous), from where, what,
on which target, with which route parameters, the outcome, the request id,
and the service, version and pod. Never a body, token, header or secret.

Every record carries `seq` and `prev` (the previous record's `mac`) and its
own `mac`, an HMAC-SHA256 over its canonical JSON with a key from a mounted
Secret. Each process writes its own chain (`chain` = pod/pid/start) into one
append-only file, opening it with an `open` record and ending it with
`close`; every `CHECKPOINT_EVERY` records or `CHECKPOINT_SECONDS` a
`checkpoint` record is written and also logged on stdout, a second, separate
stream. `verify()` then finds an edited record (its mac), a deleted or
reordered one (seq and prev), a truncated tail (no `close`, or a checkpoint
in the log that the file no longer holds). A forger without the key can do
none of these unseen.

Durability over speed: the record is written (and fdatasync'ed) before the
response starts; if that fails, a sensitive request is answered 503 (fail
closed) unless the spec says fail open.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import hmac
import os
import queue
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from kubeship.errors import ConfigError
from kubeship.runtime.auth import token_subject
from kubeship.runtime.log import iso_now, writer
from kubeship.runtime.secrets import Secret, read_secret

GENESIS = "0" * 64
CHECKPOINT_EVERY = 1000
CHECKPOINT_SECONDS = 60.0
MAX_CONTEXT_VALUE = 256  # characters of one app-given context value; longer is cut, never a body


# -- the chain (pure) -------------------------------------------------------------


def canonical(record: Mapping[str, Any]) -> bytes:
    """The bytes the MAC covers: the record without `mac`, keys sorted."""
    return orjson.dumps({k: v for k, v in record.items() if k != "mac"}, option=orjson.OPT_SORT_KEYS)


def keyed(key: bytes) -> hmac.HMAC:
    """HMAC-SHA256 with `key` set up once: each MAC copies it (a third cheaper than hmac.digest,
    which sets the key up and looks SHA-256 up by name on every call)."""
    return hmac.new(key, digestmod="sha256")


def mac_of(canonical_bytes: bytes, key: hmac.HMAC) -> str:
    mac = key.copy()
    mac.update(canonical_bytes)
    return mac.hexdigest()


def sealed_line(record: Mapping[str, Any], key: hmac.HMAC) -> tuple[str, bytes]:
    """`record` (no `mac` yet) sealed, as (its MAC, its line): the canonical bytes serialised once
    and the MAC appended as the last key, so the line is `canonical(...)` of itself plus the MAC."""
    body = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    mac = mac_of(body, key)
    return mac, b'%b,"mac":"%b"}\n' % (body[:-1], mac.encode())


def key_id(key: bytes) -> str:
    """Names the key in each record (so a rotated key is found), without revealing it."""
    return hashlib.sha256(b"kubeship-audit-key-id:" + key).hexdigest()[:12]


@dataclass
class Problem:
    where: str  # file:line, or "" for the trail as a whole
    message: str


@dataclass
class Verdict:
    records: int = 0
    chains: int = 0
    open_chains: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    duplicates: int = 0  # identical copies of a record already seen (at-least-once shipping)

    @property
    def ok(self) -> bool:
        return not self.problems


DUPLICATE_WINDOW = 4096  # records per chain a resend can repeat (a shipper's in-flight batch is smaller)


def verify(
    lines: Iterable[tuple[str, int, bytes]],
    keys: Iterable[bytes],
    *,
    checkpoints: Iterable[Mapping[str, Any]] = (),
    live: bool = False,
) -> Verdict:
    """Check every chain in `lines` ((file, line number, raw line)); problems in file order.

    `checkpoints` are the `audit checkpoint` events from the separate log: each
    must still be in the file, or the tail was cut. `live`: the writers may
    still be running, so a chain without `close` is not a finding.
    """
    by_id = {key_id(k): keyed(k) for k in keys}
    verdict = Verdict()
    state: dict[str, tuple[int, str]] = {}  # chain → (last seq, last mac)
    closed: set[str] = set()
    checkpoints = [cp for cp in checkpoints if isinstance(cp.get("seq"), int)]
    wanted = {(str(cp.get("chain")), cp["seq"]) for cp in checkpoints}
    seen_macs: dict[tuple[str, int], str] = {}  # only the (chain, seq) a checkpoint names
    recent: dict[str, dict[int, str]] = {}  # chain → the last DUPLICATE_WINDOW (seq → mac)
    for source, number, raw in lines:
        where = f"{source}:{number}"
        if not raw.strip():
            continue
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            verdict.problems.append(Problem(where, "not a JSON record (edited or torn)"))
            continue
        if not isinstance(record, dict) or not {"chain", "seq", "prev", "mac", "kid"} <= record.keys():
            verdict.problems.append(
                Problem(where, "not an audit record (chain, seq, prev, kid or mac missing)")
            )
            continue
        verdict.records += 1
        chain, seq = str(record["chain"]), record["seq"]
        key = by_id.get(str(record["kid"]))
        if key is None:
            verdict.problems.append(
                Problem(where, f"sealed with key {record['kid']!r}, not given (--key-file)")
            )
            continue
        if not isinstance(seq, int):
            verdict.problems.append(Problem(where, f"chain {chain}: seq {seq!r} is not a number"))
            continue
        copies = recent.setdefault(chain, {})
        if (
            copies.get(seq) == record["mac"]
            and seq <= state[chain][0]
            and hmac.compare_digest(mac_of(canonical(record), key), copies[seq])
        ):
            # Sent again, byte for byte sealed the same: syslog over TCP resends what it cannot
            # know arrived, so a SIEM may hold a record twice. Not a change to the trail.
            verdict.duplicates += 1
            verdict.records -= 1
            continue
        if chain in closed:
            verdict.problems.append(
                Problem(where, f"chain {chain} seq {seq}: written after its close record")
            )
            continue
        expected = mac_of(canonical(record), key)
        if not hmac.compare_digest(expected, str(record["mac"])):
            # Reported, then followed as written: the next record still names its mac, so
            # one edit is one finding, not a cascade.
            verdict.problems.append(
                Problem(where, f"chain {chain} seq {seq}: edited (its MAC does not match)")
            )
            state[chain] = (seq, str(record["mac"]))
            continue
        last = state.get(chain)
        if last is None:
            if seq != 0 or record["prev"] != GENESIS:
                verdict.problems.append(
                    Problem(where, f"chain {chain} starts at seq {seq}: records 0-{seq - 1} were deleted")
                )
        elif seq != last[0] + 1:
            what = "deleted" if seq > last[0] + 1 else "reordered or duplicated"
            verdict.problems.append(
                Problem(where, f"chain {chain}: seq {seq} follows seq {last[0]}: records {what}")
            )
        elif record["prev"] != last[1]:
            verdict.problems.append(
                Problem(where, f"chain {chain} seq {seq}: does not follow the record before")
            )
        state[chain] = (seq, str(record["mac"]))
        copies[seq] = str(record["mac"])
        if len(copies) > DUPLICATE_WINDOW:
            del copies[next(iter(copies))]
        if (chain, seq) in wanted:
            seen_macs[(chain, seq)] = str(record["mac"])
        if record.get("kind") == "close":
            closed.add(chain)
    if verdict.records == 0 and not verdict.problems:
        verdict.problems.append(
            Problem(
                "",
                "no audit records at all (every chain starts with an open record): emptied, or not a trail",
            )
        )
    verdict.chains = len(state)
    for chain in state:
        if chain not in closed:
            verdict.open_chains.append(chain)
    for cp in checkpoints:
        chain, seq, mac = str(cp.get("chain")), cp["seq"], cp.get("mac")
        if seen_macs.get((chain, seq)) != mac:
            last = state.get(chain)
            where = f"the file ends at seq {last[0]}" if last else "the file has no record of it"
            verdict.problems.append(
                Problem(
                    "", f"chain {chain}: the log's checkpoint at seq {seq} is missing ({where}): truncated"
                )
            )
    if not live:
        for chain in verdict.open_chains:
            verdict.problems.append(
                Problem(
                    "",
                    f"chain {chain} ends at seq {state[chain][0]} without a close record: "
                    "truncated, or its process was killed (pass --live while it still runs)",
                )
            )
    return verdict


# -- what is sensitive ----------------------------------------------------------------

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}")


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]

    @classmethod
    def parse(cls, text: str) -> Operation:
        method, _, template = text.strip().partition(" ")
        template = template.strip()
        if not method.isalpha() or not template.startswith("/"):
            raise ConfigError(f"audit operation {text!r}: expected 'METHOD /route/{{param}}'")
        regex, pos = "", 0
        for m in _PARAM.finditer(template):
            regex += re.escape(template[pos : m.start()]) + f"(?P<{m.group(1)}>[^/]+)"
            pos = m.end()
        regex += re.escape(template[pos:])
        return cls(method.upper(), template, re.compile(regex + "/?"))

    @property
    def action(self) -> str:
        return f"{self.method} {self.template}"


def match(operations: Iterable[Operation], method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
    for op in operations:
        if op.method == method and (m := op.pattern.fullmatch(path)):
            return op, m.groupdict()
    return None


# -- the writer (one per process) ------------------------------------------------------


@dataclass
class AuditTrail:
    path: Path
    key_file: Path
    operations: tuple[Operation, ...] = ()
    fail_open: bool = False
    service: str | None = None
    version: str | None = None
    pod: str | None = None
    sync: bool = True  # fdatasync each record: durability over speed

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._fd = -1
        self._seq = 0
        self._prev = GENESIS
        self._since_checkpoint = 0
        self._last_checkpoint = time.monotonic()
        self.error: str | None = None
        key = self._read_key()
        self._key, self._kid = keyed(key), key_id(key)
        self.chain = ""
        # Group commit (append + durable): tickets of records written, the highest one a finished
        # fdatasync covers, the requests waiting for theirs, and the thread syncing for them.
        self._written = 0
        self._synced = 0
        self._waiters: list[tuple[int, asyncio.Future[bool]]] = []
        self._syncer: _Syncer | None = None

    def _read_key(self) -> bytes:
        key = read_secret(self.key_file).reveal().strip().encode()
        if len(key) < 32:
            raise ConfigError(
                f"{self.key_file}: audit key shorter than 32 characters; use a longer random key"
            )
        return key

    # -- lifecycle (per worker process) --
    def open(self) -> None:
        self.chain = f"{self.pod or os.uname().nodename}/{os.getpid()}/{int(time.time())}"
        self._stop_syncer()  # a forked worker's copy of its parent's is gone already
        self._seq, self._prev, self.error, self._fd = 0, GENESIS, None, -1
        self.write({"kind": "open"})

    def close(self) -> None:
        self._stop_syncer()  # before the fd goes: it may be syncing it
        if self._fd >= 0:
            self.write({"kind": "close"})
            os.close(self._fd)
            self._fd = -1

    @property
    def healthy(self) -> bool:
        return self.error is None

    # -- records --
    def write(self, fields: dict[str, Any]) -> bool:
        """Seal and append one record, durable on return; False (and `error` set) if it is not."""
        return self._append(fields, sync=self.sync) is not None

    def append(self, fields: dict[str, Any]) -> int | None:
        """Seal and append one record now (its place in the chain is taken), durable later: await
        `durable(ticket)` before answering. None (and `error` set) if it could not be written."""
        return self._append(fields, sync=False)

    def durable(self, ticket: int) -> asyncio.Future[bool]:
        """True once an fdatasync that began after the record with `ticket` was written has finished.
        Concurrent requests share one: a sync in flight gathers those written meanwhile for the next.
        A future, not a coroutine: one object less per request waiting (the hot path of an audit)."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        if not self.sync or ticket <= self._synced:
            waiter.set_result(True)
            return waiter
        self._waiters.append((ticket, waiter))
        syncer = self._syncer
        if syncer is None:
            syncer = self._syncer = _Syncer(self)
        syncer.want(loop)
        return waiter

    def _stop_syncer(self) -> None:
        if self._syncer is not None:
            self._syncer.stop()
            self._syncer = None

    def _synced_upto(self, upto: int, exc: OSError | None) -> None:
        """On the loop, after the syncer's fdatasync of the records up to ticket `upto`."""
        if exc is None:
            self._synced = max(self._synced, upto)
        else:
            self._failed(exc)
        ready = [w for t, w in self._waiters if t <= upto]
        self._waiters = [(t, w) for t, w in self._waiters if t > upto]
        for waiter in ready:
            if not waiter.done():
                waiter.set_result(exc is None)

    def _append(self, fields: dict[str, Any], *, sync: bool) -> int | None:
        with self._lock:
            record = {
                "time": iso_now(),
                "chain": self.chain,
                "seq": self._seq,
                "prev": self._prev,
                "kid": self._kid,
                "service": self.service,
                "version": self.version,
                "pod": self.pod,
                **fields,
            }
            mac, line = sealed_line(record, self._key)
            try:
                if self._fd < 0:  # never opened, or lost: try again, the mount may be back
                    self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
                os.write(self._fd, line)
                if sync:
                    os.fdatasync(self._fd)
            except OSError as exc:
                self._failed(exc)
                return None
            self.error = None
            self._written += 1
            ticket = self._written
            if sync:
                self._synced = max(self._synced, ticket)
            self._seq += 1
            self._prev = mac
            self._since_checkpoint += 1
            due = self._since_checkpoint >= CHECKPOINT_EVERY or (
                fields.get("kind") not in ("checkpoint", "open", "close")
                and time.monotonic() - self._last_checkpoint >= CHECKPOINT_SECONDS
            )
        if due:
            self.checkpoint()
        return ticket

    def checkpoint(self) -> None:
        """A record that anchors the chain, copied to the log: a cut tail is then detectable."""
        with self._lock:
            self._since_checkpoint = 0
            self._last_checkpoint = time.monotonic()
        if self.write({"kind": "checkpoint"}):
            writer.event("info", "audit checkpoint", chain=self.chain, seq=self._seq - 1, mac=self._prev)

    def _failed(self, exc: OSError) -> None:
        self.error = f"{self.path}: {exc.strerror or exc}"
        writer.event("error", "audit trail write failed", error=self.error, fail_open=self.fail_open)

    def status(self) -> dict[str, Any]:
        return {"error": self.error} if self.error else {"chain": self.chain, "seq": self._seq}


class _Syncer:
    """The thread that fdatasyncs a trail's records for the requests awaiting `durable`, one sync
    after the other while any is wanted: a record written during a sync waits for the next.

    Its own thread, not the loop's executor: the next sync begins as the last one ends, not once the
    busy loop has run the callback that ends it (fdatasync takes 0.1-0.2 ms here, yet the executor's
    syncs came 1.2 ms apart under load, and the worker idled waiting for them). It keeps the
    worker's SCHED_BATCH (runtime/serve.py): under the default policy it preempted the worker each
    time the disk woke it, for smaller groups (24 records a sync instead of 31) and less throughput
    (serve_tls.py's audited DELETE, 7 interleaved pairs of 4 s: 34.2k vs 37.5k requests/s, medians)."""

    def __init__(self, trail: AuditTrail) -> None:
        self.trail = trail
        self.loop: asyncio.AbstractEventLoop | None = None
        self.wanted = False  # a wake-up is queued that no sync has taken yet
        self.queue: queue.SimpleQueue[bool] = queue.SimpleQueue()  # True: sync; False: stop
        self.thread = threading.Thread(target=self._run, name="kubeship-audit-sync", daemon=True)
        self.thread.start()

    def want(self, loop: asyncio.AbstractEventLoop) -> None:
        """A request on `loop` awaits a record that no finished sync covers: one more sync is queued
        unless one is already (a sync begun since then may cover it: one sync too many, no harm)."""
        self.loop = loop
        if not self.wanted:
            self.wanted = True
            self.queue.put(True)

    def stop(self) -> None:
        self.queue.put(False)
        self.thread.join(5)

    def _run(self) -> None:
        trail = self.trail
        while self.queue.get():
            # Cleared before reading how far to sync: a record written after this read finds the
            # flag down and queues the next sync.
            self.wanted = False
            upto, fd = trail._written, trail._fd
            error: OSError | None = None
            try:
                os.fdatasync(fd)
            except OSError as exc:
                error = exc
            loop = self.loop
            if loop is not None:
                with contextlib.suppress(RuntimeError):  # that loop is closed: nobody is waiting
                    loop.call_soon_threadsafe(trail._synced_upto, upto, error)


def actor(scope: Mapping[str, Any]) -> dict[str, Any]:
    """Who: the token subject, else the client certificate identity, else anonymous."""
    subject = token_subject(scope)
    if subject:
        return {"type": "token", "id": str(subject)}
    tls = (scope.get("extensions") or {}).get("tls")
    if tls and tls.get("identity"):
        return {"type": "certificate", "id": tls["identity"]}
    return {"type": "anonymous"}


def request_fields(scope: Mapping[str, Any], rid: str) -> dict[str, Any]:
    client = scope.get("client")
    return {
        "actor": actor(scope),
        "source": client[0] if client else None,
        "request_id": rid,
    }


# -- audit() for the app ---------------------------------------------------------------


class RequestAudit:
    """What audit() needs of the request it is called in; `refused` once a fail-closed write failed."""

    __slots__ = ("refused", "rid", "scope", "trail")

    def __init__(self, trail: AuditTrail, scope: Mapping[str, Any], rid: str) -> None:
        self.trail, self.scope, self.rid = trail, scope, rid
        self.refused = False


_current: contextvars.ContextVar[RequestAudit | None] = contextvars.ContextVar(
    "kubeship_audit_request", default=None
)


def bind(request: RequestAudit) -> contextvars.Token[Any]:
    return _current.set(request)


def unbind(token: contextvars.Token[Any]) -> None:
    _current.reset(token)


def audit(action: str, *, target: str | None = None, **context: Any) -> None:
    """Record a sensitive operation the app performs, in the request's audit trail.

    >>> audit("db.drop", target="orders", reason="retention")  # doctest: +SKIP

    Context values are short scalars; a `Secret` is written as "[redacted]".
    Raises AuditUnavailable when the trail cannot take the record and the
    spec says fail closed: the operation should not go ahead unrecorded.
    """
    bound = _current.get()
    if bound is None:
        raise RuntimeError("audit() is called inside a request served with an audit trail (spec: audit)")
    trail, scope, rid = bound.trail, bound.scope, bound.rid
    record = {
        "kind": "app",
        "action": action,
        "target": target,
        "context": {k: _safe(v) for k, v in context.items()},
        **request_fields(scope, rid),
    }
    if not trail.write(record) and not trail.fail_open:
        bound.refused = True  # whatever the app answers now, the client gets 503
        raise AuditUnavailable(trail.error or "audit trail unavailable")


class AuditUnavailable(Exception):
    """The audit trail cannot record: a fail-closed operation must not proceed."""


def _safe(value: Any) -> Any:
    if isinstance(value, Secret):
        return "[redacted]"
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)
    return text if len(text) <= MAX_CONTEXT_VALUE else text[:MAX_CONTEXT_VALUE] + "…"


MAX_RECORD_BYTES = 1 << 20  # a record is a few hundred bytes; rsyslog forwards at most 64 KiB


def read_lines(paths: Iterable[Path]) -> Iterator[tuple[str, int, bytes]]:
    """(file, line number, line) of every line; a line past MAX_RECORD_BYTES is yielded cut (so it
    is reported as not a record) and the rest of it skipped, never held in memory whole."""
    for path in paths:
        with path.open("rb") as fh:
            number = 0
            while raw := fh.readline(MAX_RECORD_BYTES + 1):
                number += 1
                if len(raw) > MAX_RECORD_BYTES and not raw.endswith(b"\n"):
                    while (rest := fh.readline(MAX_RECORD_BYTES)) and not rest.endswith(b"\n"):
                        pass
                    raw = raw[:MAX_RECORD_BYTES]
                yield str(path), number, raw
