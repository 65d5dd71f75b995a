"""kubeship.yaml: the typed spec, its loader (errors at line:column) and environment overlays."""

from kubeship.spec.load import deep_merge, load_environments, load_spec, parse_spec
from kubeship.spec.models import AppSpec, SpecFile
from kubeship.spec.quantity import parse_quantity

__all__ = [
    "AppSpec",
    "SpecFile",
    "deep_merge",
    "load_environments",
    "load_spec",
    "parse_quantity",
    "parse_spec",
]
