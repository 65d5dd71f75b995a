"""`make demo`: the example service end to end, on this machine.

Serves examples/ping under `kubeship serve` (2 workers, config from a
ConfigMap-style mount), exercises it, shows a hot config reload, the metrics
it exports and a graceful drain on SIGTERM, then says where the outputs are.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "out" / "demo"
sys.path.insert(0, str(ROOT))

from tests.k8s_mount import write_atomic_mount  # noqa: E402  (the kubelet's atomic mount layout)


def free_port(preferred: int = 8080) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
        except OSError:
            s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def distinct_ports(n: int) -> list[int]:
    """`n` free ports, all held while they are chosen so no two are the same."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


def step(title: str) -> None:
    print(f"\n\033[1m== {title}\033[0m" if sys.stdout.isatty() else f"\n== {title}")


def show(r: httpx.Response) -> None:
    target = r.request.url.raw_path.decode()
    rid = r.headers.get("x-request-id")
    print(f"  {r.request.method} {target} → {r.status_code} {r.text.strip()[:80]}   (x-request-id: {rid})")


AUDIT = OUT / "audit"


def audit_env() -> dict[str, str]:
    """The audit trail prod's spec turns on (audit.operations), here on local files."""
    from kubeship.spec import load_spec

    prod = load_spec(ROOT / "examples" / "seed" / "kubeship.yaml", "prod")
    assert prod.audit is not None, "the seed's prod lost its audit trail"
    AUDIT.mkdir(parents=True, exist_ok=True)
    for old in AUDIT.glob("audit*"):
        old.unlink()
    key = AUDIT / "key"
    key.write_text(os.urandom(24).hex())
    return {
        "KUBESHIP_AUDIT_FILE": str(AUDIT / "audit.jsonl"),
        "KUBESHIP_AUDIT_KEY_FILE": str(key),
        "KUBESHIP_AUDIT_OPERATIONS": ",".join(prod.audit.operations),
    }


def verify_audit() -> None:
    """The record the DELETE left, and `kubeship audit verify` over the whole trail."""
    step("the audit trail (prod's audit.operations): the DELETE's record, then kubeship audit verify")
    files = sorted(AUDIT.glob("audit*.jsonl"))
    records = [json.loads(ln) for f in files for ln in f.read_text().splitlines() if ln.strip()]
    delete = next((r for r in records if r.get("action", "").startswith("DELETE")), None)
    if delete is not None:
        shown = {
            k: delete[k] for k in ("seq", "action", "target", "params", "outcome", "actor") if k in delete
        }
        print(f"  {json.dumps(shown)}  (mac {str(delete.get('mac', ''))[:16]}…)")
    result = subprocess.run(
        [sys.executable, "-m", "kubeship", "audit", "verify", *map(str, files),
         "--key-file", str(AUDIT / "key")],
        capture_output=True, text=True,
    )  # fmt: skip
    print(f"  kubeship audit verify: {(result.stdout + result.stderr).strip()}")


