"""TLS and mTLS that follow certificate rotation, and the client's identity.

cert-manager renews a certificate into its Secret; the kubelet swaps the
mount's `..data` link; nothing tells the process. `RotatingContext` is an
`ssl.SSLContext` whose every new connection (server or client side) is
wrapped by the newest good context built from the files: it re-reads them
when their fingerprint changes (checked at most every `RECHECK_SECONDS`), so
connections opened after a renewal see the new certificate and CA, open ones
finish on the old, and no process restarts. A broken or mismatched pair (a
half-written mount, a key from another certificate) keeps the last good
context and is reported once in the log and on /readyz.

Server side, client certificates are *optional* at the handshake: one that is
presented must chain to the CA or the handshake fails, but none at all is let
through so that the kubelet's HTTPS probes (which cannot present one) reach
/healthz and /readyz. The runtime then refuses every other path without a
verified certificate (401), and applies the per-path identity rules (403).
"""

from __future__ import annotations

import os
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kubeship.errors import ConfigError
from kubeship.names import ENV_TLS_CERT, ENV_TLS_CLIENT_CA, ENV_TLS_KEY
from kubeship.runtime.config import Fingerprint, fingerprint
from kubeship.runtime.log import writer

RECHECK_SECONDS = 2.0


@dataclass(frozen=True)
class TlsFiles:
    """The mounted files: this side's certificate and key, and the CA bundle to trust."""

    cert: Path
    key: Path
    ca: Path | None = None

    def paths(self) -> tuple[Path, ...]:
        return (self.cert, self.key) if self.ca is None else (self.cert, self.key, self.ca)


