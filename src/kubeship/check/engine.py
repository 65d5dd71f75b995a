"""Run schema validation and every selected rule over a set of documents."""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from kubeship.check import custom, kustomize, schema
from kubeship.check.custom import CustomCheck
from kubeship.check.heap import paused_gc
from kubeship.check.load import WHOLE_STREAM, FileText, Text, field_line
from kubeship.check.model import Document, Finding, Severity, position
from kubeship.check.rules import RULES, Index
from kubeship.check.slim import slim
from kubeship.names import IGNORE_ANNOTATION

T = TypeVar("T")
Hit = Any  # what a rule yields: a message, or (message, path) / (object, message[, path])


@dataclass(frozen=True)
class Options:
    kubernetes_version: str = field(default_factory=schema.latest_version)
    select: frozenset[str] = frozenset()  # rule IDs to run; empty: all
    skip: frozenset[str] = frozenset()
    min_severity: Severity = Severity.INFO
    external_refs: bool = False  # referenced ConfigMaps/Secrets may live only in the cluster
    validate_schema: bool = True
    schema_dirs: tuple[Path, ...] = ()  # the user's own schemas (CRDs), kubeconform's file naming
    ignores: tuple[tuple[str, str], ...] = ()  # (rule ID, object glob like "Deployment/*") from a config file
    custom_checks: tuple[CustomCheck, ...] = ()  # the team's own rules (config file `customChecks`)


@dataclass(frozen=True)
class Linted:
    """The per-object pass (schema, custom checks, object rules) already run over some documents, where
    they were parsed (in two processes for a large stream): its findings, the documents it covered and
    those the schema found mistyped (the cross-resource rules skip them)."""

    findings: list[Finding]
    covered: frozenset[int]  # id() of the documents
    mistyped: frozenset[int]


def check_documents(
    docs: list[Document], options: Options = Options(), linted: Linted | None = None
) -> list[Finding]:
    """Findings for `docs`, checked together (cross-resource rules see all of them), sorted by position."""
    with paused_gc():
        return _check(docs, options, linted or Linted([], frozenset(), frozenset()))


def lint_objects(
    docs: list[Document], options: Options, shared: dict[Any, Any] | None = None
) -> tuple[list[Finding], list[bool], list[Document]]:
    """The per-object pass alone, for documents checked where they were parsed: findings, per document
    whether the schema found it mistyped, and the documents slimmed to what the cross-resource rules
    read (kubeship.check.slim; `shared`: its table of parts made one, kept across calls while a stream
    is read). Only for streams with no CustomResourceDefinition or Kustomization (they change how
    every other object is read): `needs_whole_stream` says."""
    with paused_gc():
        lint = _ObjectPass(options, {})
        findings: list[Finding] = []
        mistyped = [lint.run(doc, findings) for doc in docs]
        kept = [dataclasses.replace(doc, obj=slim(doc.obj, shared)) for doc in docs]
        return findings, mistyped, kept


def needs_whole_stream(text: Text) -> bool:
    """Whether a stream may hold a CRD (it schemas other objects) or a Kustomization (it sets patches
    aside): then objects are linted only once every input is read."""
    if isinstance(text, FileText):
        return text.whole_stream  # found as the file was opened
    return WHOLE_STREAM.search(text) is not None


class _ObjectPass:
    """Schema, the config's custom checks and the object rules over one document at a time."""

    def __init__(self, options: Options, crd_schemas: dict[tuple[str, str], schema.Compiled]) -> None:
        self.options, self.crd_schemas = options, crd_schemas
        self.active = [r for r in RULES.values() if r.check is not None and _selected(r.id, options)]
        self.own = [c for c in options.custom_checks if _selected(c.id, options)]

    def run(self, doc: Document, findings: list[Finding]) -> bool:
        """Append the document's findings; True when its values have the wrong types (no rule reads it)."""
        ignored = _ignored_ids(doc)
        mistyped, vouched = False, False
        if self.options.validate_schema:
            version, dirs = self.options.kubernetes_version, self.options.schema_dirs
            found, mistyped = schema.validate(doc, version, dirs, self.crd_schemas)
            vouched = not any(f.rule == "KS003" for f in found)
            findings += [f for f in found if f.rule not in ignored]
        for check in self.own:  # a schema reads any shape: no need to skip a mistyped object
            own_finding = check.check(doc) if check.id not in ignored else None
            if own_finding is not None:
                findings.append(own_finding)
        if mistyped:
            return True
        for rule in self.active:
            if rule.check is None or rule.id in ignored:
                continue
            # a schema-checked object has the shape the rules read: a crash there is a rule's bug
            for hit in rule.check(doc) if vouched else _guarded(rule.check, doc):
                message, line = (hit, doc.line) if isinstance(hit, str) else (hit[0], field_line(doc, hit[1]))
                findings.append(Finding(doc.file, line, rule.id, rule.severity, message, rule.hint, doc.ref))
        return False


