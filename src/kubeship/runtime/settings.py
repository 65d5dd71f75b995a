"""Runtime settings from the environment the pod is given.

`kubeship render` writes these variables into the Deployment from the spec;
`kubeship serve` flags set them for local runs. One place for each name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kubeship.errors import ConfigError
from kubeship.names import (
    ENV_AUDIT_FAIL_OPEN,
    ENV_AUDIT_FILE,
    ENV_AUDIT_KEY_FILE,
    ENV_AUDIT_OPERATIONS,
    ENV_MTLS_ALLOW,
    ENV_POD,
    ENV_SECURITY_HEADERS,
    ENV_SERVICE,
    ENV_VERSION,
)
from kubeship.runtime.audit import AuditTrail, Operation
from kubeship.runtime.auth import AuthPolicy
from kubeship.runtime.cors import CorsPolicy
from kubeship.runtime.headers import SecurityHeaders
from kubeship.runtime.tls import ClientPolicy

ENV_CONFIG_PATH = "KUBESHIP_CONFIG_PATH"
ENV_SECRETS_PATH = "KUBESHIP_SECRETS_PATH"
ENV_CORS_ORIGINS = "KUBESHIP_CORS_ORIGINS"
ENV_CORS_METHODS = "KUBESHIP_CORS_METHODS"
ENV_CORS_HEADERS = "KUBESHIP_CORS_HEADERS"
ENV_CORS_CREDENTIALS = "KUBESHIP_CORS_CREDENTIALS"
ENV_AUTH_KEY_FILE = "KUBESHIP_AUTH_KEY_FILE"
ENV_AUTH_MODE = "KUBESHIP_AUTH_MODE"
ENV_AUTH_AUDIENCE = "KUBESHIP_AUTH_AUDIENCE"
ENV_AUTH_ISSUER = "KUBESHIP_AUTH_ISSUER"
ENV_AUTH_PUBLIC = "KUBESHIP_AUTH_PUBLIC"
ENV_AUTH_SCOPES = "KUBESHIP_AUTH_SCOPES"
ENV_MTLS_REQUIRED = "KUBESHIP_MTLS_REQUIRED"
ENV_LOG_PROBES = "KUBESHIP_LOG_PROBES"
ENV_ACCESS_LOG = "KUBESHIP_ACCESS_LOG"
ENV_MAX_CONCURRENCY = "KUBESHIP_MAX_CONCURRENCY"
ENV_TLS_STATUS = "KUBESHIP_TLS_STATUS"  # set by the supervisor: its HTTPS status file (granian_tls.py)


@dataclass(frozen=True)
class RuntimeSettings:
    cors: CorsPolicy = field(default_factory=CorsPolicy)
    auth: AuthPolicy | None = None
    clients: ClientPolicy = field(default_factory=ClientPolicy)
    audit: AuditTrail | None = None
    access_log: bool = (
        True  # off when the ingress already logs every request: saves ~1/3 of the runtime's cost
    )
    log_probes: bool = False  # kubelet probes every few seconds would drown the access log
    json_errors: bool = True  # plain-text 4xx/5xx from frameworks become JSON with the request id
    security_headers: SecurityHeaders | None = field(default_factory=SecurityHeaders)
    # Requests in the app at once per worker; the rest wait in arrival order (None: no bound).
    # Probes and /metrics never wait: a busy pod still answers its kubelet.
    max_concurrency: int | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RuntimeSettings:
        env = os.environ if environ is None else environ
        default = CorsPolicy()
        cors = CorsPolicy(
            allow_origins=_csv(env.get(ENV_CORS_ORIGINS, "")),
            allow_methods=_csv(env[ENV_CORS_METHODS]) if ENV_CORS_METHODS in env else default.allow_methods,
            allow_headers=_csv(env[ENV_CORS_HEADERS]) if ENV_CORS_HEADERS in env else default.allow_headers,
            allow_credentials=_bool(env, ENV_CORS_CREDENTIALS),
        )
        auth = None
        if env.get(ENV_AUTH_KEY_FILE):
            mode = env.get(ENV_AUTH_MODE, "jwt")
            if mode not in ("jwt", "token"):
                raise ConfigError(f"{ENV_AUTH_MODE}={mode!r}: expected 'jwt' or 'token'")
            auth = AuthPolicy(
                key_file=Path(env[ENV_AUTH_KEY_FILE]),
                mode=mode,  # type: ignore[arg-type]
                audience=env.get(ENV_AUTH_AUDIENCE) or None,
                issuer=env.get(ENV_AUTH_ISSUER) or None,
                public=_csv(env.get(ENV_AUTH_PUBLIC, "")),
                scopes=_scopes(env.get(ENV_AUTH_SCOPES, "")),
            )
        clients = ClientPolicy(
            required=_bool(env, ENV_MTLS_REQUIRED), allowed=_identities(env.get(ENV_MTLS_ALLOW, ""))
        )
        audit = None
        if env.get(ENV_AUDIT_FILE):
            if not env.get(ENV_AUDIT_KEY_FILE):
                raise ConfigError(
                    f"{ENV_AUDIT_FILE} needs {ENV_AUDIT_KEY_FILE}: the chain's HMAC key (a Secret)"
                )
            audit = AuditTrail(
                path=Path(env[ENV_AUDIT_FILE]),
                key_file=Path(env[ENV_AUDIT_KEY_FILE]),
                operations=tuple(Operation.parse(op) for op in _csv(env.get(ENV_AUDIT_OPERATIONS, ""))),
                fail_open=_bool(env, ENV_AUDIT_FAIL_OPEN),
                service=env.get(ENV_SERVICE),
                version=env.get(ENV_VERSION),
                pod=env.get(ENV_POD),
            )
        return cls(
            cors=cors,
            auth=auth,
            clients=clients,
            audit=audit,
            access_log=_bool(env, ENV_ACCESS_LOG, default=True),
            log_probes=_bool(env, ENV_LOG_PROBES),
            security_headers=(
                SecurityHeaders.from_env(env) if _bool(env, ENV_SECURITY_HEADERS, default=True) else None
            ),
            max_concurrency=_positive(env, ENV_MAX_CONCURRENCY),
        )


def _csv(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _positive(env: Mapping[str, str], name: str) -> int | None:
    value = env.get(name, "")
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"{name}={value!r}: expected a whole number of at least 1")
    return int(value)


def _bool(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    value = env.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name}={value!r}: expected true or false")


def _scopes(value: str) -> dict[str, str]:
    """`/admin=admin,/billing=billing:read` → {prefix: scope}."""
    out = {}
    for item in _csv(value):
        prefix, sep, scope = item.partition("=")
        if not sep or not prefix.startswith("/") or not scope:
            raise ConfigError(f"{ENV_AUTH_SCOPES}: {item!r} should look like /prefix=scope")
        out[prefix] = scope
    return out


def _identities(value: str) -> dict[str, frozenset[str]]:
    """`/admin=spiffe://a,/admin=spiffe://b,/internal=billing.shop.svc` → {prefix: identities}."""
    out: dict[str, set[str]] = {}
    for item in _csv(value):
        prefix, sep, who = item.partition("=")
        if not sep or not prefix.startswith("/") or not who:
            raise ConfigError(f"{ENV_MTLS_ALLOW}: {item!r} should look like /prefix=identity")
        out.setdefault(prefix, set()).add(who)
    return {prefix: frozenset(ids) for prefix, ids in out.items()}