def render_manifests() -> Path:
    """Render the seed example for prod, then `kubeship check` every object (schema + lint rules)."""
    from kubeship.check import Options, check_documents, load_documents
    from kubeship.cli.check_cmd import rule_count_line
    from kubeship.masked import Secret
    from kubeship.observe import prometheus_rule, service_monitor
    from kubeship.render import render, to_yaml
    from kubeship.render.output import file_name
    from kubeship.spec import load_spec

    step(
        "kubeship render -f examples/seed/kubeship.yaml --env prod"
        " (the seed guide's objects, + its ServiceMonitor and PrometheusRule)"
    )
    spec = load_spec(ROOT / "examples" / "seed" / "kubeship.yaml", "prod")
    demo_secrets = {
        "db-credentials": {"username": Secret("admin"), "password": Secret("demo-only")},
        "web-audit": {"key": Secret("demo-only-audit-key-0123456789ab"), "ca.crt": Secret("demo CA")},
    }
    # + the Prometheus Operator objects `render --observe` adds: custom resources, checked too
    objects = [*render(spec, demo_secrets), service_monitor(spec), prometheus_rule(spec)]
    out = OUT / "manifests"
    out.mkdir(parents=True, exist_ok=True)
    for obj in objects:
        (out / file_name(obj)).write_text(to_yaml([obj]))
    (out / "all.yaml").write_text(to_yaml(objects))
    for obj in objects:
        print(f"  {obj['kind']:24s} {obj['metadata']['name']}")
    rollout = next(o for o in objects if o["kind"] == "Rollout")["spec"]["template"]["spec"]
    certificate = next(o for o in objects if o["kind"] == "Certificate")["spec"]
    sidecar = next(c for c in rollout.get("initContainers", []) if c.get("restartPolicy") == "Always")
    print(
        f"  mTLS: Certificate {certificate['secretName']} from {certificate['issuerRef']['name']}, "
        f"{certificate['duration']}, renewed {certificate['renewBefore']} ahead; the pods ask callers for one"
    )
    print(f"  audit: sidecar {sidecar['name']} ({sidecar['image']}) ships the trail to the SIEM over TLS")

    options = Options()
    for path in (out / "all.yaml", ROOT / "examples" / "seed" / "handwritten.yaml"):
        label = path.relative_to(ROOT)
        step(f"kubeship check {label}  (Kubernetes {options.kubernetes_version}; {rule_count_line()})")
        if path.name == "handwritten.yaml":
            print("  the guide's own hand-written YAML, for comparison:")
        docs, findings = load_documents(path.read_text(), str(label))
        findings += check_documents(docs, options)
        counts = {s: sum(1 for f in findings if f.severity.label == s) for s in ("error", "warning", "info")}
        errors, warnings, notes = counts["error"], counts["warning"], counts["info"]
        print(f"  {len(docs)} objects: {errors} errors, {warnings} warnings, {notes} notes")
        for f in findings:
            if f.severity.label == "error":
                print(f"  {f.file}:{f.line}: {f.object} {f.rule} {f.message}")
    return out


def render_monitoring() -> Path:
    """The seed's SLO and alert routing as Prometheus rules, Alertmanager config and a dashboard;
    checked with promtool and amtool when they are installed (`make test` installs them)."""
    import shutil

    from kubeship.masked import Secret
    from kubeship.observe import alertmanager_config, dashboard, prometheus_config, rule_groups, to_text
    from kubeship.observe.alertmanager import TEMPLATE, TEMPLATE_FILE
    from kubeship.spec import load_spec

    step("kubeship observe: SLO burn-rate rules, Alertmanager routes, Grafana dashboard")
    spec = load_spec(ROOT / "examples" / "seed" / "kubeship.yaml", "prod")
    out = OUT / "observe"
    out.mkdir(parents=True, exist_ok=True)
    demo_secrets = {
        "oncall-email.email.password": Secret("demo-only"),
        "shop-dingtalk.dingtalk.url": Secret("https://oapi.dingtalk.com/robot/send?access_token=demo"),
    }
    groups = rule_groups(spec)
    (out / "rules.yml").write_text(to_text(groups))
    (out / "prometheus.yml").write_text(to_text(prometheus_config(spec, ["rules.yml"])))
    (out / "alertmanager.yml").write_text(to_text(alertmanager_config(spec, demo_secrets, str(out))))
    (out / TEMPLATE_FILE).write_text(TEMPLATE)
    (out / "dashboard.json").write_text(json.dumps(dashboard(spec), indent=2, sort_keys=True) + "\n")
    rules = [r for g in groups["groups"] for r in g["rules"]]
    alerts = sorted({r["alert"] for r in rules if "alert" in r})
    recording = sum(1 for r in rules if "record" in r)
    print(f"  {recording} recording rules, {len(rules) - recording} alerts: {', '.join(alerts)}")
    for tool, args in (
        ("promtool", ["check", "rules", "rules.yml"]),
        ("amtool", ["check-config", "alertmanager.yml"]),
    ):
        if shutil.which(tool) is None:
            print(f"  ({tool} not installed: `make test` installs it)")
            continue
        result = subprocess.run([tool, *args], cwd=out, capture_output=True, text=True)
        verdict = "SUCCESS" if result.returncode == 0 else result.stdout + result.stderr
        print(f"  {tool} {' '.join(args)}: {verdict}")
    return out


