"""Read `kubeship.yaml` into an `AppSpec`, with every problem at its line and column.

YAML is read with ruamel.yaml's round-trip loader, which remembers where each
key and item stood; pydantic validates; each pydantic error's location is
mapped back to the closest position in the file. All problems are reported
at once. Unknown keys get a did-you-mean from the model's own field names.
"""

from __future__ import annotations

import copy
import difflib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from kubeship.errors import SpecError
from kubeship.limits import InputError, limits, read_ruamel
from kubeship.spec.models import AppSpec, SpecFile, reference_errors

Loc = tuple[str | int, ...]
Positions = dict[Loc, tuple[int, int]]
VALUE = "<value>"  # positions[(*loc, VALUE)]: where a scalar value stands (keys are at positions[loc])


def load_spec(path: str | Path, env: str | None = None) -> AppSpec:
    """The validated spec of `path`, with the `environments[env]` overlay applied."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{path}: not found; run `kubeship init` to write one") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read: {exc}") from None
    return parse_spec(text, str(path), env)


def load_environments(path: str | Path) -> list[str]:
    """The environment names a spec file defines (it is validated as a whole)."""
    path = Path(path)
    data, _ = _read_yaml(path.read_text(encoding="utf-8"), str(path))
    envs = data.get("environments") or {}
    return sorted(envs) if isinstance(envs, dict) else []


def parse_spec(text: str, source: str = "kubeship.yaml", env: str | None = None) -> AppSpec:
    data, positions = _read_yaml(text, source)
    problems: list[str] = []
    try:
        spec_file = SpecFile.model_validate(data)
    except ValidationError as exc:
        raise SpecError(_format(exc, positions, source, SpecFile)) from None
    if env is not None and env not in spec_file.environments:
        known = ", ".join(sorted(spec_file.environments)) or "none"
        raise SpecError(f"{source}: no environment {env!r} (defined: {known})")
    base = _without_environments(data)
    result = AppSpec.model_validate(base) if env is None else None
    if result is not None:
        problems += _references(result, positions, source)
    # Every overlay is checked, whichever is asked for: a broken prod overlay
    # should fail the staging render too, not the day prod is deployed.
    for name, overlay in spec_file.environments.items():
        overlay_positions = {  # an overlay's errors point into the overlay
            loc[2:]: pos
            for loc, pos in positions.items()
            if loc[:2] == ("environments", name) and len(loc) > 2
        }
        try:
            merged = AppSpec.model_validate(deep_merge(base, overlay))
        except ValidationError as exc:
            problems.append(_format(exc, {**positions, **overlay_positions}, source, AppSpec, name))
            continue
        problems += _references(merged, {**positions, **overlay_positions}, source, name)
        if name == env:
            result = merged
    if problems or result is None:
        raise SpecError("\n".join(sorted(set(problems), key=_line_key)))
    return result


def position(path: str | Path, loc: Loc) -> str:
    """`file:line:col` of the key at `loc` in a spec file (the nearest enclosing key it has), for
    errors found after loading, such as a secret's unset source."""
    try:
        _, positions = _read_yaml(Path(path).read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError, SpecError):
        return str(path)
    line, col = positions.get((*loc, VALUE)) or _position(loc, positions)
    return f"{path}:{line}:{col}"


