"""kubeship check: strict schema validation, lint rules and cross-resource checks, offline."""

from kubeship.check.engine import Options, check_documents, summarize
from kubeship.check.load import load_documents
from kubeship.check.model import Document, Finding, Severity
from kubeship.check.rules import RULES, Rule

__all__ = [
    "RULES",
    "Document",
    "Finding",
    "Options",
    "Rule",
    "Severity",
    "check_documents",
    "load_documents",
    "summarize",
]
