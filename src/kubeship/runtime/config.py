"""Layered configuration: defaults < mounted file or directory < environment.

A Kubernetes ConfigMap mounted as a directory holds one file per key, behind
an atomic `..data` symlink that the kubelet swaps on every update. `Config`
polls a cheap fingerprint of the mount (resolved paths, sizes, mtimes), so it
sees that swap, and re-reads the layers without restarting the process. A
file that becomes malformed keeps the last good values and logs the error.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from ruamel.yaml import YAML

from kubeship.errors import ConfigError
from kubeship.limits import InputError, LimitError, Limits, limits, load_json, read_ruamel
from kubeship.names import CONFIG_ENV_PREFIX, env_name
from kubeship.runtime.log import LogWriter, writer

T = TypeVar("T")
PARSED_SUFFIXES = (".yaml", ".yml", ".json")
DEFAULT_ENV_PREFIX = CONFIG_ENV_PREFIX
Fingerprint = tuple[tuple[str, int, int], ...]


class Config(Mapping[str, Any]):
    """The app's configuration, read through one object.

    >>> cfg = Config({"log-level": "info"}, environ={"APP_LOG_LEVEL": "debug"})
    >>> cfg["log-level"]
    'debug'
    """

    def __init__(
        self,
        defaults: Mapping[str, Any] | None = None,
        path: str | Path | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        env_prefix: str = DEFAULT_ENV_PREFIX,
        log: LogWriter = writer,
    ) -> None:
        self.defaults = dict(defaults or {})
        self.path = Path(path) if path is not None else None
        self.env_prefix = env_prefix
        self._environ = os.environ if environ is None else environ
        self._log = log
        self._callbacks: list[Callable[[Config], None]] = []
        self._stop = threading.Event()
        self._watch_pid = -1
        self._fingerprint = self._fingerprint_now()
        self._values = self._load()  # raises ConfigError at start-up: fail fast
        self.version = 1

    # Mapping protocol: the merged view.
    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Config(path={str(self.path)!r}, keys={sorted(self._values)!r})"

    def typed(self, key: str, cast: Callable[[Any], T], default: T) -> T:
        """`cast(value)` or `default` when absent; a bad value is a ConfigError."""
        if key not in self._values:
            return default
        value = self._values[key]
        try:
            return cast(value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"config key {key!r}: cannot read {value!r} as {getattr(cast, '__name__', cast)}; "
                f"fix it in {self.path or 'the environment'}"
            ) from None

    def add_defaults(self, defaults: Mapping[str, Any]) -> None:
        """Defaults for keys not known yet (a second module's defaults)."""
        new = {k: v for k, v in defaults.items() if k not in self.defaults}
        if new:
            self.defaults.update(new)
            self._values = self._load()

    def on_change(self, callback: Callable[[Config], None]) -> None:
        """Call `callback(config)` after every successful reload that changed a value."""
        self._callbacks.append(callback)

    def reload(self) -> bool:
        """Re-read the layers if the mount changed. Returns True when values changed."""
        fingerprint = self._fingerprint_now()
        if fingerprint == self._fingerprint:
            return False
        self._fingerprint = fingerprint
        try:
            values = self._load()
        except ConfigError as exc:
            self._log.event("error", "config reload failed; keeping the last good config", error=str(exc))
            return False
        if values == self._values:
            return False
        self._values = values  # one reference swap: readers see old or new, never a mix
        self.version += 1
        self._log.event("info", "config reloaded", path=str(self.path), version=self.version)
        for callback in self._callbacks:
            callback(self)
        return True

    def watch(self, interval: float = 1.0) -> None:
        """Poll for changes in a daemon thread until `stop()`."""
        if self.path is None or self._watch_pid == os.getpid():
            return  # nothing to watch, or this process watches already
        self._watch_pid = os.getpid()
        self._stop = threading.Event()  # a fresh one: a forked worker must not share the parent's
        thread = threading.Thread(target=self._watch_loop, args=(interval,), daemon=True)
        thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _watch_loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.reload()

    def _load(self) -> dict[str, Any]:
        values = dict(self.defaults)
        if self.path is not None:
            values.update(load_mount(self.path))
        values.update(env_layer(values.keys(), self._environ, self.env_prefix))
        return values

    def _fingerprint_now(self) -> Fingerprint:
        return fingerprint(self.path) if self.path is not None else ()


def env_layer(keys: Any, environ: Mapping[str, str], prefix: str) -> dict[str, str]:
    """Environment overrides for known keys (defaults and file), by `env_name`."""
    out = {}
    for key in keys:
        name = env_name(key, prefix)
        if name in environ:
            out[key] = environ[name]
    return out


def load_mount(path: Path) -> dict[str, Any]:
    """A ConfigMap directory (one file per key) or one YAML/JSON file."""
    if path.is_dir():
        values: dict[str, Any] = {}
        for entry in sorted(path.iterdir()):
            if entry.name.startswith(".") or not entry.is_file():
                continue  # the kubelet's ..data and timestamped dirs
            if entry.suffix in PARSED_SUFFIXES:
                values.update(parse_mapping(entry))
            else:
                values[entry.name] = _read_text(entry, "scalar", _bound().scalar).removesuffix("\n")
        return values
    if path.is_file():
        return parse_mapping(path)
    raise ConfigError(f"{path}: config path not found; mount the ConfigMap there or fix --config")


def parse_mapping(path: Path) -> dict[str, Any]:
    """A YAML or JSON file whose top level is a mapping, with positions in errors."""
    bound = _bound()
    text = _read_text(path, "bytes", bound.bytes)
    try:
        if path.suffix == ".json":
            data = load_json(text, bound)
        else:
            data = read_ruamel(YAML(typ="safe", pure=True), text, str(path), bound)
    except LimitError as exc:
        raise ConfigError(exc.located(str(path))) from None
    except InputError as exc:
        raise ConfigError(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}:1:1: expected a mapping of keys to values at the top level, got {type(data).__name__}"
        )
    return {str(k): v for k, v in data.items()}


def fingerprint(path: Path) -> Fingerprint:
    """What changes when the mount changes, including a `..data` symlink swap."""
    entries = sorted(path.iterdir()) if path.is_dir() else [path]
    out = []
    for entry in entries:
        try:
            st = entry.stat()
            out.append((os.path.realpath(entry), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((str(entry), -1, -1))
    return tuple(out)


def _bound() -> Limits:
    try:
        return limits()
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _read_text(path: Path, name: str, limit: int) -> str:
    """The file's text; one larger than `limit` bytes is refused before it is read."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise ConfigError(LimitError(name, limit, f"file of {size:,} bytes", 0).located(str(path)))
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror or type(exc).__name__}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: cannot read config file: not UTF-8 text") from None