def pipeline() -> Path:
    """`kubeship pipeline` for the seed: the GitHub and GitLab files, linted by actionlint and GitLab's
    schema, and the test and check jobs run step by step as a runner would (tests/e2e/actions.py)."""
    import shutil
    import tempfile

    from tests.e2e.actions import LocalRunner

    from kubeship.check.ci import check_gitlab_ci
    from kubeship.pipeline import github_text, gitlab_text
    from kubeship.pipeline.dast import zap_rules
    from kubeship.spec import load_environments, load_spec

    seed = ROOT / "examples" / "seed" / "kubeship.yaml"
    step(
        "kubeship pipeline -f examples/seed/kubeship.yaml --provider all (the guide's CI/CD, with OWASP ZAP)"
    )
    out = OUT / "pipeline"
    out.mkdir(parents=True, exist_ok=True)
    spec, envs = load_spec(seed), load_environments(seed)
    workflow, gitlab = out / "kubeship.yml", out / ".gitlab-ci.yml"
    workflow.write_text(github_text(spec, "kubeship.yaml", envs))
    gitlab.write_text(gitlab_text(spec, "kubeship.yaml", envs))
    jobs = yaml.safe_load(workflow.read_text())["jobs"]
    for name, job in jobs.items():
        runs = [st["name"] for st in job["steps"] if "run" in st][2:]  # after install and workspace
        print(f"  {name:16s} {' → '.join(runs)}")
    actionlint = shutil.which("actionlint") or str(Path(sys.executable).with_name("actionlint"))
    linted = subprocess.run([actionlint, "-no-color", str(workflow)], capture_output=True, text=True)
    verdict = "no problems" if linted.returncode == 0 else linted.stdout
    print(f"  actionlint (with shellcheck on every run: script): {verdict}")
    problems = check_gitlab_ci(gitlab.read_text(), str(gitlab))
    print(f"  .gitlab-ci.yml against GitLab's schema: {len(problems)} problems")
    rules = zap_rules(spec)
    counts = {a: sum(1 for r in rules if r.action == a) for a in ("FAIL", "WARN", "IGNORE")}
    print(
        f"  ZAP rules file: {counts['FAIL']} fail the scan, {counts['WARN']} warn, "
        f"{counts['IGNORE']} ignored, each with its reason"
    )

    step("the pipeline's test and check jobs, run step by step on a copy of the seed project")
    with tempfile.TemporaryDirectory(prefix="kubeship-demo-") as tmp:
        project = Path(tmp)
        for name in ("app.py", "requirements.txt"):
            shutil.copy(ROOT / "examples" / "ping" / name, project / name)
        (project / "tests").mkdir()
        shutil.copy(
            ROOT / "src" / "kubeship" / "cli" / "templates" / "test_app.py.tmpl",
            project / "tests" / "test_app.py",
        )
        shutil.copy(seed, project / "kubeship.yaml")
        (project / ".github" / "workflows").mkdir(parents=True)
        shutil.copy(workflow, project / ".github" / "workflows" / "kubeship.yml")
        for args in (
            ["init", "-q", "-b", "main"],
            ["add", "."],
            ["-c", "user.name=demo", "-c", "user.email=demo@localhost", "commit", "-qm", "seed"],
        ):
            subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True)
        runner = LocalRunner(
            project / ".github" / "workflows" / "kubeship.yml", project, expressions={},
            env={"PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"},
        )  # fmt: skip
        for job in ("test", "check"):
            started = time.monotonic()
            ran = runner.run(job)
            for st in ran.steps:
                if st.status != "runner":
                    print(f"  {job:6s} {st.status:7s} {st.name} ({st.seconds:.1f} s)")
            if ran.failed:
                print("  " + ran.failed.output[-2000:].replace("\n", "\n  "))
                break
            print(f"  {job}: passed in {time.monotonic() - started:.1f} s")
            if job == "check":
                for report in sorted((project / "build" / "kubeship" / "reports").glob("*.sarif")):
                    shutil.copy(report, out / report.name)
                    results = json.loads(report.read_text())["runs"][0]["results"]
                    print(f"  {report.name}: {len(results)} results for code scanning")
    print("  the build-image (podman, Wapiti, push) and release jobs (GitOps, Argo CD) run in make test:")
    print("  tests/e2e/test_pipeline.py, against a TLS registry and a bare GitOps repository")
    return out