def deep_merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; anything else in the overlay replaces the base."""
    out = copy.deepcopy(dict(base))
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _without_environments(data: Any) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "environments"} if isinstance(data, dict) else data


def _read_yaml(text: str, source: str) -> tuple[Any, Positions]:
    yaml = YAML(typ="rt", pure=True)
    try:
        doc = read_ruamel(yaml, text, source, limits())
    except ValueError as exc:  # KUBESHIP_INPUT_LIMITS itself is wrong
        raise SpecError(str(exc)) from None
    except InputError as exc:
        raise SpecError(str(exc)) from None
    if not isinstance(doc, CommentedMap):
        raise SpecError(f"{source}:1:1: expected a mapping (name: ..., image: ...) at the top level")
    positions: Positions = {(): (1, 1)}
    try:
        return _plain(doc, (), positions), positions
    except _KeyError as exc:
        raise SpecError(f"{source}:{exc}") from None


class _KeyError(Exception):
    """A key no spec field can have (its position and the problem)."""


def _plain(node: Any, loc: Loc, positions: Positions) -> Any:
    """Plain dicts and lists, recording where each key (and item) stood."""
    # Where ruamel knows no position (the items of a `!!omap`), the enclosing node's stands in.
    here = positions.get(loc, (1, 1))
    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            line, col = node.lc.key(key) or (here[0] - 1, here[1] - 1)
            if not isinstance(key, str | int | float | bool):  # `? [a, b]`, a tagged or null key
                raise _KeyError(f"{line + 1}:{col + 1}: a key must be a plain name, like `replicas`")
            positions[(*loc, str(key))] = (line + 1, col + 1)
            if not isinstance(value, CommentedMap | CommentedSeq):  # a mapping's problems point at its key
                vline, vcol = node.lc.value(key) or (line, col)
                positions[(*loc, str(key), VALUE)] = (vline + 1, vcol + 1)
            out[str(key)] = _plain(value, (*loc, str(key)), positions)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, value in enumerate(node):
            line, col = node.lc.item(i) or (here[0] - 1, here[1] - 1)
            positions[(*loc, i)] = (line + 1, col + 1)
            items.append(_plain(value, (*loc, i), positions))
        return items
    if isinstance(node, str):
        return str(node)
    return node


def _format(
    exc: ValidationError, positions: Positions, source: str, model: type[BaseModel], env: str | None = None
) -> str:
    lines = []
    for error in exc.errors(include_url=False):
        raw = error["loc"]
        loc = tuple(  # pydantic's own steps (`function-after[...]`, `list[...]`) out; a user's key stays
            p
            for i, p in enumerate(raw)
            if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))
            or (error["type"] == "extra_forbidden" and i == len(raw) - 1)
        )
        at_key = error["type"] in ("extra_forbidden", "missing") or "[key]" in error["loc"]
        where = (
            _position(loc, positions) if at_key else positions.get((*loc, VALUE)) or _position(loc, positions)
        )
        field = ".".join(str(p) for p in loc) or "(top level)"
        message = _message(error, loc, model)
        prefix = f"{source}:{where[0]}:{where[1]}"
        suffix = f" (in environment {env!r})" if env else ""
        lines.append(f"{prefix}: {field}: {message}{suffix}")
    return "\n".join(sorted(set(lines), key=_line_key))


def _references(spec: AppSpec, positions: Positions, source: str, env: str | None = None) -> list[str]:
    suffix = f" (in environment {env!r})" if env else ""
    out = []
    for loc, message in reference_errors(spec):
        line, col = positions.get((*loc, VALUE)) or _position(loc, positions)
        out.append(f"{source}:{line}:{col}: {'.'.join(map(str, loc))}: {message}{suffix}")
    return out


def _line_key(line: str) -> tuple[int, int, str]:
    parts = line.split(":")
    try:
        return int(parts[1]), int(parts[2]), line
    except (IndexError, ValueError):
        return 0, 0, line


def _position(loc: Loc, positions: Positions) -> tuple[int, int]:
    for end in range(len(loc), -1, -1):
        if loc[:end] in positions:
            return positions[loc[:end]]
    return 1, 1


def _message(error: Any, loc: Loc, model: type[BaseModel]) -> str:
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        known = _fields_at(model, loc[:-1])
        guess = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        hint = (
            f"; did you mean {guess[0]!r}?"
            if guess
            else (f"; known keys: {', '.join(known)}" if known else "")
        )
        return f"unknown key {loc[-1]!r}{hint}"
    if kind == "missing":
        return "required"
    if kind in ("int_parsing", "int_type"):
        return f"expected a whole number, got {value!r}"
    if kind in ("float_parsing", "float_type"):
        return f"expected a number, got {value!r}"
    if kind in ("bool_parsing", "bool_type"):
        return f"expected true or false, got {value!r}"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"expected one of {expected}, got {value!r}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping of keys to values, got {type(value).__name__}"
    if kind == "list_type":
        return f"expected a list, got {type(value).__name__}"
    ctx = error.get("ctx", {})
    for bound, words in (("ge", "at least"), ("gt", "more than"), ("le", "at most"), ("lt", "less than")):
        if bound in ctx and kind.startswith(("greater_than", "less_than")):
            return f"expected {words} {ctx[bound]}, got {value!r}"
    if kind == "too_short":
        least = ctx.get("min_length", 1)
        return (
            "must not be empty"
            if least == 1
            else f"needs at least {least} items, got {ctx.get('actual_length')}"
        )
    if kind == "string_type":
        return f"expected text, got {value!r}"
    return str(error["msg"]).removeprefix("Value error, ")


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The YAML keys allowed at `loc` (for did-you-mean)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
            if field is None:
                return []
            current = field.annotation
        elif typing.get_origin(current) in (dict, list):
            current = typing.get_args(current)[-1]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(f.alias or n for n, f in current.model_fields.items())
    return []


def _unwrap(annotation: Any) -> Any:
    """Optional[X] / Annotated[X, ...] → X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, __import__("types").UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation
