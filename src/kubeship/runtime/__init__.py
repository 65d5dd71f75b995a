"""kubeship's service runtime: production middleware around any ASGI app, and `serve`.

Public names are loaded on first use, so that `kubeship serve` can prepare
the process (Prometheus multiprocess directory) before prometheus_client is
imported.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kubeship.runtime.compiled import guard

BUILD = guard()  # "compiled", "pure", "stale" or "source" (the last two run from source): compiled.py

if TYPE_CHECKING:
    from kubeship.runtime.auth import AuthPolicy
    from kubeship.runtime.config import Config
    from kubeship.runtime.context import app_config, secret
    from kubeship.runtime.cors import CorsPolicy
    from kubeship.runtime.drain import DrainState
    from kubeship.runtime.middleware import Runtime, wrap
    from kubeship.runtime.secrets import Secret
    from kubeship.runtime.settings import RuntimeSettings
    from kubeship.runtime.tls import ClientPolicy, client_identity, outbound_context

_HOMES = {
    "AuthPolicy": "auth",
    "ClientPolicy": "tls",
    "client_identity": "tls",
    "outbound_context": "tls",
    "Config": "config",
    "CorsPolicy": "cors",
    "DrainState": "drain",
    "Runtime": "middleware",
    "RuntimeSettings": "settings",
    "Secret": "secrets",
    "app_config": "context",
    "secret": "context",
    "wrap": "middleware",
}
__all__ = [
    "AuthPolicy",
    "ClientPolicy",
    "Config",
    "CorsPolicy",
    "DrainState",
    "Runtime",
    "RuntimeSettings",
    "Secret",
    "app_config",
    "client_identity",
    "outbound_context",
    "secret",
    "wrap",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'kubeship.runtime' has no attribute {name!r}")
    return getattr(importlib.import_module(f"kubeship.runtime.{home}"), name)
