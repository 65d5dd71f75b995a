"""Strict schema validation against the official Kubernetes JSON schemas, offline.

The schemas come bundled with the `kubernetes-validate` package (one
directory per Kubernetes version, strict variant: unknown fields are errors);
validation runs in jsonschema-rs (compiled). One validator per
(version, apiVersion, kind), built on first use.
"""

from __future__ import annotations

import datetime
import difflib
import importlib.util
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from kubeship.check import crds, deprecations
from kubeship.check.load import field_line
from kubeship.check.model import Document, Finding, Severity


def _schemas_dir() -> Path:
    """Where kubernetes-validate keeps its schemas; found, not imported (its import pulls in the
    pure-Python jsonschema, a tenth of a second kubeship does not use)."""
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("No module named 'kubernetes_validate'", name="kubernetes_validate")
    return Path(spec.origin).parent / "kubernetes-json-schema"


SCHEMAS = _schemas_dir()
_BASE_URI = "https://kubeship.invalid/api/object.json"
# JSON Schema's type names, and the YAML a user writes for each
_EXPECTED = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "nothing",
}


def versions() -> list[str]:
    found = {p.name.removeprefix("v").removesuffix("-local-strict") for p in SCHEMAS.glob("v*-local-strict")}
    return sorted(found, key=lambda v: tuple(int(x) for x in v.split(".")))


def latest_version() -> str:
    return versions()[-1]


def resolve_version(requested: str | None) -> str:
    """`1.30` or `1.30.0` → a bundled version; ValueError naming the choices."""
    if requested is None:
        return latest_version()
    wanted = requested.removeprefix("v")
    for v in versions():
        if v == wanted or v.rsplit(".", 1)[0] == wanted:
            return v
    raise ValueError(f"no bundled schemas for Kubernetes {requested}; choose one of {', '.join(versions())}")


def schema_file(version: str, api_version: str, kind: str) -> Path:
    group, _, ver = api_version.rpartition("/")
    group = group.split(".")[0]
    name = f"{kind.lower()}-{group}-{ver}.json" if group else f"{kind.lower()}-{ver}.json"
    return SCHEMAS / f"v{version}-local-strict" / name


@cache
def _definitions(version: str) -> Any:
    return json.loads((SCHEMAS / f"v{version}-local-strict" / "_definitions.json").read_text())


@dataclass(frozen=True)
class Compiled:
    """A compiled validator and the schema its errors' paths walk (for did-you-mean)."""

    validator: Any
    schema: dict[str, Any]
    version: str  # whose Kubernetes definitions the schema's external references resolve to

    def node(self, schema_path: list[Any]) -> Any:
        """The schema node an error's path leads to: in the schema itself or, for a reference into the
        Kubernetes definitions, in those; None if neither has it."""
        for base in (self.schema, _definitions(self.version)):
            found = _at(base, schema_path)
            if found is not _MISSING:
                return found
        return None

    def allowed_keys(self, schema_path: list[Any]) -> list[str]:
        """The properties allowed where an unknown field was found."""
        node = self.node(schema_path[:-1])
        return sorted(node.get("properties", {})) if isinstance(node, dict) else []


_MISSING = object()


def _at(node: Any, path: list[Any]) -> Any:
    """node[p0][p1]…, or _MISSING where the path leaves the schema."""
    for part in path:
        if not isinstance(node, dict | list):
            return _MISSING
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return node


def compile_schema(schema: dict[str, Any], version: str) -> Compiled:
    validator = jsonschema_rs.validator_for(
        schema, retriever=lambda uri: _definitions(version), base_uri=_BASE_URI
    )
    return Compiled(validator, schema, version)


@cache
def _validator(version: str, api_version: str, kind: str) -> Compiled | None:
    path = schema_file(version, api_version, kind)
    if path.is_file():
        return compile_schema(json.loads(path.read_text()), version)
    bundled = crds.bundled(api_version, kind)
    return None if bundled is None else compile_schema(bundled, version)


