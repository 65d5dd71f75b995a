"""What `kubeship sites` writes: HAProxy's configuration (HAProxy itself parses it), the overlays,
Karmada policies and DNS records (`kubeship check` validates them and catches a short site), and the
spec's errors, each at its line."""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeship.check import Finding, Options, check_documents, load_documents
from kubeship.render import render, secrets_by_reference
from kubeship.sites.haproxy import config, state_commands, weight_commands
from kubeship.sites.overlays import tree
from kubeship.spec import load_spec
from tests.conftest import ROOT, run_cli
from tests.sites.test_traffic import TWO, spec

SEED = ROOT / "examples" / "seed" / "kubeship.yaml"


def check_texts(texts: list[tuple[str, str]], external_refs: bool = False) -> list[Finding]:
    docs: list = []  # type: ignore[type-arg]
    findings: list[Finding] = []
    for name, text in texts:
        loaded, problems = load_documents(text, name)
        docs += loaded
        findings += problems
    return findings + check_documents(docs, Options(external_refs=external_refs))


def haproxy_accepts(text: str, tmp: Path) -> None:
    haproxy = shutil.which("haproxy")
    assert haproxy, "haproxy is not installed: `make test` installs it"
    text = text.replace("/run/haproxy/admin.sock", str(tmp / "admin.sock"))
    text = text.replace("/var/lib/haproxy/server-state", str(tmp / "state"))
    (tmp / "haproxy.cfg").write_text(text)
    checked = subprocess.run([haproxy, "-c", "-f", str(tmp / "haproxy.cfg")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_haproxy_parses_the_configuration_of_the_seed_and_of_custom_classes(tmp_path: Path) -> None:
    haproxy_accepts(config(load_spec(SEED, "prod")), tmp_path)
    custom = spec(
        TWO.replace(
            "  members:",
            "  classes:\n"
            "    - {name: reports, methods: [GET], pathPrefix: /reports/, weights: {dc-b: 100}}\n"
            "    - {name: everything, weights: {dc-a: 1, dc-b: 1}}\n"
            "  members:",
        )
    )
    text = config(custom)
    assert "use_backend shop-reports if reports_path reports_method" in text
    assert "default_backend shop-everything" in text
    haproxy_accepts(text, tmp_path)


def test_only_safe_methods_are_resent_after_reaching_a_site() -> None:
    text = config(spec(TWO))
    assert text.count("retry-on all-retryable-errors") == 3
    assert text.count("http-request disable-l7-retry unless { method GET HEAD OPTIONS }") == 3
    assert "option redispatch 1" in text


def test_runtime_commands_name_the_configurations_servers() -> None:
    s = spec(TWO)
    assert weight_commands(s, {"writes": {"dc-a": 0, "dc-b": 100}}) == [
        "set server shop-writes/dc-a-1 weight 0",
        "set server shop-writes/dc-a-2 weight 0",
        "set server shop-writes/dc-b-1 weight 200",
    ]
    servers = {line.split()[1] for line in config(s).splitlines() if line.strip().startswith("server ")}
    assert {c.split()[2].split("/")[1] for c in state_commands(s, "dc-a", "drain")} <= servers


def _objects(files: dict[str, str], prefix: str) -> list[dict[str, Any]]:
    return [d for path, text in files.items() if path.startswith(prefix) for d in yaml.safe_load_all(text)]


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """A strategic-merge patch of maps and scalars only (what the overlays hold): RFC 7386."""
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def build(files: dict[str, str], site: str) -> list[dict[str, Any]]:
    """What `kustomize build sites/<site>` gives for these overlays: base + resources, patched, labelled."""
    kustomization = yaml.safe_load(files[f"sites/{site}/kustomization.yaml"])
    assert kustomization["resources"][0] == "../../base"
    objects = _objects(files, "base/")
    objects = [o for o in objects if o["kind"] != "Kustomization"]
    objects += [yaml.safe_load(files[f"sites/{site}/{r}"]) for r in kustomization["resources"][1:]]
    for entry in kustomization["patches"]:
        patch = yaml.safe_load(files[f"sites/{site}/{entry['path']}"])
        (target,) = [
            o
            for o in objects
            if (o["kind"], o["metadata"]["name"]) == (patch["kind"], patch["metadata"]["name"])
        ]
        _merge(target, patch)
    for o in objects:
        o["metadata"].setdefault("labels", {}).update(kustomization["labels"][0]["pairs"])
    return objects


def test_each_sites_overlay_builds_to_objects_check_passes() -> None:
    s = load_spec(SEED, "prod")
    files = tree(s, render(secrets_by_reference(s)))
    for site in ("dc-sh", "dc-bj"):
        objects = build(files, site)
        hpa = next(o for o in objects if o["kind"] == "HorizontalPodAutoscaler")
        assert hpa["spec"]["maxReplicas"] == 20  # either site takes all of prod's peak
        assert hpa["metadata"]["annotations"]["kubeship.io/site-failover-replicas"] == "20"
        assert hpa["metadata"]["labels"]["kubeship.io/site"] == site
        record = next(o for o in objects if o["kind"] == "DNSEndpoint")["spec"]["endpoints"][0]
        assert record["setIdentifier"] == site and record["dnsName"] == "web.example.com"
        report = check_texts([("built.yaml", yaml.safe_dump_all(objects))], external_refs=True)
        assert [f for f in report if f.severity.name == "ERROR"] == []
    weights = {
        w["targetCluster"]["clusterNames"][0]: w["weight"]
        for w in _objects(files, "karmada/propagationpolicy")[0]["spec"]["placement"]["replicaScheduling"][
            "weightPreference"
        ]["staticWeightList"]
    }
    assert weights == {"dc-sh": 74, "dc-bj": 26}  # 5 % × 50 + 80 % × 70 + 15 % × 100


def test_check_validates_karmada_and_dns_objects_and_reports_a_short_site(tmp_path: Path) -> None:
    small = spec(
        TWO.replace('["10.1.0.1:80"]}', '["10.1.0.1:80"], maxReplicas: 6}').replace(
            "sites:", "sites:\n  hostname: shop.example.com"
        )
    )
    files = tree(small, render(small))
    texts = [(path, text) for path, text in files.items() if path.startswith(("karmada/", "sites/dc-b/dns"))]
    report = check_texts(texts, external_refs=True)
    assert {f.rule for f in report} == {"KS115"}, report
    (finding,) = report
    assert "dc-b" in finding.message and "4 short" in finding.message
    built = build(files, "dc-b")
    report = check_texts([("dc-b.yaml", yaml.safe_dump_all(built))], external_refs=True)
    assert [f.message for f in report if f.rule == "KS115"] == [
        "maxReplicas 6, but failover asks 10 pods of this site: 4 short"
    ]
    broken = files["karmada/propagationpolicy.yaml"].replace("replicaDivisionPreference", "replicaDivision")
    report = check_texts([("pp.yaml", broken)])
    assert any(f.rule == "KS002" and "replicaDivision" in f.message for f in report), report


def classes(*lines: str) -> str:
    return TWO.replace(
        "  members:", "  classes:\n" + "".join(f"    - {line}\n" for line in lines) + "  members:"
    )


@pytest.mark.parametrize(
    ("sites", "message"),
    [
        (classes("{name: all, weights: {dc-x: 100}}"), "dc-x"),
        (classes("{name: r, methods: [GET], weights: {dc-a: 1}}"), "must match every request"),
        (classes("{name: w, weights: {dc-a: 50, dc-b: 50}, failover: manual}"), "one site at a time"),
        ("sites:\n  members:\n    - {name: dc-a, addresses: [\"x:80\"]}\n", "needs at least 2 items, got 1"),
        (TWO.replace("10.1.0.1:80", "10.1.0.1"), "pattern"),
        (classes("{name: a, methods: [GET], weights: {dc-a: 1}, share: 90}",
                 "{name: b, weights: {dc-a: 1}, share: 20}"),
         "add up to 110"),
    ],
)  # fmt: skip
def test_a_wrong_sites_section_is_one_error_at_its_line(tmp_path: Path, sites: str, message: str) -> None:
    path = tmp_path / "kubeship.yaml"
    path.write_text(
        'name: shop\nversion: "1.0.0"\nimage: {registry: r.example.com, name: shop, tag: "1.0.0"}\n' + sites
    )
    result = run_cli("sites", "haproxy", "-f", str(path))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert f"{path}:" in result.stderr and message in result.stderr, result.stderr


def test_failover_names_a_wrong_site_or_an_unreachable_socket(tmp_path: Path) -> None:
    path = tmp_path / "kubeship.yaml"
    path.write_text(
        spec_text
        := 'name: shop\nversion: "1.0.0"\nimage: {registry: r.example.com, name: shop, tag: "1.0.0"}\n' + TWO
    )
    assert spec_text
    wrong = run_cli("sites", "failover", "-f", str(path), "--writes", "dc-z", "--socket", str(tmp_path / "s"))
    assert wrong.returncode == 2 and "dc-z: not a site" in wrong.stderr
    down = run_cli("sites", "failover", "-f", str(path), "--writes", "dc-b", "--socket", str(tmp_path / "s"))
    assert down.returncode == 2 and "cannot reach HAProxy's runtime API" in down.stderr
    assert "Traceback" not in wrong.stderr + down.stderr
    none = run_cli("sites", "status", "-f", str(SEED))
    assert none.returncode == 2 and "no `sites:` section" in none.stderr


def test_render_removes_what_it_no_longer_writes_and_nothing_else(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "base").mkdir(parents=True)
    (out / "base" / "deployment-gone.yaml").write_text("kind: Deployment\n")  # rendered by an older spec
    (out / "mine.yaml").write_text("kind: ConfigMap\n")  # the user's, beside the tree
    result = run_cli("sites", "render", "-f", str(SEED), "--env", "prod", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert not (out / "base" / "deployment-gone.yaml").exists()
    assert (out / "mine.yaml").read_text() == "kind: ConfigMap\n"
    assert (out / "sites" / "dc-sh" / "kustomization.yaml").is_file()
