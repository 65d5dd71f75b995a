"""Findings and the documents they point at."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class Severity(IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r}: use info, warning or error") from None


@dataclass(frozen=True, slots=True)  # a large stream holds tens of thousands
class Document:
    """One object from a YAML stream, and where it stood."""

    obj: dict[str, Any]
    file: str
    line: int
    # (stream text, start, end, column) of the object in its YAML stream, for field lines; the text is a
    # str, or a large file read back by byte offset (kubeship.check.load.FileText)
    source: tuple[Any, int, int, int] | None = field(default=None, compare=False, repr=False)
    origin: str = field(
        default="", compare=False
    )  # the template it came from (`helm template`'s `# Source:`)

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind", ""))

    @property
    def metadata(self) -> dict[str, Any]:
        """The object's metadata, or {} when it is missing or not a mapping (the schema says so)."""
        meta = self.obj.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", ""))

    @property
    def namespace(self) -> str:
        return str(self.metadata.get("namespace") or "")

    @property
    def ref(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{ns}{self.name}"


@dataclass(frozen=True, order=True)
class Finding:
    file: str
    line: int
    rule: str
    severity: Severity = field(compare=False)
    message: str = field(compare=False)
    hint: str = field(compare=False, default="")
    object: str = field(compare=False, default="")
    origin: str = field(compare=False, default="")  # the object's template, when the stream says (Helm)


def position(finding: Finding) -> tuple[str, int, str]:
    """The report's order (file, line, rule) as one tuple: sorting by it is several times faster than
    by the dataclass's own comparisons, which build two tuples per comparison."""
    return finding.file, finding.line, finding.rule
