"""`kubeship check`: validate and lint Kubernetes YAML, ours or anyone's."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kubeship.errors import UsageError

if TYPE_CHECKING:
    from kubeship.check import Finding
    from kubeship.check.custom import CustomCheck
    from kubeship.check.load import Text


class CheckFailed(click.exceptions.Exit):
    """Findings at or above --fail-on: exit 1 after the report is printed."""


@click.command()
@click.argument("paths", nargs=-1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif", "junit", "github"]),
    default="text",
    show_default=True,
)
@click.option(
    "--fail-on", type=click.Choice(["error", "warning", "info"]), default="error", show_default=True,
    help="Exit 1 when a finding is at least this severe.",
)  # fmt: skip
@click.option("--kubernetes-version", help="Schemas of this version (default: the newest bundled).")
@click.option("--select", "select", help="Only these rule IDs (comma-separated).")
@click.option("--skip", "skip", help="Not these rule IDs (comma-separated).")
@click.option(
    "--min-severity", type=click.Choice(["error", "warning", "info"]), default="info", show_default=True
)
@click.option(
    "--external-refs", is_flag=True, help="ConfigMaps/Secrets referenced but absent exist in the cluster."
)
@click.option(
    "--schema-location", "schema_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
    help="Directory of JSON schemas for custom resources ({kind}_{version}.json, kubeconform's names).",
)  # fmt: skip
@click.option(
    "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
    help="Check config (select, skip, ignore with reasons); default .kubeship-check.yaml if present.",
)  # fmt: skip
@click.option(
    "--allow-empty",
    is_flag=True,
    help="No object in the input is fine (else exit 2: an empty render is no pass).",
)
@click.option("--explain", "explain", metavar="RULE", help="Describe a rule and exit.")
@click.option("--list-rules", is_flag=True, help="List every rule (ID, severity, category) and exit.")
def check(
    paths: tuple[str, ...],
    fmt: str,
    fail_on: str,
    kubernetes_version: str | None,
    select: str | None,
    skip: str | None,
    min_severity: str,
    external_refs: bool,
    schema_dirs: tuple[Path, ...],
    config_path: Path | None,
    allow_empty: bool,
    explain: str | None,
    list_rules: bool,
) -> None:
    """Check Kubernetes manifests in PATHS (files, directories, or - for stdin).

    Exit 0 when clean, 1 with findings at or above --fail-on, 2 on bad usage or unreadable input.
    """
    from kubeship.build.lint import RULES as DOCKERFILE_RULES
    from kubeship.build.lint import lint as lint_dockerfile
    from kubeship.check import (
        RULES,
        Finding,
        Options,
        Severity,
        check_documents,
        kustomize,
        load_documents,
        report,
        schema,
    )
    from kubeship.check.ci import check_gitlab_ci, is_gitlab_ci
    from kubeship.check.engine import (
        CheckConfig,
        Linted,
        lint_objects,
        load_config,
        needs_whole_stream,
        reportable,
    )
    from kubeship.check.load import NOT_AN_OBJECT, load_linted
    from kubeship.check.model import position
    from kubeship.limits import limits

    try:
        bound = limits()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    config = CheckConfig()
    default_config = Path(".kubeship-check.yaml")
    if config_path is None and default_config.is_file():
        config_path = default_config
    if config_path is not None:
        try:
            config = load_config(config_path.read_text(encoding="utf-8"), str(config_path))
        except OSError:
            raise UsageError(f"{config_path}: cannot read the check config") from None
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    own = {c.id: c for c in config.custom_checks}
    if list_rules:
        _list_rules(fmt, list(own.values()))
        return
    if explain is not None:
        _explain(explain.upper(), own)
        return
    if not paths:
        raise UsageError("give files, directories or - (stdin) to check")
    try:
        version = schema.resolve_version(kubernetes_version or config.kubernetes_version)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    ids = {r.strip().upper() for r in (select or "").split(",") if r.strip()} or set(config.select)
    skipped = {r.strip().upper() for r in (skip or "").split(",") if r.strip()} | config.skip
    unknown = sorted(
        (ids | skipped | {rule for rule, _ in config.ignores}) - set(RULES) - set(DOCKERFILE_RULES) - set(own)
    )
    if unknown:
        raise UsageError(f"unknown rule IDs: {', '.join(unknown)} (see kubeship check --explain ID)")
    options = Options(
        kubernetes_version=version,
        select=frozenset(ids),
        skip=frozenset(skipped),
        min_severity=Severity.parse(min_severity),
        external_refs=external_refs or config.external_refs,
        schema_dirs=tuple(schema_dirs),
        ignores=config.ignores,
        custom_checks=config.custom_checks,
    )
    docs, findings = [], []
    inputs, charts, walked = _read_inputs(paths)
    foreign: dict[str, Text] = {}
    others = {"Dockerfile": 0, "GitLab CI file": 0}  # checked by their own checkers
    for chart in charts:
        message = "a Helm chart: its templates are not YAML until rendered; skipped, not validated"
        findings.append(Finding(str(chart / "Chart.yaml"), 1, "KS003", Severity.INFO, message, HELM_HINT))
    status = _Status(sum(len(text) for _, text in inputs))
    # Objects are linted where they are parsed (a large stream: on two cores), unless an input holds a
    # CRD or a Kustomization, which changes how the others are read: then once everything is read.
    early = not any(needs_whole_stream(text) for name, text in inputs if not _is_other(Path(name)))
    linted: list[Finding] = []
    covered: set[int] = set()
    mistyped: set[int] = set()
    shared: dict[Any, Any] = {}  # the objects' equal parts made one while they are read (check.slim)
    for name, text in inputs:
        status.show(f"reading {name}")
        if _is_dockerfile(Path(name)):
            ignore_file = Path(name).parent / ".dockerignore"
            findings += lint_dockerfile(str(text), name, has_dockerignore=ignore_file.is_file())
            others["Dockerfile"] += 1
            continue
        if is_gitlab_ci(Path(name)):
            findings += check_gitlab_ci(str(text), name)
            others["GitLab CI file"] += 1
            continue
        if early:
            d, f, lf, flags = load_linted(
                text, name, lambda objs: lint_objects(objs, options, shared), bound=bound
            )
        else:
            (d, f), lf, flags = load_documents(text, name, parallel=True, bound=bound), [], []
        if not d and f and all(x.message.startswith(NOT_AN_OBJECT) for x in f):
            foreign[name] = text  # no object at all: judged once the Kustomize patches are known
            continue
        docs += d
        findings += f
        linted += lf
        covered.update(id(doc) for doc in d[: len(flags)])
        mistyped.update(id(doc) for doc, bad in zip(d, flags, strict=False) if bad)
    shared.clear()  # only the objects hold their parts now
    patches = kustomize.patch_files(docs)  # a JSON 6902 patch is a list, not an object: not a KS004
    findings = [f for f in findings if not (f.rule == "KS004" and f.file in patches)]
    findings += [_not_a_manifest(n, t, walked=n in walked) for n, t in foreign.items() if n not in patches]
    if (
        not docs
        and not any(others.values())
        and not allow_empty
        and not any(f.rule != "KS003" for f in findings)
    ):
        where = ", ".join(paths)
        raise UsageError(
            f"{where}: no Kubernetes object to check (an empty file or stream: did the render before it "
            "fail?); pass --allow-empty if nothing is expected"
        )
    status.show(f"checking {len(docs):,} objects")
    # the engine filters its own findings; the loader's, the Dockerfiles' and the notes pass the same filter
    done = Linted(linted, frozenset(covered), frozenset(mistyped))
    findings = sorted(
        [f for f in findings if reportable(f, options)] + check_documents(docs, options, done), key=position
    )
    status.done()
    chunks: Callable[[], Iterable[str]] = {
        "text": lambda: report.text_chunks(findings, len(docs), colour=sys.stdout.isatty(), others=others),
        "json": lambda: report.json_chunks(findings, len(docs)),
        "sarif": lambda: [report.sarif(findings)],
        "junit": lambda: [report.junit(findings, [(d.file, d.ref) for d in docs])],
        "github": lambda: [report.github(findings)],
    }[fmt]
    sys.stdout.writelines(chunks())  # written as made: a large report is never held whole
    threshold = Severity.parse(fail_on)
    if any(f.severity >= threshold for f in findings):
        raise CheckFailed(1)


class _Status:
    """One line on a terminal's stderr saying what a large check is doing (it takes seconds); nothing
    when stderr is not a terminal or the input is small."""

    LARGE = 2_000_000  # characters of input

    def __init__(self, size: int) -> None:
        self.on = size >= self.LARGE and sys.stderr.isatty()

    def show(self, what: str) -> None:
        if self.on:
            sys.stderr.write(f"\r\033[Kkubeship check: {what}…")
            sys.stderr.flush()

    def done(self) -> None:
        if self.on:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _explain(rule_id: str, own: dict[str, CustomCheck]) -> None:
    """What a rule checks, why, and the YAML to write: built-in, Dockerfile, or the config's own."""
    from kubeship.build.lint import RULES as DOCKERFILE_RULES
    from kubeship.check import RULES
    from kubeship.check.examples import EXAMPLES

    if rule_id in RULES:
        rule = RULES[rule_id]
        click.echo(f"{rule.id} {rule.name} ({rule.severity.label}, {rule.category})\n\n{rule.summary}")
        click.echo(f"\nfix: {rule.hint}")
        if rule.id in EXAMPLES:
            click.echo(f"\n{EXAMPLES[rule.id]}", nl=False)
    elif rule_id in DOCKERFILE_RULES:
        df = DOCKERFILE_RULES[rule_id]
        click.echo(f"{df.id} {df.title} ({df.severity.label}, dockerfile)\n\n{df.why}")
    elif rule_id in own:
        custom = own[rule_id]
        kinds = ", ".join(sorted(custom.kinds)) or "every kind"
        click.echo(f"{custom.id} ({custom.severity.label}, custom, {kinds})\n\n{custom.message}")
        if custom.hint:
            click.echo(f"\nfix: {custom.hint}")
        click.echo("\nschema:\n" + json.dumps(custom.schema, indent=2))
    else:
        known = ", ".join(sorted({*RULES, *DOCKERFILE_RULES, *own}))
        raise UsageError(f"no rule {rule_id!r}; rules: {known}")


