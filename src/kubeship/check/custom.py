"""The team's own rules, from the check config: a JSON Schema each matching object must satisfy.

    customChecks:
    - id: ACME-TEAM-LABEL
      severity: warning
      kinds: [Deployment, StatefulSet]
      message: every workload names its owning team
      hint: add metadata.labels.team
      schema:
        properties:
          metadata:
            required: [labels]
            properties: {labels: {required: [team]}}

Polaris-style: the schema says what a good object looks like; an object that fails it is a finding,
at the line of the first field that fails. IDs are the team's own (not KS…), and everything that
works for a built-in rule works for them: --select/--skip, the ignore annotation, config ignores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import jsonschema_rs

from kubeship.check.load import field_line
from kubeship.check.model import Document, Finding, Severity

_ID = re.compile(r"[A-Z][A-Z0-9]*(-[A-Z0-9]+)+")


@dataclass(frozen=True)
class CustomCheck:
    id: str
    severity: Severity
    message: str
    schema: dict[str, Any] = field(compare=False, repr=False)
    kinds: frozenset[str] = frozenset()  # empty: every kind
    hint: str = ""
    validator: Any = field(default=None, compare=False, repr=False)

    def check(self, doc: Document) -> Finding | None:
        if self.kinds and doc.kind not in self.kinds:
            return None
        error = next(iter(self.validator.iter_errors(doc.obj)), None)
        if error is None:
            return None
        path = list(error.instance_path)
        where = ".".join(str(p) for p in path) or "(object)"
        keyword = next((str(k) for k in reversed(list(error.schema_path)) if isinstance(k, str)), "schema")
        # the keyword it fails, not jsonschema's message: that quotes the value, which may be a secret
        hint = self.hint or f"{where}: fails the check's '{keyword}'"
        return Finding(doc.file, field_line(doc, path), self.id, self.severity, self.message, hint, doc.ref)


def parse(entries: object, source: str) -> tuple[CustomCheck, ...]:
    """The `customChecks` list of a config file; ValueError naming the entry and what is wrong."""
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise ValueError(f"{source}: customChecks must be a list")
    checks, seen = [], set()
    for i, entry in enumerate(entries):
        where = f"{source}: customChecks[{i}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: expected a mapping with id, message and schema")
        unknown = sorted(set(entry) - {"id", "severity", "kinds", "message", "hint", "schema"})
        if unknown:
            raise ValueError(f"{where}: unknown keys {', '.join(unknown)}")
        rule_id = str(entry.get("id", ""))
        if not _ID.fullmatch(rule_id) or rule_id.startswith("KS"):
            raise ValueError(
                f"{where}: id {rule_id!r} must look like ACME-TEAM-LABEL (not KS…, kubeship's own)"
            )
        if rule_id in seen:
            raise ValueError(f"{where}: id {rule_id} is used twice")
        seen.add(rule_id)
        if not entry.get("message") or not isinstance(entry.get("schema"), dict):
            raise ValueError(f"{where}: give a message and a schema (a JSON Schema as a mapping)")
        kinds = entry.get("kinds") or []
        if not isinstance(kinds, list):
            raise ValueError(f"{where}: kinds must be a list of kinds")
        try:
            severity = Severity.parse(str(entry.get("severity", "warning")))
            validator = jsonschema_rs.validator_for(entry["schema"])
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        checks.append(
            CustomCheck(
                rule_id,
                severity,
                str(entry["message"]),
                entry["schema"],
                frozenset(str(k) for k in kinds),
                str(entry.get("hint", "")),
                validator,
            )
        )
    return tuple(checks)