def build_context(files: TlsFiles, *, server: bool, shown: TlsFiles | None = None) -> ssl.SSLContext:
    """A fresh context from the files, or ConfigError saying which file and what is wrong (named as
    in `shown` when the files are copies of those)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    named = shown or files
    try:
        ctx.load_cert_chain(str(files.cert), str(files.key))
    except FileNotFoundError as exc:
        raise ConfigError(f"{exc.filename}: TLS file not found") from None
    except ssl.SSLError as exc:
        mismatch = "MISMATCH" in str(exc)
        reason = "the key does not belong to the certificate" if mismatch else exc.reason or str(exc)
        raise ConfigError(f"{named.cert}, {named.key}: not a usable certificate and key ({reason})") from None
    if files.ca is not None:
        try:
            ctx.load_verify_locations(cafile=str(files.ca))
        except FileNotFoundError:
            raise ConfigError(f"{files.ca}: TLS file not found") from None
        except ssl.SSLError as exc:
            raise ConfigError(f"{files.ca}: not a PEM CA bundle ({exc.reason})") from None
        # Optional on the server: see the module docstring (probes carry no certificate).
        ctx.verify_mode = ssl.CERT_OPTIONAL if server else ssl.CERT_REQUIRED
    elif not server:
        ctx.load_default_certs()
    return ctx


class RotatingContext(ssl.SSLContext):
    """An SSLContext that wraps each new connection with the newest good context from `files`."""

    files: TlsFiles
    server: bool

    def __new__(cls, files: TlsFiles, *, server: bool = True) -> RotatingContext:
        self = super().__new__(cls, ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
        return self

    def __init__(self, files: TlsFiles, *, server: bool = True) -> None:
        self.files = files
        self.server = server
        self._lock = threading.Lock()
        self._fingerprint = self._fingerprint_now()
        self._current = build_context(files, server=server)  # start-up fails loudly, not later
        self._next_check = time.monotonic() + RECHECK_SECONDS
        self.error: str | None = None  # why the files on disk are not the ones served
        self.loaded_at = time.time()

    # asyncio, uvloop and anyio wrap with wrap_bio; blocking clients with wrap_socket.
    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        return self.current().wrap_bio(*args, **kwargs)

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        return self.current().wrap_socket(*args, **kwargs)

    def current(self) -> ssl.SSLContext:
        """The context for a new connection, re-read first if the files changed."""
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + RECHECK_SECONDS
            self.reload()
        return self._current

    def reload(self) -> bool:
        """Re-read the files if they changed; True when a new context is now in use."""
        with self._lock:
            seen = self._fingerprint_now()
            if seen == self._fingerprint:
                return False
            self._fingerprint = seen
            try:
                fresh = build_context(self.files, server=self.server)
            except ConfigError as exc:
                self.error = str(exc)
                writer.event("error", "TLS reload failed; serving the last good certificate", error=str(exc))
                return False
            self._current = fresh
            self.error = None
            self.loaded_at = time.time()
        writer.event("info", "TLS certificate reloaded", cert=str(self.files.cert))
        return True

    def status(self) -> dict[str, Any]:
        """For /readyz: still serving, but on what."""
        out: dict[str, Any] = {"loaded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.loaded_at))}
        if self.error is not None:
            out["error"] = self.error
        return out

    def _fingerprint_now(self) -> Fingerprint:
        return tuple(entry for path in self.files.paths() for entry in fingerprint(path))


# -- the client's identity -------------------------------------------------------


def identity(peercert: Mapping[str, Any] | None) -> str | None:
    """Who the verified peer is: its URI SAN (a SPIFFE ID), else DNS SAN, else e-mail, else subject CN,
    else the whole subject; None only when no certificate was verified."""
    if not peercert:
        return None
    sans = peercert.get("subjectAltName", ())
    for wanted in ("URI", "DNS", "email"):
        for kind, value in sans:
            if kind == wanted:
                return str(value)
    for rdn in peercert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return subject_name(peercert)


def subject_name(peercert: Mapping[str, Any]) -> str:
    """The subject as an RFC 4514 string, most specific part first."""
    rdns = reversed(peercert.get("subject", ()))
    return ",".join(f"{_RFC4514.get(k, k)}={v}" for rdn in rdns for k, v in rdn)


_RFC4514 = {
    "commonName": "CN",
    "organizationName": "O",
    "organizationalUnitName": "OU",
    "countryName": "C",
    "localityName": "L",
    "stateOrProvinceName": "ST",
}


def tls_extension(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> dict[str, Any] | None:
    """The ASGI TLS extension for one connection (computed once, at the handshake)."""
    if ssl_object is None:
        return None
    peer = ssl_object.getpeercert()
    der = ssl_object.getpeercert(binary_form=True)
    cipher = ssl_object.cipher()
    version = ssl_object.version()
    return {
        "server_cert": None,
        "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)] if der else [],
        "client_cert_name": subject_name(peer) if peer else None,
        "client_cert_error": None,
        "tls_version": _TLS_VERSIONS.get(version or ""),
        "cipher_suite": None,
        "cipher_name": cipher[0] if cipher else None,
        "identity": identity(peer),  # kubeship's addition: the name rules and logs use
    }


_TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


def client_identity(scope: Mapping[str, Any]) -> str | None:
    """The verified client certificate's identity for this request, if any.

    >>> client_identity(request.scope)  # doctest: +SKIP
    'spiffe://cluster.local/ns/shop/sa/billing'
    """
    tls = scope.get("extensions", {}).get("tls")
    return tls.get("identity") if tls else None


class TlsStatus(Protocol):
    """What /readyz reports of the certificate served: `RotatingContext` (Python's ssl) or
    `granian_tls.StatusFile` (the supervisor's copies for Granian)."""

    @property
    def error(self) -> str | None: ...

    def status(self) -> dict[str, Any]: ...


_process_context: TlsStatus | None = None


def serving_context() -> TlsStatus | None:
    """The server certificate's status in this process, for /readyz detail."""
    return _process_context


def set_serving_context(ctx: TlsStatus | None) -> None:
    global _process_context
    _process_context = ctx


@dataclass(frozen=True)
class ClientPolicy:
    """Who may call which paths, by client certificate.

    `required`: every path but the probes needs a verified client certificate
    (set when the server trusts a client CA). `allowed` maps a path prefix to
    the identities that may call it (`{"/admin": {"spiffe://…/sa/ops"}}`);
    the longest matching prefix decides.
    """

    required: bool = False
    allowed: Mapping[str, frozenset[str]] = field(default_factory=dict)
    _ordered: tuple[tuple[str, frozenset[str]], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ordered = sorted(self.allowed.items(), key=lambda item: -len(item[0]))
        object.__setattr__(self, "_ordered", tuple(ordered))  # frozen: set once, longest prefix first

    @property
    def enabled(self) -> bool:
        return self.required or bool(self.allowed)

    def check(self, scope: Mapping[str, Any], path: str) -> tuple[int, dict[str, Any]] | None:
        """None when allowed; else the status and JSON body (never the certificate itself)."""
        who = client_identity(scope)
        if who is None:
            if self.required or any(path.startswith(p) for p, _ in self._ordered):
                return 401, {"error": "a verified client certificate is required (mTLS)"}
            return None
        for prefix, identities in self._ordered:
            if path.startswith(prefix):
                if who in identities:
                    return None
                return 403, {
                    "error": f"client identity is not allowed on {prefix}",
                    "identity": who,
                    "required": f"one of: {', '.join(sorted(identities))}",
                }
        return None


def outbound_context(
    cert: str | Path | None = None, key: str | Path | None = None, ca: str | Path | None = None
) -> RotatingContext:
    """A client SSLContext for service-to-service calls: presents the pod's own certificate,
    trusts the mounted CA (only it), and follows their rotation like the server does.

    Defaults are the files `kubeship serve` serves with (KUBESHIP_TLS_CERT, _KEY,
    _CLIENT_CA, which the rendered Deployment sets). Works with any client that
    takes an SSLContext:

    >>> httpx.AsyncClient(verify=outbound_context())  # doctest: +SKIP
    """
    chosen = []
    for given, env in ((cert, ENV_TLS_CERT), (key, ENV_TLS_KEY), (ca, ENV_TLS_CLIENT_CA)):
        value = given if given is not None else os.environ.get(env)
        if not value:
            raise ConfigError(f"outbound mTLS: pass the file or set {env} (the pod's mounted certificate)")
        chosen.append(Path(value))
    return RotatingContext(TlsFiles(*chosen), server=False)
