"""Resolve the spec's secret sources (environment variables, files) into masked values."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TypeVar

from kubeship.errors import SpecError
from kubeship.masked import Secret
from kubeship.spec.models import AppSpec, SecretKey

K = TypeVar("K")


def secret_values(
    spec: AppSpec, environ: Mapping[str, str], spec_path: Path, *, allow_missing: bool = False
) -> dict[str, dict[str, Secret]]:
    """{secret name: {key: value}} for non-external secrets, their files relative to the spec file.
    Errors name the source at its place in the file, never a value."""
    sources = {
        (name, key): source
        for name, secret in spec.secrets.items()
        if not secret.external
        for key, source in secret.keys.items()
    }
    found, missing = _resolve(
        {(n, k): (("secrets", n, "keys", k), s) for (n, k), s in sources.items()}, environ, spec_path
    )
    out: dict[str, dict[str, Secret]] = {n: {} for n, s in spec.secrets.items() if not s.external}
    for (name, key), value in found.items():
        out[name][key] = value
    _raise(missing, allow_missing)
    return out


def alerting_secrets(
    spec: AppSpec, environ: Mapping[str, str], spec_path: Path, *, allow_missing: bool = False
) -> dict[str, Secret]:
    """{"<receiver>.<field>": value} for the alerting receivers' credentials and tokened URLs."""
    found, missing = _resolve(
        {ref: (("alerting", "receivers", *ref.split(".")), s) for ref, s in receiver_secrets(spec)},
        environ,
        spec_path,
    )
    _raise(missing, allow_missing)
    return found


def receiver_secrets(spec: AppSpec) -> Iterator[tuple[str, SecretKey]]:
    """Every secret a receiver references, keyed `<receiver>.<kind>.<field>`."""
    if spec.alerting is None:
        return
    for name, receiver in sorted(spec.alerting.receivers.items()):
        for kind, config in (
            ("webhook", receiver.webhook),
            ("email", receiver.email),
            ("dingtalk", receiver.dingtalk),
            ("wecom", receiver.wecom),
        ):
            if config is None:
                continue
            for field in type(config).model_fields:
                value = getattr(config, field)
                if isinstance(value, SecretKey):
                    yield f"{name}.{kind}.{field}", value


def _resolve(
    sources: Mapping[K, tuple[tuple[str, ...], SecretKey]], environ: Mapping[str, str], spec_path: Path
) -> tuple[dict[K, Secret], list[str]]:
    from kubeship.spec.load import position

    found: dict[K, Secret] = {}
    missing = []
    for ref, (loc, source) in sources.items():
        field = ".".join(loc)
        if source.from_env is not None:
            if source.from_env in environ:
                found[ref] = Secret(environ[source.from_env])
            else:
                at = position(spec_path, (*loc, "fromEnv"))
                missing.append(f"{at}: {field}: environment variable {source.from_env} is not set")
        elif source.from_file is not None:
            path = spec_path.parent / source.from_file
            try:
                found[ref] = Secret(path.read_text(encoding="utf-8").removesuffix("\n"))
            except (OSError, UnicodeDecodeError) as exc:
                at = position(spec_path, (*loc, "fromFile"))
                missing.append(f"{at}: {field}: cannot read {path} ({type(exc).__name__})")
    return found, missing


def _raise(missing: list[str], allow_missing: bool) -> None:
    if missing and not allow_missing:
        raise SpecError(
            "\n".join(missing) + "\nset them (the values are read at render time, never written in the "
            "spec), or pass --allow-missing-secrets to render the Secrets empty for the cluster to fill"
        )
