"""The Prometheus Adapter's side of a custom metric: which rule serves it, and the PromQL it runs.

`autoscale explain --prometheus` asks Prometheus what the adapter would, so
the decision it explains is the one the HPA makes from the same rule: the
rule is found by the name it exposes (`name.matches` / `name.as` applied to
the series, as the adapter does) and its `metricsQuery` template filled in
with the adapter's `<<.Series>>`, `<<.LabelMatchers>>` and `<<.GroupBy>>`.
"""

from __future__ import annotations

import re
from typing import Any

_SERIES = re.compile(r"\s*([a-zA-Z_:][a-zA-Z0-9_:]*)")


def _exposed(rule: dict[str, Any], series: str) -> str | None:
    naming = rule.get("name") or {}
    matches = str(naming.get("matches") or "^(.*)$")
    found = re.search(matches, series)
    if found is None:
        return None
    # Go's ReplaceAllString writes groups as $1 / ${1}; expand them on the match as the adapter does.
    template = re.sub(r"\$\{?(\d+)\}?", r"\\\1", str(naming.get("as") or "$1"))
    return found.expand(template)


def problems(config: Any) -> list[str]:
    """What keeps the adapter from reading `config` (rules / externalRules), each naming its rule."""
    if not isinstance(config, dict):
        return [f"expected a mapping with rules / externalRules, got {type(config).__name__}"]
    found = []
    for key in ("rules", "externalRules"):
        rules = config.get(key) or []
        if not isinstance(rules, list):
            found.append(f"{key}: expected a list")
            continue
        for i, rule in enumerate(rules):
            where = f"{key}[{i}]"
            if not isinstance(rule, dict):
                found.append(f"{where}: expected a mapping")
                continue
            for field in ("seriesQuery", "metricsQuery"):
                if not isinstance(rule.get(field), str):
                    found.append(f"{where}.{field}: expected a string")
            for field in ("name", "resources"):
                if rule.get(field) is not None and not isinstance(rule[field], dict):
                    found.append(f"{where}.{field}: expected a mapping")
            naming = rule.get("name")
            if isinstance(naming, dict) and naming.get("matches") is not None:
                try:
                    re.compile(str(naming["matches"]))
                except re.error as exc:
                    found.append(f"{where}.name.matches: not a regular expression ({exc})")
    return found


def metrics_query(
    config: dict[str, Any],
    kind: str,
    name: str,
    namespace: str,
    pod_pattern: str,
    selector: dict[str, str] | None = None,
) -> str | None:
    """The query the adapter runs for metric `name` of `kind` (Pods or External), or None. `config` is
    one `problems` has nothing to say about."""
    for rule in config.get("rules" if kind == "Pods" else "externalRules") or []:
        if not isinstance(rule, dict) or not isinstance(rule.get("metricsQuery"), str):
            continue
        head = _SERIES.match(str(rule.get("seriesQuery", "")))
        if head is None or _exposed(rule, head.group(1)) != name:
            continue
        labels = [f'{k}="{v}"' for k, v in sorted((selector or {}).items())]
        if kind == "Pods":
            labels = [f'namespace="{namespace}"', f'pod=~"{pod_pattern}"', *labels]
            group = "pod"
        else:
            if (rule.get("resources") or {}).get("namespaced", True) is not False:
                labels = [f'namespace="{namespace}"', *labels]
            group = ""
        query: str = rule["metricsQuery"]
        for key, value in (
            ("Series", head.group(1)),
            ("LabelMatchers", ",".join(labels)),
            ("GroupBy", group),
        ):
            query = re.sub(rf"<<\s*\.{key}\s*>>", value, query)
        return query
    return None
