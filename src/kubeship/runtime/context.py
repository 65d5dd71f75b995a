"""The process-wide config and secrets an app reads, from the pod's mounts."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kubeship.errors import ConfigError
from kubeship.runtime.config import Config
from kubeship.runtime.secrets import Secret, read_secret
from kubeship.runtime.settings import ENV_CONFIG_PATH, ENV_SECRETS_PATH

_lock = threading.Lock()
_config: Config | None = None


def app_config(defaults: Mapping[str, Any] | None = None) -> Config:
    """The one `Config` of this process: defaults < KUBESHIP_CONFIG_PATH < `APP_*` env.

    The runtime watches it for changes (hot reload) in every worker.

    >>> config = app_config({"message": "pong"})  # doctest: +SKIP
    >>> config["message"]                          # doctest: +SKIP
    'pong'
    """
    global _config
    with _lock:
        if _config is None:
            _config = Config(defaults, os.environ.get(ENV_CONFIG_PATH) or None)
        elif defaults:
            _config.add_defaults(defaults)
        return _config


def current_config() -> Config | None:
    """The process config if the app created one, for the runtime to watch."""
    return _config


def secret(name: str, directory: str | Path | None = None) -> Secret:
    """The current value of one key of the mounted Secret (re-read, so rotation shows)."""
    base = directory if directory is not None else os.environ.get(ENV_SECRETS_PATH)
    if not base:
        raise ConfigError(
            f"secret {name!r}: set {ENV_SECRETS_PATH} to the directory the Secret is mounted at"
        )
    return read_secret(Path(base) / name)