def _check(docs: list[Document], options: Options, linted: Linted) -> list[Finding]:
    findings: list[Finding] = []
    patches = kustomize.patch_files(docs)
    if patches:  # partial objects: neither validated nor seen by the cross-resource rules
        for doc in docs:
            if doc.file in patches:
                by = patches[doc.file].file
                message = f"a Kustomize patch (used by {by}): skipped, not validated"
                findings.append(
                    Finding(doc.file, doc.line, "KS003", Severity.INFO, message, kustomize.HINT, doc.ref)
                )
        docs = [doc for doc in docs if doc.file not in patches]
    findings += [f for f in linted.findings if f.file not in patches]
    # Suppressions belong to the object, whatever line inside it a finding points at (most have none).
    ignored = {id(doc): ids for doc in docs if (ids := _ignored_ids(doc))}
    crd_schemas: dict[tuple[str, str], schema.Compiled] = {}
    if options.validate_schema and len(linted.covered) < len(docs):
        crd_schemas, broken = schema.custom_schemas(docs, options.kubernetes_version)
        findings += broken
    # A value of the wrong type (a string where a list goes) is a schema error; the rules, which read
    # those values, skip that object rather than misread it.
    lint = _ObjectPass(options, crd_schemas)
    well_formed = []
    for doc in docs:  # schema and object rules together: a document is re-read at most once for lines
        mistyped = id(doc) in linted.mistyped if id(doc) in linted.covered else lint.run(doc, findings)
        if not mistyped:
            well_formed.append(doc)
    index = Index(well_formed, external_refs=options.external_refs)
    for rule in RULES.values():
        if rule.cross is None or not _selected(rule.id, options):
            continue
        for owner, message, *where in _guarded(rule.cross, index):
            if rule.id not in ignored.get(id(owner), ()):
                line = field_line(owner, where[0]) if where else owner.line
                findings.append(
                    Finding(owner.file, line, rule.id, rule.severity, message, rule.hint, owner.ref)
                )
    origins = {(d.file, d.ref): d.origin for d in docs if d.origin}
    if origins:  # rendered from templates (Helm): say which one each finding's object came from
        findings = [dataclasses.replace(f, origin=origins.get((f.file, f.object), "")) for f in findings]
    return sorted((f for f in findings if reportable(f, options)), key=position)


def _guarded(check: Callable[[T], Iterator[Hit]], subject: T) -> list[Hit]:
    """A rule's hits; none when the objects have a shape no schema vouched for (a custom resource,
    an object of a kind with no schema) and the rule cannot read them."""
    try:
        return list(check(subject))
    except (AttributeError, TypeError, KeyError, IndexError, ValueError):
        return []


def reportable(finding: Finding, options: Options) -> bool:
    """Severity threshold, rule selection and the config file's ignores: a finding from any source
    (manifests, Dockerfiles) passes the same filter."""
    return (
        finding.severity >= options.min_severity
        and _selected(finding.rule, options)
        and not any(
            finding.rule == rule and fnmatch.fnmatchcase(finding.object, pattern)
            for rule, pattern in options.ignores
        )
    )


def _selected(rule_id: str, options: Options) -> bool:
    return (not options.select or rule_id in options.select) and rule_id not in options.skip


def _ignored_ids(doc: Document) -> set[str]:
    """`kubeship.io/ignore: "KS105,KS108: the batch job owns its node"` → {KS105, KS108}."""
    annotations = doc.metadata.get("annotations")
    value = str(annotations.get(IGNORE_ANNOTATION, "")) if isinstance(annotations, dict) else ""
    ids, _, _reason = value.partition(":")
    return {i.strip() for i in ids.split(",") if i.strip()}


def summarize(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {s.label: 0 for s in Severity}
    for f in findings:
        counts[f.severity.label] += 1
    return counts


@dataclass(frozen=True)
class CheckConfig:
    """What a `.kubeship-check.yaml` file sets; the command line adds to it."""

    select: frozenset[str] = frozenset()
    skip: frozenset[str] = frozenset()
    ignores: tuple[tuple[str, str], ...] = ()
    external_refs: bool = False
    kubernetes_version: str | None = None
    custom_checks: tuple[CustomCheck, ...] = ()


def load_config(text: str, source: str) -> CheckConfig:
    """Parse a check config: `select`, `skip`, `ignore: [{rule, object, reason}]`, `externalRefs`,
    `kubernetesVersion`, `customChecks` (see kubeship.check.custom). ValueError names the problem."""
    import yaml

    from kubeship.limits import LimitError, Limits, load_yaml_all

    try:
        docs = load_yaml_all(text, Limits())
    except yaml.YAMLError as exc:
        raise ValueError(f"{source}: invalid YAML: {exc}") from None
    except LimitError as exc:
        raise ValueError(exc.located(source)) from None
    data = (docs[0] if docs else None) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{source}: expected a mapping at the top level")
    known = {"select", "skip", "ignore", "externalRefs", "kubernetesVersion", "customChecks"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{source}: unknown keys {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    ignores = []
    for i, entry in enumerate(data.get("ignore") or []):
        if not isinstance(entry, dict) or "rule" not in entry or not entry.get("reason"):
            raise ValueError(f"{source}: ignore[{i}]: give rule, reason and optionally object (a glob)")
        ignores.append((str(entry["rule"]).upper(), str(entry.get("object", "*"))))
    version = data.get("kubernetesVersion")
    return CheckConfig(
        select=frozenset(str(r).upper() for r in data.get("select") or []),
        skip=frozenset(str(r).upper() for r in data.get("skip") or []),
        ignores=tuple(ignores),
        external_refs=bool(data.get("externalRefs")),
        kubernetes_version=None if version is None else str(version),
        custom_checks=custom.parse(data.get("customChecks"), source),
    )
