"""Check speed: a 5,000-object corpus through `kubeship check` (schema + every rule).

The corpus is generated: rendered apps (the shape real manifests have), a
share of them broken in realistic ways (unpinned images, missing probes,
privileged containers, dangling Services). Prints objects/s overall and the
time per stage, so it is clear where the time goes, and ratios against
baselines run side by side in this process:

- parsing: PyYAML's own CSafeLoader (what any Python checker starts from);
- validating: kubernetes-validate, the Python counterpart of kubeconform
  (the same official schemas, strict, schema only), on a sample;
- validating in Go: apps/schema_baseline.go, built from Debian's Go packages,
  what kubeval (kubeconform's predecessor) did: yaml.v3 + gojsonschema, one
  core, the same strict schemas, schema only;
- kubeconform v0.6.3 itself, when its built baseline is in
  ../shared/tools/kubeconform/: `kubeship check --format json` and kubeconform
  (strict, schema only) in fresh processes, alternating, median of 3 — wall,
  CPU and peak memory at N objects, N×10 (the corpus repeated ten times) and
  N×10 distinct objects.

usage: python benchmarks/check.py [--objects 5000] [--sample 300] [--profile]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import pstats
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, __file__.rsplit("/", 1)[0])

import kubernetes_validate
import yaml
from gobuild import go_build

from kubeship.check import Options, check_documents, load_documents
from kubeship.check import schema as schema_mod
from kubeship.observe import prometheus_rule, service_monitor
from kubeship.render import render, to_yaml
from kubeship.spec import AppSpec
from render import app

GO_LIBRARIES = {
    "github.com/xeipuuv/gojsonschema": "golang-github-xeipuuv-gojsonschema-dev",
    "gopkg.in/yaml.v3": "golang-gopkg-yaml.v3-dev",
}


def corpus(target: int) -> str:
    """Rendered apps in the shapes clusters hold: some with their Prometheus Operator objects, some
    delivered as Argo Rollouts, some with a CronJob and RBAC; one in five broken."""
    objects: list[dict[str, Any]] = []
    i = 0
    while len(objects) < target:
        spec = AppSpec.model_validate({k: v for k, v in app(i).items() if v is not None})
        rendered = render(spec)
        if i % 3 == 0:
            rendered += [service_monitor(spec), prometheus_rule(spec)]
        if i % 4 == 1:  # a canary Rollout instead of the Deployment
            deploy = next(o for o in rendered if o["kind"] == "Deployment")
            deploy.update(apiVersion="argoproj.io/v1alpha1", kind="Rollout")
            deploy["spec"]["strategy"] = {
                "canary": {"steps": [{"setWeight": 20}, {"pause": {"duration": "5m"}}]}
            }
            hpa = next(o for o in rendered if o["kind"] == "HorizontalPodAutoscaler")
            hpa["spec"]["scaleTargetRef"].update(apiVersion="argoproj.io/v1alpha1", kind="Rollout")
        if i % 7 == 2:
            rendered += _batch_and_rbac(spec.name)
        if i % 5 == 0:  # break one in five apps
            deploy = next(o for o in rendered if o["kind"] in ("Deployment", "Rollout"))
            c = deploy["spec"]["template"]["spec"]["containers"][0]
            c["image"] = "nginx"
            c.pop("livenessProbe")
            c["securityContext"]["privileged"] = True
            next(o for o in rendered if o["kind"] == "Service")["spec"]["selector"]["app"] = "nope"
        objects += rendered
        i += 1
    return to_yaml(objects[:target])


KUBECONFORM = Path(__file__).resolve().parent.parent.parent / "shared" / "tools" / "kubeconform"


def _repeated(text: str, times: int) -> str:
    """The corpus `times` over, each copy its own documents (a `---` between copies)."""
    return "\n---\n".join([text.rstrip("\n")] * times) + "\n"


def _measure(argv: list[str]) -> tuple[float, float, float]:
    """(wall s, CPU s, peak resident MB) of a command, through GNU time: a child forked from this
    process would inherit its resident size in ru_maxrss (Linux keeps it across exec)."""
    out = (
        subprocess.run(
            ["/usr/bin/time", "-f", "%e %U %S %M", *argv],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        .stderr.strip()
        .splitlines()[-1]
    )
    wall, user, system, kilobytes = out.split()
    return float(wall), float(user) + float(system), int(kilobytes) / 1024


RUNS = 3


def _median(samples: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Per measure (wall, CPU, memory), the median of the runs."""
    wall, cpu, peak = (sorted(column)[len(column) // 2] for column in zip(*samples, strict=True))
    return wall, cpu, peak


def side_by_side(text: str, size: int, which: str = "") -> None:
    """`kubeship check --format json` and kubeconform (strict, schema only, skipping custom resources)
    on the same file, each in a fresh process: wall time, CPU time, peak memory."""
    with tempfile.TemporaryDirectory() as tmp:
        corpus_file = Path(tmp) / "corpus.yaml"
        corpus_file.write_text(text)
        version = schema_mod.latest_version()
        source = schema_mod.SCHEMAS / f"v{version}-local-strict"
        target = Path(tmp) / f"v{version}-standalone-strict"
        target.mkdir()
        kinds = set(re.findall(r"^kind: (\S+)", text, re.M))  # the corpus's top-level kinds
        files = [
            f.name for f in source.glob("*.json") if any(f.name.startswith(k.lower() + "-") for k in kinds)
        ]
        subprocess.run(
            [sys.executable, KUBECONFORM / "standalone_schemas.py", source, target, *files],
            check=True,
            capture_output=True,
        )
        layout = "{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/"
        layout += "{{ .ResourceKind }}{{ .KindSuffix }}"
        location = str(Path(tmp) / f"{layout}.json")
        ours_argv = [sys.executable, "-m", "kubeship", "check", str(corpus_file), "--format", "json"]
        theirs_argv = [
            str(KUBECONFORM / "kubeconform"),
            "-strict",
            "-summary",
            "-kubernetes-version",
            version,
            "-ignore-missing-schemas",
            "-schema-location",
            location,
            str(corpus_file),
        ]
        # Alternating runs, medians: the machine is shared and one run of either can be 30 % off.
        runs = [(_measure(ours_argv), _measure(theirs_argv)) for _ in range(RUNS)]
        ours = _median([r[0] for r in runs])
        theirs = _median([r[1] for r in runs])
    print(
        f"side by side, {size:,} {which}objects ({len(text) / 1e6:.0f} MB), a fresh process each, "
        f"median of {RUNS}:"
    )
    for name, (wall, cpu, peak) in (
        ("kubeship check (schema + every rule)", ours),
        ("kubeconform v0.6.3 (schema only; custom resources skipped)", theirs),
    ):
        print(f"  {name:58} {wall:6.2f} s wall {cpu:6.2f} s CPU {peak:7.0f} MB peak")
    wall, cpu, peak = (a / b for a, b in zip(ours, theirs, strict=True))
    print(f"  ratio kubeship/kubeconform: wall {wall:.2f}x, CPU {cpu:.2f}x, peak memory {peak:.1f}x")


def _batch_and_rbac(name: str) -> list[dict[str, Any]]:
    meta = {"name": f"{name}-report", "namespace": "shop", "labels": {"app.kubernetes.io/name": name}}
    container = {
        "name": "report",
        "image": f"registry.example.com/team/{name}:1.0.0",
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False},
    }
    job = {"template": {"spec": {"restartPolicy": "Never", "containers": [container]}}}
    return [
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": meta,
            "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": job}},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": meta,
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": meta["name"]},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": "shop"}],
        },
    ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--objects", type=int, default=5000)
    parser.add_argument("--sample", type=int, default=300, help="objects given to kubernetes-validate")
    parser.add_argument("--profile", action="store_true", help="print the top functions by time")
    args = parser.parse_args()
    text = corpus(args.objects)
    options = Options()
    schema_mod._validator.cache_clear()  # cold: compile schemas inside the measurement

    def run() -> tuple[int, int, float, float]:
        t0 = time.perf_counter()
        docs, _ = load_documents(text, "corpus.yaml", parallel=True)  # as the CLI does
        t1 = time.perf_counter()
        findings = check_documents(docs, options)
        return len(docs), len(findings), t1 - t0, time.perf_counter() - t1

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
    n, found, t_load, t_check = run()  # first: a fresh process, as `kubeship check` runs
    if args.profile:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(15)
    total = t_load + t_check
    print(f"{n} objects ({len(text) / 1e6:.1f} MB), {found} findings")
    print(f"  parse YAML        {t_load:6.3f} s   {n / t_load:9,.0f} objects/s   (two processes, as the CLI)")
    print(f"  schema + rules    {t_check:6.3f} s   {n / t_check:9,.0f} objects/s")
    print(f"  total             {total:6.3f} s   {n / total:9,.0f} objects/s")
    schema_only = Options(select=frozenset({"KS002", "KS003"}))
    schema_mod._validator.cache_clear()
    t = time.perf_counter()
    docs, _ = load_documents(text, "corpus.yaml")
    t_one = time.perf_counter() - t
    print(f"  parse, one process {t_one:5.3f} s   {n / t_one:9,.0f} objects/s")
    t = time.perf_counter()
    check_documents(docs, schema_only)
    t_schema = time.perf_counter() - t
    print(f"  of which schema   {t_schema:6.3f} s   (cold: includes compiling each kind's schema once)")

    t = time.perf_counter()
    objects = [o for o in yaml.load_all(text, Loader=yaml.CSafeLoader) if o]
    t_pyyaml = time.perf_counter() - t
    print(
        f"baseline: PyYAML CSafeLoader parse {t_pyyaml:6.3f} s   "
        f"ratio {t_pyyaml / t_one:.2f}x one process, {t_pyyaml / t_load:.2f}x two (>1: kubeship faster)"
    )
    sample = objects[: args.sample]
    t = time.perf_counter()
    for obj in sample:
        with contextlib.suppress(Exception):  # invalid objects raise; the time is what counts
            kubernetes_validate.validate(obj, schema_mod.latest_version(), strict=True)
    rate_kv = len(sample) / (time.perf_counter() - t)
    print(
        f"baseline: kubernetes-validate, schema only, {len(sample)} objects: {rate_kv:9,.0f} objects/s; "
        f"kubeship with every rule {n / total / rate_kv:.0f}x that"
    )
    if KUBECONFORM.is_dir():
        side_by_side(text, args.objects)
        side_by_side(_repeated(text, 10), args.objects * 10)  # the issue's measure
        # Repeated copies share every part, which kubeship's slimmed objects make one copy of: the same
        # number of distinct objects says what a real stream of that size costs.
        side_by_side(corpus(args.objects * 10), args.objects * 10, "distinct ")
    else:
        print(f"kubeconform: not at {KUBECONFORM} (a built baseline, see its README): side by side skipped")
    with tempfile.TemporaryDirectory() as tmp:
        binary = go_build("schema_baseline.go", Path(tmp), GO_LIBRARIES)
        (Path(tmp) / "corpus.yaml").write_text(text)
        schemas = schema_mod.SCHEMAS / f"v{schema_mod.latest_version()}-local-strict"
        out = subprocess.run([binary, schemas, Path(tmp) / "corpus.yaml"], capture_output=True, text=True)
        go_objects, _, go_seconds = out.stdout.split()
    rate_go = int(go_objects) / float(go_seconds)
    print(
        f"baseline: Go yaml.v3 + gojsonschema, schema only: {rate_go:9,.0f} objects/s; "
        f"kubeship with every rule {n / total / rate_go:.2f}x that"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
