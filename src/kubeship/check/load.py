"""YAML streams → documents with their line, in one pass; malformed YAML becomes a finding."""

from __future__ import annotations

from typing import Any

import yaml

from kubeship.check.model import Document, Finding, Severity

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _PositionLoader(_Loader):  # type: ignore[misc, valid-type]
    """Records the line each document starts at while constructing it (no second parse)."""

    lines: list[int]

    def construct_document(self, node: yaml.Node) -> Any:
        self.lines.append(node.start_mark.line + 1)
        return super().construct_document(node)


def load_documents(text: str, file: str) -> tuple[list[Document], list[Finding]]:
    """Objects of a multi-document stream (`List` kinds flattened) and parse findings."""
    loader = _PositionLoader(text)
    loader.lines = []
    docs: list[Document] = []
    findings: list[Finding] = []
    try:
        while loader.check_data():
            data = loader.get_data()
            line = loader.lines[-1] if loader.lines else 1
            _collect(data, file, line, docs, findings)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1) if mark else 1
        problem = f"invalid YAML: {exc.problem or exc.context}"
        findings.append(
            Finding(
                file,
                line,
                "KS001",
                Severity.ERROR,
                problem,
                "fix the syntax here; later documents were not read",
            )
        )
    except yaml.YAMLError as exc:
        findings.append(Finding(file, 1, "KS001", Severity.ERROR, f"invalid YAML: {exc}"))
    finally:
        loader.dispose()
    return docs, findings


def _collect(data: Any, file: str, line: int, docs: list[Document], findings: list[Finding]) -> None:
    if data is None:
        return  # an empty document (a trailing ---)
    if not isinstance(data, dict):
        findings.append(
            Finding(
                file,
                line,
                "KS004",
                Severity.ERROR,
                f"expected a Kubernetes object, got {type(data).__name__}",
            )
        )
        return
    if str(data.get("kind", "")).endswith("List") and isinstance(data.get("items"), list):
        for item in data["items"]:
            _collect(item, file, line, docs, findings)
        return
    missing = [k for k in ("apiVersion", "kind") if not data.get(k)]
    if missing:
        findings.append(
            Finding(file, line, "KS004", Severity.ERROR, f"object without {' and '.join(missing)}",
                    "every Kubernetes object needs apiVersion and kind")
        )  # fmt: skip
        return
    docs.append(Document(data, file, line))