def dast(url: str) -> None:
    """Wapiti, the scanner the pipeline can run, against the service running above."""
    import shutil

    from kubeship.pipeline.dast import verdict, wapiti_findings
    from kubeship.pipeline.stages import WAPITI_MODULES

    step(f"DAST: wapiti against {url} (what the pipeline's scan does to the built image)")
    if shutil.which("wapiti") is None:
        print("  (wapiti not installed: `make demo` installs it as root; skipped)")
        return
    report = OUT / "wapiti.json"
    subprocess.run(
        ["wapiti", "-u", url + "/", "--flush-session", "--scope", "folder", "-m", WAPITI_MODULES,
         "--max-scan-time", "120", "-f", "json", "-o", str(report)],
        capture_output=True, check=False,
    )  # fmt: skip
    findings = wapiti_findings(json.loads(report.read_text()))
    failing, _ = verdict(findings, "medium")
    for f in findings:
        print(f"  {f.line()}")
    print(
        f"  {len(findings)} findings, {len(failing)} at or above medium: the release would "
        f"{'stop' if failing else 'go on'} (the two lows are deliberate: README, Pipeline)"
    )


def simulate_autoscaling() -> Path:
    """The seed's HPA (2-10 pods, CPU 50 %) replayed against a step in load, second by second."""
    from kubeship.autoscale.simulate import Autoscaler, Workload, simulate, synthetic
    from kubeship.spec import load_spec, parse_quantity

    spec = load_spec(ROOT / "examples" / "seed" / "kubeship.yaml")
    auto = spec.autoscaling
    if auto is None or auto.cpu is None:
        raise SystemExit("examples/seed/kubeship.yaml lost its CPU autoscaling")
    cpu_request = float(parse_quantity(spec.container.resources.requests["cpu"]))
    pods = f"{auto.min_replicas}-{auto.max_replicas}"
    step(f"kubeship autoscale simulate: HPA {pods} pods at CPU {auto.cpu} %, 100 → 1,500 req/s at t=10 min")
    print("  (assumes 400 req/s per core, an estimate; measuring the real service is the next step)")
    workload = Workload(rps_per_core=400, cpu_request=cpu_request, cpu_limit=1.0, startup_seconds=20)
    load = synthetic("step", 1800, 100, 1500)
    hpa = Autoscaler(auto.min_replicas, auto.max_replicas, auto.cpu)
    result = simulate(load, workload, hpa)
    for second, replicas in result.decisions:
        print(f"  t={second:5d} s  scale to {replicas} pods")
    summary = result.summary(slo_p99=0.3)
    slo, over = summary["slo_seconds_violated"], summary["requests_over_capacity"]
    print(f"  pod-hours {summary['pod_hours']:.2f}, seconds over the 300 ms P99 objective {slo:.0f},")
    print(f"  requests over capacity {over:,.0f}")
    out = OUT / "autoscale"
    out.mkdir(parents=True, exist_ok=True)
    import json as _json

    import numpy as np

    series = np.column_stack(
        [
            np.arange(len(result.load)),
            result.load,
            result.replicas,
            result.ready,
            result.utilization,
            result.p99_latency,
        ]
    )
    np.savetxt(
        out / "series.csv",
        series,
        delimiter=",",
        header="second,load_rps,replicas,ready,utilization_pct,p99_latency_s",
        comments="",
        fmt="%.6g",
    )
    (out / "summary.json").write_text(_json.dumps(summary, indent=2) + "\n")
    from kubeship.autoscale.plot import plot_png
    from kubeship.autoscale.recommend import recommend

    (out / "simulation.png").write_bytes(
        plot_png({"seed HPA": result}, 0.3, "seed HPA, step 100 → 1,500 req/s")
    )
    best = recommend(load, workload, hpa, 0.3)[0]
    verdict = "meets" if best.meets(len(load), 0.001) else "is the closest to"
    cost = f"{best.pod_hours:.2f} pod-hours, {best.slo_seconds_violated:.0f} s over"
    print(f"  --recommend: {best.label} ({cost}) {verdict} the SLO")
    return out


