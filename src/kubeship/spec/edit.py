"""Write back into kubeship.yaml, keeping its comments and layout (ruamel.yaml round-trip)."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

from ruamel.yaml import YAML

from kubeship.errors import SpecError
from kubeship.limits import LimitError, limits, load_ruamel


def pin_image_digest(path: Path, digest: str) -> None:
    """Set `image.digest`, so `kubeship render` pins the Deployment to `image@sha256:…`."""
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        raise ValueError(f"not a digest: {digest!r}")
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    try:
        data = load_ruamel(yaml, path.read_text(encoding="utf-8"), limits())
    except OSError as exc:
        raise SpecError(f"{path}: cannot read: {exc}") from None
    except LimitError as exc:
        raise SpecError(exc.located(str(path))) from None
    except ValueError as exc:  # KUBESHIP_INPUT_LIMITS itself
        raise SpecError(str(exc)) from None
    image = data.get("image") if isinstance(data, dict) else None
    if not isinstance(image, dict):
        raise SpecError(f"{path}: no image: mapping to pin")
    image["digest"] = digest
    out = StringIO()
    yaml.dump(data, out)
    tmp = path.with_name(path.name + ".kubeship-tmp")
    tmp.write_text(out.getvalue(), encoding="utf-8")
    tmp.replace(path)  # atomic: an interrupted write never leaves half a spec
