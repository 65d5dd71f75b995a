"""Lint a Dockerfile against the seed's image practices; findings like `kubeship check`'s (pure).

Any Dockerfile, not only ours: the generated one passes with zero findings
(a test keeps it so), a hand-written one learns what to fix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from kubeship.check.model import Finding, Severity


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str
    why: str


RULES = {
    r.id: r
    for r in (
        Rule("KS401", Severity.ERROR, "base image is 'latest' or untagged",
             "The same Dockerfile builds a different image tomorrow; pin a tag (and a digest)."),
        Rule("KS402", Severity.ERROR, "the final stage runs as root",
             "A container escape starts as root. End with USER <uid>:<gid> (numeric, so Kubernetes' "
             "runAsNonRoot can verify it)."),
        Rule("KS403", Severity.WARNING, "no .dockerignore next to the Dockerfile",
             "The whole directory (.git, .env, venvs, caches) is sent to the builder and may be copied in."),
        Rule("KS404", Severity.WARNING, "apt-get install without cleaning the package lists",
             "The lists stay in the layer (tens of MB); end the same RUN with rm -rf /var/lib/apt/lists/* "
             "and use --no-install-recommends."),
        Rule("KS405", Severity.WARNING, "ADD of a URL",
             "ADD fetches without a checksum and caches unpredictably; download with curl and verify, "
             "or COPY a vendored file."),
        Rule("KS406", Severity.WARNING, "pip install keeps its cache",
             "The wheel cache stays in the layer; use --no-cache-dir or ENV PIP_NO_CACHE_DIR=1."),
        Rule("KS407", Severity.WARNING, "source copied before the dependencies are installed",
             "Every code change then re-installs every dependency; copy the requirements file, install, "
             "then copy the source."),
        Rule("KS408", Severity.ERROR, "shell-form ENTRYPOINT/CMD",
             "/bin/sh becomes PID 1 and does not forward SIGTERM: the app gets SIGKILL after the grace "
             "period instead of draining. Use the JSON (exec) form."),
        Rule("KS409", Severity.WARNING, "single stage: build tools ship in the runtime image",
             "Compilers and pip caches belong in a builder stage; copy only the venv into a slim final "
             "stage."),
        Rule("KS410", Severity.ERROR, "secret in ENV or ARG",
             "ENV and ARG values are stored in the image history for anyone who can pull it; mount "
             "secrets at build time (--secret) or at run time."),
        Rule("KS411", Severity.WARNING, "base image pinned by tag only",
             "A tag moves (python:3.11 is rebuilt for every patch and security fix): the same Dockerfile "
             "builds from another base tomorrow. Add the digest (FROM python:3.11-slim@sha256:...; "
             "build.baseDigest in kubeship.yaml) and let Renovate or Dependabot move both."),
    )
}  # fmt: skip

_INSTALL = re.compile(r"\b(pip3?|uv|poetry)\s+(pip\s+)?(install|sync)")
_COPY_ALL = re.compile(r"(--\S+\s+)*\.\s")  # COPY . <dest>: the whole context
Report = Callable[[str, int, str], None]  # (rule id, line, message)
_SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIALS?)", re.I)


@dataclass(frozen=True)
class Instruction:
    line: int
    keyword: str
    args: str


def parse(text: str) -> list[Instruction]:
    """Logical instructions with their first line; continuations joined, comments dropped."""
    out: list[Instruction] = []
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not buffer and (not stripped or stripped.startswith("#")):
            continue
        if buffer and stripped.startswith("#"):
            continue  # comment lines inside a continuation are skipped by Docker too
        if not buffer:
            start = number
        if stripped.endswith("\\"):
            buffer.append(stripped[:-1])
            continue
        buffer.append(stripped)
        logical = " ".join(buffer)
        buffer = []
        keyword, _, args = logical.partition(" ")
        out.append(Instruction(start, keyword.upper(), args.strip()))
    return out


def lint(text: str, file: str = "Dockerfile", *, has_dockerignore: bool = True) -> list[Finding]:
    instructions = parse(text)
    findings: list[Finding] = []

    def found(rule_id: str, line: int, message: str) -> None:
        rule = RULES[rule_id]
        findings.append(Finding(file, line, rule_id, rule.severity, message, rule.why, "Dockerfile"))

    stages: list[list[Instruction]] = []
    for ins in instructions:
        if ins.keyword == "FROM":
            stages.append([])
            _check_from(ins, found, {s[0].args.split()[-1].lower() for s in stages[:-1] if s})
        if stages:
            stages[-1].append(ins)
    if not has_dockerignore:
        found("KS403", 1, "no .dockerignore: the build context is sent and copied whole")
    env_no_cache = any(i.keyword == "ENV" and "PIP_NO_CACHE_DIR" in i.args for i in instructions)
    for ins in instructions:
        if ins.keyword == "RUN":
            run = ins.args
            if re.search(r"apt-get\s+(-\S+\s+)*install", run) and "/var/lib/apt/lists" not in run:
                found("KS404", ins.line, "apt-get install leaves /var/lib/apt/lists in the layer")
            if re.search(r"\bpip3?\s+install\b", run) and "--no-cache-dir" not in run and not env_no_cache:
                found(
                    "KS406", ins.line, "pip install without --no-cache-dir keeps the wheel cache in the layer"
                )
        elif ins.keyword == "ADD" and re.search(r"(^|\s)https?://", ins.args):
            found("KS405", ins.line, f"ADD {ins.args.split()[0]}: fetched without a checksum")
        elif ins.keyword in ("ENV", "ARG"):
            names = re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=", ins.args)
            if not names and ins.keyword == "ENV":  # the legacy `ENV NAME value` form
                names = ins.args.split()[:1]
            for name in names:
                if _SECRET_NAME.search(name) and (ins.keyword == "ENV" or f"{name}=" in ins.args):
                    found("KS410", ins.line, f"{ins.keyword} {name}: bakes a secret into the image")
    for stage in stages:
        installs = [i.line for i in stage if i.keyword == "RUN" and _INSTALL.search(i.args)]
        copies_all = [i.line for i in stage if i.keyword in ("COPY", "ADD") and _COPY_ALL.match(i.args + " ")]
        if installs and copies_all and min(copies_all) < max(installs):
            found("KS407", min(copies_all), "COPY . comes before the dependency install")
    if stages:
        _check_final_stage(stages[-1], found, multi_stage=len(stages) > 1)
    return sorted(findings)


def _check_from(ins: Instruction, found: Report, earlier_stages: set[str]) -> None:
    words = [w for w in ins.args.split() if not w.startswith("--")]
    image = words[0] if words else ""
    if image.lower() in earlier_stages or image == "scratch" or "$" in image:
        return
    name = image.rsplit("/", 1)[-1]
    if "@sha256:" not in image and (":" not in name or name.endswith(":latest")):
        found("KS401", ins.line, f"FROM {image}: not pinned (implicit or explicit 'latest')")
    elif "@sha256:" not in image:
        found("KS411", ins.line, f"FROM {image}: a tag, no digest")


def _check_final_stage(stage: list[Instruction], report: Report, *, multi_stage: bool) -> None:
    users = [i for i in stage if i.keyword == "USER"]
    if not users or users[-1].args.split(":")[0] in ("root", "0"):
        line = users[-1].line if users else stage[0].line
        report("KS402", line, "the final stage has no non-root USER")
    for ins in stage:
        if ins.keyword in ("ENTRYPOINT", "CMD") and not _exec_form(ins.args):
            report("KS408", ins.line, f"{ins.keyword} {ins.args}: shell form")
    if not multi_stage and any(i.keyword == "RUN" and _INSTALL.search(i.args) for i in stage):
        report("KS409", stage[0].line, "one stage builds and runs: pip and build tools ship in the image")


def _exec_form(args: str) -> bool:
    try:
        value = json.loads(args)
    except ValueError:
        return False
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