def _list_rules(fmt: str, own: list[CustomCheck]) -> None:
    """The rule catalogue: manifests, Dockerfiles and the config's custom checks; `--format json` too."""
    from kubeship.build.lint import RULES as DOCKERFILE_RULES
    from kubeship.check import RULES

    rows = [(r.id, r.severity.label, r.category, r.name, r.summary) for r in RULES.values()]
    rows += [(r.id, r.severity.label, "dockerfile", r.title, r.why) for r in DOCKERFILE_RULES.values()]
    rows += [(c.id, c.severity.label, "custom", c.id.lower(), c.message) for c in own]
    rows.sort()
    if fmt == "json":
        keys = ("id", "severity", "category", "name", "summary")
        click.echo(json.dumps([dict(zip(keys, row, strict=True)) for row in rows], indent=2))
        return
    for rule_id, severity, category, name, summary in rows:
        click.echo(f"{rule_id}  {severity:7}  {category:14}  {name:32}  {summary}")
    click.echo(rule_count_line(len(own)))


def rule_count_line(custom: int = 0) -> str:
    """`65 lint rules, 8 parsing and schema checks, 11 Dockerfile rules`: one count, said alike everywhere."""
    from kubeship.build.lint import RULES as DOCKERFILE_RULES
    from kubeship.check import RULES

    schema_ids = sum(1 for r in RULES.values() if r.category == "schema")
    line = (
        f"{len(RULES) - schema_ids} lint rules, {schema_ids} parsing and schema checks, "
        f"{len(DOCKERFILE_RULES)} Dockerfile rules"
    )
    return line + (f", {custom} custom checks" if custom else "")


