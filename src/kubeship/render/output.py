"""Objects → YAML text: one multi-document stream, keys in the order Kubernetes users read."""

from __future__ import annotations

from io import StringIO
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString


def _yaml() -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096  # never fold long strings (PromQL, commands)
    yaml.indent(mapping=2, sequence=2, offset=0)
    return yaml


def to_yaml(objects: list[dict[str, Any]]) -> str:
    """A `---`-separated stream that `kubectl apply -f -` takes as is."""
    out = StringIO()
    _yaml().dump_all([_literal_blocks(o) for o in objects], out)
    return out.getvalue()


def _literal_blocks(node: Any) -> Any:
    """Multi-line strings (embedded configs, PromQL) as `|` blocks, readable in diffs."""
    if isinstance(node, dict):
        return {k: _literal_blocks(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_literal_blocks(v) for v in node]
    if isinstance(node, str) and "\n" in node:
        return LiteralScalarString(node)
    return node


def file_name(obj: dict[str, Any]) -> str:
    """`deployment-web.yaml`: one file per object for `-o dir/`."""
    return f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
