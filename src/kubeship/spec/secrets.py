"""Resolve the spec's secret sources (environment variables, files) into masked values."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from kubeship.errors import SpecError
from kubeship.masked import Secret
from kubeship.spec.models import AppSpec


def secret_values(
    spec: AppSpec, environ: Mapping[str, str], base_dir: Path, *, allow_missing: bool = False
) -> dict[str, dict[str, Secret]]:
    """{secret name: {key: value}} for non-external secrets. Errors name the source, never a value."""
    out: dict[str, dict[str, Secret]] = {}
    missing = []
    for name, secret in spec.secrets.items():
        if secret.external:
            continue
        values: dict[str, Secret] = {}
        for key, source in secret.keys.items():
            if source.from_env is not None:
                if source.from_env in environ:
                    values[key] = Secret(environ[source.from_env])
                else:
                    missing.append(
                        f"secrets.{name}.keys.{key}: environment variable {source.from_env} is not set"
                    )
            elif source.from_file is not None:
                path = base_dir / source.from_file
                try:
                    values[key] = Secret(path.read_text(encoding="utf-8").removesuffix("\n"))
                except (OSError, UnicodeDecodeError) as exc:
                    missing.append(f"secrets.{name}.keys.{key}: cannot read {path} ({type(exc).__name__})")
        out[name] = values
    if missing and not allow_missing:
        raise SpecError(
            "\n".join(missing) + "\nset them, or pass --allow-missing-secrets to render empty values"
        )
    return out