SKIPPED_DIRS = {"node_modules", "__pycache__", "venv"}  # and every hidden directory (.git, .venv, ...)
HELM_HINT = "check the rendered chart: helm template NAME DIR | kubeship check -"


def _read_inputs(paths: tuple[str, ...]) -> tuple[list[tuple[str, Text]], list[Path], set[str]]:
    """(name, text) of every input, the Helm charts met in directories (not read: templates), and the
    names of the files found by walking a directory (rather than named)."""
    out: list[tuple[str, Text]] = []
    charts: list[Path] = []
    walked: set[str] = set()
    for raw in paths:
        if raw == "-":
            out.append(("<stdin>", sys.stdin.read()))
            continue
        path = Path(raw)
        charts_before = len(charts)
        files = _walk(path, charts) if path.is_dir() else [path]
        if path.is_dir():
            walked.update(str(f) for f in files)
        if path.is_dir() and not files and len(charts) == charts_before:  # a CI job must not pass on nothing
            raise UsageError(
                f"{path}: no .yaml, .yml, .json or Dockerfile here (hidden and vendored directories skipped)"
            )
        for file in files:
            try:
                out.append((str(file), _read(file)))
            except FileNotFoundError:
                raise UsageError(f"{file}: no such file") from None
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"{file}: cannot read ({type(exc).__name__})") from None
    return out, charts, walked


