"""Bearer authentication: JWTs verified with keys from a mounted Secret, or static tokens.

The key file is re-read when it changes (a rotated Secret), checked at most
every `RECHECK_SECONDS`. Which algorithms are accepted follows from the key
itself (an RSA/EC/Ed25519 public key or JWKS → asymmetric; anything else →
HMAC), so a public key can never be used as an HMAC secret.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import jwt

from kubeship.errors import ConfigError
from kubeship.limits import LimitError, limits, load_json
from kubeship.runtime.config import fingerprint
from kubeship.runtime.log import writer
from kubeship.runtime.secrets import read_secret

RECHECK_SECONDS = 2.0
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
HMAC = ("HS256", "HS384", "HS512")


class AuthFailure(Exception):
    """Why a request is refused: 401 (who are you?) or 403 (not allowed)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class AuthPolicy:
    """Who may call which paths.

    `public` lists paths that need no token: exact (`/ping`) or prefixes
    ending in `*` (`/docs*`). The runtime's health, readiness and metrics
    paths are always public. `scopes` maps a path prefix to a scope the
    token must carry (`{"/admin": "admin"}`), read from the `scope` (space
    separated), `scp` or `scopes` claim.
    """

    key_file: Path
    mode: Literal["jwt", "token"] = "jwt"
    audience: str | None = None
    issuer: str | None = None
    public: tuple[str, ...] = ()
    scopes: Mapping[str, str] = field(default_factory=dict)
    leeway: float = 30.0

    def __post_init__(self) -> None:
        self.key_file = Path(self.key_file)
        self._exact = frozenset(p for p in self.public if not p.endswith("*"))
        self._prefixes = tuple(p[:-1] for p in self.public if p.endswith("*"))
        self._fingerprint: object = None
        self._next_check = 0.0
        self._keys: list[tuple[Any, tuple[str, ...]]] = []
        self._tokens: tuple[bytes, ...] = ()
        self._load()  # fail at start-up, not at the first request

    def is_public(self, path: str) -> bool:
        return path in self._exact or path.startswith(self._prefixes)

    def authenticate(self, authorization: bytes | None, path: str) -> dict[str, Any]:
        """The verified claims, or AuthFailure. Messages never echo the token."""
        if not authorization:
            raise AuthFailure(401, "missing bearer token")
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthFailure(401, "expected 'Authorization: Bearer <token>'")
        self._maybe_reload()
        claims = self._verify(token.strip())
        for prefix, scope in self.scopes.items():
            if path.startswith(prefix) and scope not in _scopes_of(claims):
                raise AuthFailure(403, f"token lacks the {scope!r} scope")
        return claims

    def _verify(self, token: str) -> dict[str, Any]:
        if self.mode == "token":
            given = token.encode()
            if any(hmac.compare_digest(given, t) for t in self._tokens):
                return {"sub": "token"}
            raise AuthFailure(401, "invalid token")
        last_error = "invalid token"
        options = {"require": ["exp"] + (["aud"] if self.audience else []) + (["iss"] if self.issuer else [])}
        for key, algorithms in self._keys:
            try:
                claims: dict[str, Any] = jwt.decode(
                    token,
                    key,
                    algorithms=list(algorithms),
                    audience=self.audience,
                    issuer=self.issuer,
                    leeway=self.leeway,
                    options=options,  # type: ignore[arg-type]
                )
                return claims
            except jwt.ExpiredSignatureError:
                raise AuthFailure(401, "token expired") from None
            except jwt.InvalidAudienceError:
                raise AuthFailure(401, "token audience does not match") from None
            except jwt.InvalidIssuerError:
                raise AuthFailure(401, "token issuer does not match") from None
            except jwt.MissingRequiredClaimError as exc:
                raise AuthFailure(401, f"token lacks the {exc.claim!r} claim") from None
            except jwt.PyJWTError:
                last_error = "invalid token signature or format"
        raise AuthFailure(401, last_error)

    def _maybe_reload(self) -> None:
        now = time.monotonic()
        if now < self._next_check:
            return
        self._next_check = now + RECHECK_SECONDS
        if fingerprint(self.key_file) != self._fingerprint:
            try:
                self._load()
            except ConfigError as exc:
                # A broken or half-updated mount keeps the last good keys; say so once per change.
                writer.event("error", "auth key reload failed; keeping the last good keys", error=str(exc))

    def _load(self) -> None:
        self._fingerprint = fingerprint(self.key_file)
        raw = read_secret(self.key_file).reveal()
        if self.mode == "token":
            self._tokens = tuple(line.strip().encode() for line in raw.splitlines() if line.strip())
            if not self._tokens:
                raise ConfigError(f"{self.key_file}: no tokens found; write one token per line")
            return
        self._keys = parse_keys(raw, self.key_file)


def token_subject(scope: Mapping[str, Any]) -> Any:
    """The verified token's subject, from the claims `AuthPolicy.authenticate` gave (a dict) in
    `scope["auth"]`; None without them, or where the app put its own auth object there (Starlette's
    AuthenticationMiddleware does)."""
    claims = scope.get("auth")
    return claims.get("sub") if type(claims) is dict else None


def parse_keys(raw: str, source: Path) -> list[tuple[Any, tuple[str, ...]]]:
    """Verification keys with the algorithms each may verify."""
    text = raw.strip()
    if text.startswith("{"):
        try:
            jwks = jwt.PyJWKSet.from_dict(load_json(text, limits()))
        except LimitError as exc:
            raise ConfigError(exc.located(str(source))) from None
        except (ValueError, jwt.PyJWTError) as exc:
            raise ConfigError(
                f"{source}: not a valid JWKS ({type(exc).__name__}); check the key file"
            ) from None
        return [(k.key, (k.algorithm_name,) if k.algorithm_name else ASYMMETRIC) for k in jwks.keys]
    if text.startswith("-----BEGIN"):
        if "PRIVATE KEY" in text:
            raise ConfigError(f"{source}: holds a private key; mount only the public key for verification")
        return [(text, ASYMMETRIC)]
    if len(text) < 32:
        raise ConfigError(f"{source}: HMAC secret is shorter than 32 characters; use a longer random secret")
    return [(text.encode(), HMAC)]


def _scopes_of(claims: Mapping[str, Any]) -> set[str]:
    out: set[str] = set()
    for name in ("scope", "scp", "scopes"):
        value = claims.get(name)
        if isinstance(value, str):
            out.update(value.split())
        elif isinstance(value, list):
            out.update(str(v) for v in value)
    return out
