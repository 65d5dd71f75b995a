"""GitLab CI files (`.gitlab-ci.yml`) against GitLab's published JSON schema, offline.

The schema is GitLab's own (`app/assets/javascripts/editor/schema/ci.json`, the one its
pipeline editor validates with), bundled as `schemas/gitlab-ci.json` from check-jsonschema's
vendored copy (MIT, `schemas/LICENSE.gitlab-ci`). A file that is not valid YAML, or over the
input limits, is reported as for any manifest (KS001, KS007); each schema error is KS008 at
its line.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from kubeship.check.model import Finding, Severity
from kubeship.limits import LimitError, check_size, limits, scan

SCHEMA = Path(__file__).parent / "schemas" / "gitlab-ci.json"
HINT = "see https://docs.gitlab.com/ci/yaml/ for the keyword; GitLab's pipeline editor shows the same error"


def is_gitlab_ci(path: Path) -> bool:
    """`.gitlab-ci.yml`, and included files named like `deploy.gitlab-ci.yml`."""
    return path.name == ".gitlab-ci.yml" or path.name.endswith(".gitlab-ci.yml")


class _Loader(yaml.SafeLoader):
    """GitLab's `!reference [job, script]` tag reads as the list it names."""


_Loader.add_constructor("!reference", lambda loader, node: loader.construct_sequence(node))  # type: ignore[arg-type]


@cache
def _validator() -> Any:
    import jsonschema_rs

    return jsonschema_rs.validator_for(json.loads(SCHEMA.read_text(encoding="utf-8")))


def check_gitlab_ci(text: str, file: str) -> list[Finding]:
    """Findings of one GitLab CI file: syntax, input limits, then the schema."""
    bound = limits()
    try:
        check_size(len(text), bound)
        scan(yaml.parse(text, Loader=_Loader), bound)
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except LimitError as exc:
        return [Finding(file, exc.line, "KS007", Severity.ERROR, exc.problem(), exc.remedy())]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        return [Finding(file, line, "KS001", Severity.ERROR, f"invalid YAML: {exc}")]
    if not isinstance(data, dict):
        message = "a GitLab CI file is a mapping of jobs and keywords"
        return [Finding(file, 1, "KS008", Severity.ERROR, message, HINT)]
    findings = []
    for error in _validator().iter_errors(data):
        path = list(error.instance_path)
        where_key = path.copy()
        if type(error.kind).__name__ == "AdditionalProperties":  # point at the unknown key itself
            where_key += re.findall(r"'([^']+)'", str(error.message))[:1]
        where = ".".join(str(p) for p in path) or "(file)"
        findings.append(
            Finding(file, _line(node, where_key), "KS008", Severity.ERROR, f"{where}: {_short(error)}", HINT)
        )
    return findings


def _short(error: Any) -> str:
    """jsonschema's message, without the whole offending value it quotes first for `anyOf` errors."""
    message = str(error.message)
    if len(message) > 300:
        message = message[:150] + " … " + message[-120:]
    return message


def _line(node: yaml.Node | None, path: list[str | int]) -> int:
    """The 1-based line of `path`'s last key (or item): the deepest part of it the YAML has."""
    if node is None:
        return 1
    line = int(node.start_mark.line)
    for part in path:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == part), None)
            if pair is None:
                break
            line, node = int(pair[0].start_mark.line), pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = int(node.start_mark.line)
        else:
            break
    return line + 1