def _read(file: Path) -> Text:
    """A file's text; a large manifest stays on disk, read a piece at a time (kubeship.check.load)."""
    from kubeship.check.load import PARALLEL_MIN, FileText

    if not _is_dockerfile(file) and file.is_file() and file.stat().st_size >= PARALLEL_MIN:
        return FileText(str(file))
    return file.read_text(encoding="utf-8")


def _not_a_manifest(name: str, text: Text, walked: bool) -> Finding:
    """A file with no Kubernetes object in it: an error when named, a note when a directory walk met it
    (directories hold other YAML: CI configs, compose files, kubeship specs). A kubeship spec says how
    to check what it renders."""
    from kubeship.check import Finding, Severity
    from kubeship.check.load import KS004_HINT

    text = text if isinstance(text, str) else text[0:4096]  # a large file: its head says enough
    spec = re.search(r"^name:", text, re.M) and re.search(r"^(image|container|replicas):", text, re.M)
    if spec:
        hint = f"a kubeship spec: check what it renders: kubeship render -f {name} | kubeship check -"
    else:
        hint = "name the file explicitly to have it checked as a manifest" if walked else KS004_HINT
    if walked:
        message = "not Kubernetes YAML (no apiVersion, no kind): skipped"
        return Finding(name, 1, "KS003", Severity.INFO, message, hint)
    return Finding(name, 1, "KS004", Severity.ERROR, "not a Kubernetes object: no apiVersion, no kind", hint)


def _walk(root: Path, charts: list[Path]) -> list[Path]:
    """Manifests and Dockerfiles under `root`, sorted; hidden and vendored directories are not entered,
    and a Helm chart (a directory with Chart.yaml) is noted instead: its templates are not YAML yet."""
    found = []
    for here, dirs, names in os.walk(root):
        if "Chart.yaml" in names:
            charts.append(Path(here))
            dirs.clear()
            continue
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS)
        found += [
            Path(here) / n
            for n in names
            if Path(n).suffix in (".yaml", ".yml", ".json") or _is_dockerfile(Path(n))
        ]
    return sorted(found)


def _is_other(path: Path) -> bool:
    """A file checked by its own checker rather than read for Kubernetes objects."""
    from kubeship.check.ci import is_gitlab_ci

    return _is_dockerfile(path) or is_gitlab_ci(path)


def _is_dockerfile(path: Path) -> bool:
    """Dockerfile, Containerfile, and the `name.Dockerfile` / `Dockerfile.name` variants."""
    name = path.name.lower()
    return any(
        name == n or name.startswith(n + ".") or name.endswith("." + n)
        for n in ("dockerfile", "containerfile")
    )