def validate(
    doc: Document,
    version: str,
    schema_dirs: tuple[Path, ...] = (),
    custom: Mapping[tuple[str, str], Compiled] | None = None,
) -> tuple[list[Finding], bool]:
    """Findings of `doc` against, in order: the user's schema directories, the CRDs in the same input
    (`custom`), the Kubernetes version's own schemas, the bundled custom resources; and whether a value
    has the wrong type (a string where a list goes: rules reading it would misread it)."""
    api_version, kind = str(doc.obj["apiVersion"]), doc.kind
    gone = deprecations.removal(api_version, kind)
    if gone is not None:
        target = deprecations.parse_version(version)
        use = f"use {gone.replacement}" if gone.replacement else "it has no replacement: remove it"
        where = f"{gone.removed_in[0]}.{gone.removed_in[1]}"
        if target >= gone.removed_in:
            message = f"{api_version} {kind} was removed in Kubernetes {where}; the API server will reject it"
            return [Finding(doc.file, doc.line, "KS005", Severity.ERROR, message, use, doc.ref)], False
        message = f"{api_version} {kind} is deprecated and removed in Kubernetes {where}"
        findings = [Finding(doc.file, doc.line, "KS006", Severity.WARNING, message, use, doc.ref)]
    else:
        findings = []
    compiled = (
        _user_validator(schema_dirs, api_version, kind, version)
        or (custom or {}).get((api_version, kind))
        or _validator(version, api_version, kind)
    )
    if compiled is None:
        message = f"no schema for {api_version} {kind} in Kubernetes {version}: skipped, not validated"
        hint = _hint(api_version)
        return [*findings, Finding(doc.file, doc.line, "KS003", Severity.INFO, message, hint, doc.ref)], False

    try:
        errors = _errors(compiled, doc.obj)
    except ValueError:  # a key that is not a string (`yes:`), a date: sent as the API server gets them
        errors = _errors(compiled, _as_json(doc.obj))
    if not errors:
        return findings, False
    out, mistyped = findings, False
    for error in errors:
        mistyped = mistyped or type(error.kind).__name__ in ("Type", "AnyOf", "OneOfNotValid")
        path = ".".join(str(p) for p in error.instance_path) or "(object)"
        message, hint = _explain(error, compiled)
        field: list[str | int] = list(error.instance_path)
        if type(error.kind).__name__ == "AdditionalProperties":  # point at the unknown key itself
            field += re.findall(r"'([^']+)'", str(error.message))[:1]
        line = field_line(doc, field)
        out.append(Finding(doc.file, line, "KS002", Severity.ERROR, f"{path}: {message}", hint, doc.ref))
    return out, mistyped


def _errors(compiled: Compiled, obj: Any) -> list[Any]:
    """The schema's errors for `obj`; is_valid first: most objects are, and it is faster."""
    return [] if compiled.validator.is_valid(obj) else list(compiled.validator.iter_errors(obj))


def _as_json(node: Any) -> Any:
    """The object as Kubernetes' YAML-to-JSON conversion (go-yaml) sends it: keys as strings (`yes` →
    "true", `1` → "1", `~` → "null"), an unquoted date (YAML 1.1 reads `2024-01-02` as one) as its
    text, `!!binary` as the string it decodes to, a `!!set` as a mapping to nulls."""
    if isinstance(node, dict):
        return {_key(k): _as_json(v) for k, v in node.items()}
    if isinstance(node, (set, frozenset)):
        return {_key(k): None for k in node}
    if isinstance(node, list):
        return [_as_json(v) for v in node]
    if isinstance(node, datetime.date):
        return node.isoformat()
    if isinstance(node, bytes):
        return node.decode("utf-8", "replace")
    return node


def _key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)


def user_schema_file(directory: Path, api_version: str, kind: str) -> Path:
    """kubeconform's naming: `{kind}_{version}.json` or `{group}/{kind}_{version}.json`, lower case."""
    group, _, ver = api_version.rpartition("/")
    flat = directory / f"{kind.lower()}_{ver}.json"
    nested = directory / group / f"{kind.lower()}_{ver}.json"
    return nested if group and nested.is_file() else flat