def rehearse_release() -> Path:
    """`kubeship deliver simulate`: the prod canary against a bad version, before any real release."""
    from kubeship.deliver.plot import draw
    from kubeship.deliver.rehearse import rehearse
    from kubeship.spec import load_spec

    out = OUT / "delivery"
    out.mkdir(parents=True, exist_ok=True)
    spec = load_spec(ROOT / "examples" / "seed" / "kubeship.yaml", "prod")
    for rps in (100, 1000):
        step(f"kubeship deliver simulate --env prod --rps {rps} --error-rate 0.05 (the guide's canary)")
        report = rehearse(spec, rps, 0.05, "0s", trials=10_000)
        print("  " + report.text().replace("\n", "\n  "))
    draw(report, out / "rehearsal.png")
    return out


def _worker_metrics(url: str) -> tuple[float, float]:
    """(messages handled, backlog = lag + pending) from one worker's /metrics."""
    handled = backlog = 0.0
    for line in httpx.get(url + "/metrics").text.splitlines():
        if line.startswith("kubeship_worker_messages_total{") and 'outcome="ok"' in line:
            handled += float(line.rsplit(" ", 1)[1])
        elif line.startswith("kubeship_worker_backlog_messages{"):
            backlog += float(line.rsplit(" ", 1)[1])
    return handled, backlog