@cache
def _user_validator(dirs: tuple[Path, ...], api_version: str, kind: str, version: str) -> Compiled | None:
    for directory in dirs:
        path = user_schema_file(directory, api_version, kind)
        if path.is_file():
            return compile_schema(json.loads(path.read_text()), version)
    return None


def custom_schemas(
    docs: list[Document], version: str
) -> tuple[dict[tuple[str, str], Compiled], list[Finding]]:
    """Validators for the custom resources whose CustomResourceDefinitions are among `docs`, and a
    finding for each CRD whose schema does not compile (its resources are then reported unvalidated)."""
    out, findings = {}, []
    for doc in docs:
        if doc.kind == "CustomResourceDefinition" and doc.obj.get("apiVersion") == "apiextensions.k8s.io/v1":
            for key, schema in crds.from_crd(doc.obj).items():
                try:
                    out[key] = compile_schema(schema, version)
                except ValueError as exc:
                    message = f"the openAPIV3Schema of {key[0]} {key[1]} is not a valid schema: {exc}"
                    hint = "fix the schema; the API server rejects the CRD"
                    findings.append(
                        Finding(doc.file, doc.line, "KS002", Severity.ERROR, message, hint, doc.ref)
                    )
    return out, findings


def _hint(api_version: str) -> str:
    if crds.is_bundled_group(api_version):
        return "kubeship bundles this API group but not this kind or version: check kind and apiVersion"
    return (
        "add the CustomResourceDefinition to the checked files, or --schema-location DIR; "
        "a removed API: use the current apiVersion"
    )


def _explain(error: Any, compiled: Compiled) -> tuple[str, str]:
    kind = type(error.kind).__name__
    message = str(error.message)
    if kind == "AdditionalProperties":
        unexpected = re.findall(r"'([^']+)'", message)
        allowed = compiled.allowed_keys(list(error.schema_path))
        hints = []
        for field in unexpected:
            guess = difflib.get_close_matches(field, allowed, n=1, cutoff=0.6)
            hints.append(f"did you mean {guess[0]!r}?" if guess else f"remove {field!r}")
        return f"unknown field {', '.join(repr(u) for u in unexpected)}", "; ".join(hints)
    if kind == "Required":
        return message.replace("is a required property", "is required"), "add the field"
    if kind == "Type":
        return _type_error(error.kind.types, error.instance)
    if kind in ("AnyOf", "OneOfNotValid"):  # int-or-string and the like: say which types, not "oneOf"
        options = compiled.node(list(error.schema_path))
        if isinstance(options, list) and all(isinstance(o, dict) and set(o) == {"type"} for o in options):
            types = [t for o in options for t in ([o["type"]] if isinstance(o["type"], str) else o["type"])]
            return _type_error(types, error.instance)
    if kind == "Enum":
        return message, "use one of the allowed values"
    return message, ""


def _type_error(types: list[str], value: Any) -> tuple[str, str]:
    """`expected a string, got an integer`, and what to write instead."""
    wanted = [t for t in types if t != "null"] or list(types)
    got = _yaml_kind(value)
    # The value itself is not shown: it may be a Secret's (`data: {pin: 12345}`); the line points at it.
    message = f"expected {' or '.join(_EXPECTED.get(t, t) for t in wanted)}, got {got}"
    if "string" in wanted and not isinstance(value, dict | list) and value is not None:
        hint = "quote it: YAML reads yes/no/on/off, numbers and dates as other types unless quoted"
    elif {"integer", "number"} & set(wanted) and isinstance(value, str) and _numeric(value):
        hint = "remove the quotes: it must be a number"
    else:
        hint = f"write {' or '.join(_EXPECTED.get(t, t) for t in wanted)} here"
    return message, hint


def _yaml_kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    kinds = {int: "an integer", float: "a number", str: "a string", dict: "a mapping", list: "a list"}
    if value is None:
        return "nothing (null)"
    return next((name for cls, name in kinds.items() if isinstance(value, cls)), f"a {type(value).__name__}")


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