def worker_burst() -> Path | None:
    """examples/worker on a real redis-server: a burst, the backlog going down, the HPA's decision."""
    import shutil

    import redis

    from kubeship.autoscale.decide import decide
    from kubeship.autoscale.explain import explain
    from kubeship.autoscale.snapshot import build
    from kubeship.render.scaling import hpa
    from kubeship.spec import load_spec

    out = OUT / "worker"
    out.mkdir(parents=True, exist_ok=True)
    step("the queue worker (examples/worker): a burst of 3,000 orders on a Redis Stream, two pods")
    server = shutil.which("redis-server")
    if server is None:
        print("  (redis-server not installed: `make demo` installs it as root; skipped)")
        return None
    redis_port = free_port(6379)
    procs = [
        subprocess.Popen(
            [server, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=(out / "redis.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
    ]
    pods = ["worker-5d9f7c8b6d-aaaaa", "worker-5d9f7c8b6d-bbbbb"]
    urls = []
    try:
        client = redis.Redis(port=redis_port, decode_responses=True)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        ports = distinct_ports(len(pods))  # each pod its own: two servers never share one
        for pod, port in zip(pods, ports, strict=True):
            env = {**os.environ, "HOSTNAME": pod, "APP_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
                   "APP_WORK_MS": "5", "PYTHONPATH": str(ROOT / "examples" / "worker")}  # fmt: skip
            argv = [sys.executable, "-m", "kubeship", "serve", "app:app", "--host", "127.0.0.1",
                    "--port", str(port), "--drain-seconds", "1"]  # fmt: skip
            log = (out / f"{pod}.log").open("wb")
            worker_dir = ROOT / "examples" / "worker"
            procs.append(
                subprocess.Popen(argv, cwd=worker_dir, env=env, stdout=log, stderr=subprocess.STDOUT)
            )
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            for _ in range(200):
                try:
                    if httpx.get(url + "/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        pipe = client.pipeline(transaction=False)
        for n in range(3000):
            pipe.xadd("orders", {"quantity": "1", "price": str(n)})
        pipe.execute()
        started, peak, samples = time.monotonic(), None, []
        while True:
            time.sleep(1.0)
            per_pod = [_worker_metrics(url) for url in urls]
            backlog = max(b for _, b in per_pod)
            handled = client.hlen("orders:processed")  # from Redis itself: each message id once
            samples.append((time.monotonic() - started, handled, backlog, [h for h, _ in per_pod]))
            by_pod = ", ".join(f"{p[-5:]} {h:4.0f}" for p, (h, _) in zip(pods, per_pod, strict=True))
            print(f"  t={samples[-1][0]:4.1f} s  backlog {backlog:5.0f}  handled {handled:5.0f}  ({by_pod})")
            if peak is None and len(samples) >= 2:
                peak = samples[-1]  # a second in: the HPA's view mid-burst
            if (backlog == 0 and handled >= 3000) or time.monotonic() - started > 60:
                break
        assert peak is not None
        produced = client.xlen("orders")
        counts = [int(v) for v in client.hvals("orders:processed")]
        pending = client.xpending("orders", "worker")["pending"] if client.exists("orders") else 0
        print(
            f"  Redis: {produced} produced, {len(counts)} handled, {sum(1 for c in counts if c > 1)} "
            f"handled twice, {pending} pending"
        )
        if not (produced == len(counts) == 3000 and max(counts) == 1 and pending == 0):
            raise SystemExit("the worker lost or repeated an order: see out/demo/worker/")
        (out / "backlog.csv").write_text(
            "seconds,handled,backlog\n" + "".join(f"{t:.1f},{h:.0f},{b:.0f}\n" for t, h, b, _ in samples)
        )
        step("the worker HPA's decision one second into the burst (kubeship autoscale explain)")
        spec = load_spec(ROOT / "examples" / "worker" / "kubeship.yaml")
        seconds, _, backlog, handled_per_pod = peak
        now = time.time()
        answers: dict[str, list[tuple[dict[str, str], float]]] = {
            "pods": [({"pod": p}, 1.0) for p in pods],
            "ready": [({"pod": p}, 1.0) for p in pods],
            "start": [({"pod": p}, now - 3600) for p in pods],
            "requests": [({"pod": p, "container": "worker", "resource": "cpu"}, 0.1) for p in pods],
            "specReplicas": [({}, 2.0)],
            "external:kubeship_worker_backlog_messages": [({}, backlog)],
            "pods:kubeship_worker_messages_per_second": [
                ({"pod": p}, h / seconds) for p, h in zip(pods, handled_per_pod, strict=True)
            ],
        }
        rendered = hpa(spec)
        assert rendered is not None
        text = explain(decide(build(rendered, answers, now)))
        (out / "decision.txt").write_text(text)
        print("  " + text.rstrip().replace("\n", "\n  "))
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    return out


def sites_failover() -> Path:
    """The guide's dual-active table: the seed's prod sites rendered, then two local sites behind the
    HAProxy `kubeship sites haproxy` writes, one killed under load, writes failed over by command."""
    import subprocess as sp
    import tempfile

    from tests.sites_lab import drill, two_sites

    out = OUT / "sites"
    seed = ROOT / "examples" / "seed" / "kubeship.yaml"
    step("kubeship sites render -f examples/seed/kubeship.yaml --env prod (the guide's dual-active table)")
    kubeship = [sys.executable, "-m", "kubeship"]
    target = ["-f", str(seed), "--env", "prod"]
    rendered = sp.run([*kubeship, "sites", "render", *target, "-o", str(out / "render")],
                      capture_output=True, text=True, check=True)  # fmt: skip
    print("  " + rendered.stderr.strip().replace("\n", "\n  "))
    checked = sp.run(
        [*kubeship, "check", str(out / "render"), "--external-refs"], capture_output=True, text=True
    )
    print(f"  kubeship check: {checked.stdout.strip().splitlines()[-1]}")
    step("failover, on this machine: dc-a and dc-b (two `kubeship serve` each) behind the rendered HAProxy")
    with tempfile.TemporaryDirectory() as tmp, two_sites(Path(tmp)) as lab:
        d = drill(lab, requests=3_000)
        (out / "haproxy.cfg").write_text((Path(tmp) / "haproxy.cfg").read_text())
    print("  3,000 requests split by HAProxy, then dc-a killed (SIGKILL) under load from 8 clients:")
    print(f"  {'traffic':<8} {'dc-a':>7} {'dc-b':>7}  switch (measured)")
    for cls, a, b, switch in d.table():
        print(f"  {cls:<8} {a:6.1f}% {b:6.1f}%  {switch}")
    print(
        f"  dc-a restarted: HAProxy put it back {d.back - d.ready:.2f} s after it was ready; "
        "writes moved back by command"
    )
    step("kubeship sites simulate --env prod: dc-sh fails at the peak, writes moved by hand 5 minutes later")
    simulated = sp.run(
        [*kubeship, "sites", "simulate", "-f", str(seed), "--env", "prod", "--rps-per-core", "400",
         "--plot", str(out / "failover.png"), "--out", str(out)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    print("  " + simulated.stdout.strip().replace("\n", "\n  "))
    return out


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    config_dir = OUT / "config"
    if config_dir.exists():
        subprocess.run(["rm", "-rf", str(config_dir)], check=True)
    write_atomic_mount(config_dir, {"message": "pong"}, 1)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = OUT / "service.log"
    step(f"kubeship serve app:app --workers 2 --port {port} --config {config_dir.relative_to(ROOT)}")
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kubeship",
                "serve",
                "app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "2",
                "--config",
                str(config_dir),
                "--drain-seconds",
                "1",
                "--shutdown-timeout",
                "5",
            ],
            cwd=ROOT / "examples" / "ping",
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT / "examples" / "ping"), **audit_env()},
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    if httpx.get(url + "/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    print(log_path.read_text(), file=sys.stderr)
                    return 1
                time.sleep(0.1)

            step("the seed's /ping, and what the runtime adds")
            with httpx.Client(base_url=url) as client:
                for path in ("/ping", "/users/42", "/work?n=20000", "/no/such/route"):
                    show(client.get(path))
                show(client.post("/ping"))
                show(client.get("/ping", headers={"X-Request-ID": "demo-trace-1"}))
                show(client.get("/healthz"))
                show(client.get("/readyz"))
                show(client.request("DELETE", "/users/42"))  # prod's sensitive operation: audited

                step("config hot reload: the ConfigMap mount changes, the process does not restart")
                write_atomic_mount(config_dir, {"message": "pong (reloaded)"}, 2)
                for _ in range(50):
                    if client.get("/ping").json()["message"] == "pong (reloaded)":
                        break
                    time.sleep(0.1)
                show(client.get("/ping"))

                step(f"Prometheus metrics at {url}/metrics (route templates, not raw paths)")
                time.sleep(1.2)  # both workers fold their counts (every 0.5 s)
                metrics = client.get("/metrics").text
                (OUT / "metrics.txt").write_text(metrics)
                for line in metrics.splitlines():
                    if line.startswith("http_requests_total{"):
                        print("  " + line)

            dast(url)

            step("SIGTERM: readiness 503 at once, serve through the drain, finish in flight, exit 0")
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.2)
            show(httpx.get(url + "/readyz"))
            show(httpx.get(url + "/ping"))
            code = proc.wait(15)
            print(f"  exit code {code}")
            verify_audit()
        finally:
            if proc.poll() is None:
                proc.kill()

    manifests = render_manifests()
    monitoring = render_monitoring()
    ci = pipeline()
    sim_dir = simulate_autoscaling()
    delivery = rehearse_release()
    worker = worker_burst()
    sites = sites_failover()
    access = [json.loads(ln) for ln in log_path.read_text().splitlines() if ln.startswith("{")]
    step("outputs")
    print(f"  {log_path.relative_to(ROOT)}   JSON access log and events ({len(access)} lines), e.g.:")
    sample = next(ln for ln in access if ln.get("msg") == "request")
    print("    " + json.dumps(sample))
    print(f"  {(OUT / 'metrics.txt').relative_to(ROOT)}  the Prometheus exposition scraped above")
    print(f"  {manifests.relative_to(ROOT)}/  the seed example's manifests, one file per object (+ all.yaml)")
    print(
        f"  {monitoring.relative_to(ROOT)}/  rules.yml, prometheus.yml, alertmanager.yml (+ template), "
        "dashboard.json"
    )
    print(
        f"  {sim_dir.relative_to(ROOT)}/  the autoscaling simulation: simulation.png, "
        "series.csv (per second), summary.json"
    )
    print(
        f"  {delivery.relative_to(ROOT)}/rehearsal.png  the canary rehearsal: weight, error ratio, rollback"
    )
    print(f"  {ci.relative_to(ROOT)}/  kubeship.yml (GitHub), .gitlab-ci.yml, check's SARIF per environment")
    print(
        f"  {sites.relative_to(ROOT)}/  the sites: render/ (overlays, Karmada, DNS), haproxy.cfg, "
        "failover.png, series.csv"
    )
    if worker is not None:
        print(
            f"  {worker.relative_to(ROOT)}/  the queue worker's burst: backlog.csv, decision.txt, "
            "the pods' logs"
        )
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
