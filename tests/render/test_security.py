"""Least privilege, mTLS and the audit trail, rendered: what each object asks of the cluster, and
zero `kubeship check` findings on the whole set (cert-manager's schema included)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kubeship.masked import Secret
from kubeship.render import render, siem
from kubeship.spec.load import parse_spec
from tests.render.test_rollout import by_kind, findings

SPEC = """
name: ledger
namespace: shop
version: "2.1.0"
image: {registry: registry.example.com, name: ledger, tag: "2.1.0"}
ingress:
  className: nginx
  hosts: [{host: ledger.example.com}]
  tlsSecret: ledger-example-com-tls
  annotations: {cert-manager.io/cluster-issuer: letsencrypt}
tls:
  issuer: shop-ca
  allow: {/admin: [spiffe://cluster.local/ns/shop/sa/ops]}
  edge: {clientCaSecret: shop/partner-ca}
audit:
  operations: ["DELETE /databases/{name}", "PUT /users/{id}/roles"]
  keySecret: ledger-audit
  siem: {address: siem.example.com:6514, caSecret: ledger-audit}
secrets:
  ledger-audit:
    keys: {key: {fromEnv: AUDIT_KEY}, ca.crt: {fromEnv: SIEM_CA}}
security:
  rbac:
    - {resources: [configmaps], verbs: [get, watch, list], resourceNames: [ledger-flags]}
networkPolicy:
  fromNamespaces: [ingress-nginx, monitoring]
  egress:
    - {cidr: 10.20.0.0/16, ports: [6514]}
    - {namespace: data, pods: {app.kubernetes.io/name: postgres}, ports: [5432]}
"""
VALUES = {"ledger-audit": {"key": Secret("k" * 40), "ca.crt": Secret("-----BEGIN CERTIFICATE-----")}}


@pytest.fixture(scope="module")
def objects() -> dict[str, list[dict[str, Any]]]:
    return by_kind(render(parse_spec(SPEC), VALUES))


def test_zero_check_findings() -> None:
    assert findings(render(parse_spec(SPEC), VALUES)) == []


def test_least_privilege(objects: dict[str, list[dict[str, Any]]]) -> None:
    [ns] = objects["Namespace"]
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce-version"] == "latest"
    [sa] = objects["ServiceAccount"]
    pod = objects["Deployment"][0]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == sa["metadata"]["name"] == "ledger"
    assert sa["automountServiceAccountToken"] is True and pod["automountServiceAccountToken"] is True  # rbac
    [role] = objects["Role"]
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["ledger-flags"],
         "verbs": ["get", "watch", "list"]}
    ]  # fmt: skip
    [binding] = objects["RoleBinding"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "ledger", "namespace": "shop"}]
    [policy] = objects["NetworkPolicy"]
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    egress = policy["spec"]["egress"]
    assert egress[0]["ports"] == [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
    assert egress[1] == {
        "to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}],
        "ports": [{"port": 6514, "protocol": "TCP"}],
    }
    assert len(egress) == 3


def test_no_rbac_no_token() -> None:
    plain = by_kind(render(parse_spec("name: a\nversion: '1'\nimage: {name: a, tag: '1'}\n")))
    assert plain["ServiceAccount"][0]["automountServiceAccountToken"] is False
    assert "Role" not in plain and "Namespace" not in plain  # no namespace in the spec: not ours to label
    pod = plain["Deployment"][0]["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False and pod["serviceAccountName"] == "a"


def test_certificate_and_its_use(objects: dict[str, list[dict[str, Any]]]) -> None:
    [cert] = objects["Certificate"]
    spec = cert["spec"]
    assert spec["secretName"] == "ledger-tls"
    assert spec["uris"] == ["spiffe://cluster.local/ns/shop/sa/ledger"]
    assert spec["dnsNames"] == ["ledger", "ledger.shop", "ledger.shop.svc", "ledger.shop.svc.cluster.local"]
    assert {"server auth", "client auth"} <= set(spec["usages"])
    assert spec["privateKey"]["rotationPolicy"] == "Always"
    assert spec["renewBefore"] == "720h" and spec["issuerRef"]["name"] == "shop-ca"

    container = objects["Deployment"][0]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["KUBESHIP_TLS_CERT"] == "/etc/kubeship/tls/tls.crt"
    assert env["KUBESHIP_TLS_CLIENT_CA"] == "/etc/kubeship/tls/ca.crt"
    assert env["KUBESHIP_MTLS_ALLOW"] == "/admin=spiffe://cluster.local/ns/shop/sa/ops"
    assert {"name": "tls", "mountPath": "/etc/kubeship/tls", "readOnly": True} in container["volumeMounts"]
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["scheme"] == "HTTPS"

    ann = objects["Ingress"][0]["metadata"]["annotations"]
    assert ann["nginx.ingress.kubernetes.io/backend-protocol"] == "HTTPS"
    assert ann["nginx.ingress.kubernetes.io/proxy-ssl-secret"] == "shop/ledger-tls"
    assert ann["nginx.ingress.kubernetes.io/auth-tls-secret"] == "shop/partner-ca"
    assert ann["nginx.ingress.kubernetes.io/auth-tls-verify-client"] == "on"


def test_scrapes_switch_to_https() -> None:
    from kubeship.observe.scrape import scrape_job, service_monitor

    spec = parse_spec(SPEC)
    endpoint = service_monitor(spec)["spec"]["endpoints"][0]
    assert endpoint["scheme"] == "https"
    assert endpoint["tlsConfig"]["keySecret"] == {"name": "ledger-tls", "key": "tls.key"}
    assert endpoint["tlsConfig"]["serverName"] == "ledger.shop.svc"
    job = scrape_job(spec)
    assert job["scheme"] == "https" and job["tls_config"]["cert_file"].endswith("ledger-tls/tls.crt")


def test_audit_and_its_forwarder(objects: dict[str, list[dict[str, Any]]]) -> None:
    pod = objects["Deployment"][0]["spec"]["template"]["spec"]
    [sidecar] = pod["initContainers"]
    assert sidecar["restartPolicy"] == "Always"  # a native sidecar: outlives the app's last record
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    assert env["KUBESHIP_AUDIT_OPERATIONS"]["value"] == "DELETE /databases/{name},PUT /users/{id}/roles"
    assert env["KUBESHIP_POD"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert "KUBESHIP_AUDIT_FAIL_OPEN" not in env  # fail closed by default
    conf = next(c for c in objects["ConfigMap"] if c["metadata"]["name"] == "ledger-siem")
    assert conf["metadata"]["annotations"]["kubeship.io/audit-retention-days"] == "180"
    text = conf["data"]["kubeship.conf"]
    assert 'target="siem.example.com" port="6514"' in text and 'streamDriverMode="1"' in text
    assert "k" * 40 not in str(objects["ConfigMap"]) and "k" * 40 not in str(objects["Deployment"])


@pytest.mark.skipif(
    shutil.which("rsyslogd") is None, reason="rsyslogd from Debian's rsyslog (make system-deps)"
)
def test_rendered_rsyslog_config_is_valid_for_rsyslogd(tmp_path: Path) -> None:
    (tmp_path / "ca.crt").write_text("")
    conf = siem.rsyslog_conf(
        audit_file=str(tmp_path / "audit.jsonl"), host="siem.example.com", port=6514,
        ca_file=str(tmp_path / "ca.crt"), work_dir=str(tmp_path),
    )  # fmt: skip
    (tmp_path / "rsyslog.conf").write_text(conf)
    r = subprocess.run(
        ["rsyslogd", "-N1", "-f", str(tmp_path / "rsyslog.conf")], capture_output=True, text=True, timeout=30
    )
    assert r.returncode == 0, r.stderr + r.stdout


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ("tls:\n  issuer: ca\n  mtls: false\n  allow: {/a: [x]}\n", "tls.allow"),
        ("tls: {issuer: ca, edge: {clientCaSecret: a/b}}\n", "className: nginx"),
        ("audit: {operations: ['DELETE /x/{id}'], keySecret: nope}\n", "declare it under secrets"),
        ("audit: {operations: ['/x/{id}'], keySecret: k}\nsecrets: {k: {external: true}}\n", "operations"),
        (
            "audit: {operations: ['DELETE /x'], keySecret: k, siem: {address: 's:6514', caSecret: k}}\n"
            "secrets: {k: {external: true}}\n",
            "nothing allows the SIEM",
        ),
    ],
)
def test_spec_errors(change: str, error: str) -> None:
    from kubeship.errors import SpecError

    with pytest.raises(SpecError, match=error):
        parse_spec("name: a\nversion: '1'\nimage: {name: a, tag: '1'}\n" + change)


def test_cluster_audit_policy_is_valid_and_keeps_secret_bodies_out() -> None:
    from kubeship.check import Options, check_documents, load_documents
    from tests.conftest import run_cli

    r = run_cli("audit", "policy")
    assert r.returncode == 0 and "--audit-log-maxage=180" in r.stdout
    docs, loaded = load_documents(r.stdout, "policy.yaml")
    assert [*loaded, *check_documents(docs, Options())] == []  # strict: audit.k8s.io/v1 schema bundled
    from kubeship.render.cluster_audit import policy

    rules = policy()["rules"]

    def level(group: str, resource: str, verb: str) -> str:
        """The first matching rule decides, as in the API server."""
        for rule in rules:
            if "users" in rule or "userGroups" in rule or "nonResourceURLs" in rule:
                continue
            if "verbs" in rule and verb not in rule["verbs"]:
                continue
            if "resources" in rule and not any(
                g["group"] == group and resource in g["resources"] for g in rule["resources"]
            ):
                continue
            return str(rule["level"])
        return "None"

    assert level("", "secrets", "get") == level("", "secrets", "update") == "Metadata"  # never the body
    assert level("rbac.authorization.k8s.io", "clusterrolebindings", "create") == "RequestResponse"
    assert level("", "namespaces", "delete") == "RequestResponse"
    assert level("", "persistentvolumeclaims", "delete") == "RequestResponse"
    assert level("", "pods/exec", "create") == "Metadata"
    assert level("apps", "deployments", "patch") == "Metadata"
    assert level("apps", "deployments", "list") == "None"


def test_tls_clients_check_a_name_the_certificate_holds_without_a_namespace() -> None:
    """No namespace in the spec: only the short Service name is known, and everyone uses it."""
    from kubeship.observe.scrape import service_monitor

    spec = parse_spec(
        "name: a\nversion: '1'\nimage: {name: a, tag: '1'}\ntls: {issuer: ca}\n"
        "ingress: {className: nginx, hosts: [{host: a.example.com}]}\n"
    )
    objects = by_kind(render(spec))
    names = objects["Certificate"][0]["spec"]["dnsNames"]
    assert (
        objects["Ingress"][0]["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-ssl-name"]
        in names
    )
    assert service_monitor(spec)["spec"]["endpoints"][0]["tlsConfig"]["serverName"] in names


@pytest.mark.parametrize(
    ("headers", "env"),
    [
        ("{}", []),  # the runtime's defaults: nothing to say
        ("{enabled: false}", [{"name": "KUBESHIP_SECURITY_HEADERS", "value": "false"}]),
        ("{csp: \"default-src 'self' https://cdn.jsdelivr.net\", hsts: ''}",
         [{"name": "KUBESHIP_CSP", "value": "default-src 'self' https://cdn.jsdelivr.net"},
          {"name": "KUBESHIP_HSTS", "value": ""}]),
    ],
)  # fmt: skip
def test_security_headers_render_as_the_runtime_reads_them(headers: str, env: list[dict[str, str]]) -> None:
    spec = parse_spec(
        f"name: a\nversion: '1'\nimage: {{name: a, tag: '1'}}\nsecurity: {{headers: {headers}}}\n"
    )
    container = by_kind(render(spec))["Deployment"][0]["spec"]["template"]["spec"]["containers"][0]
    assert [e for e in container.get("env", []) if e["name"].startswith(("KUBESHIP_CSP", "KUBESHIP_HSTS",
            "KUBESHIP_SECURITY", "KUBESHIP_CACHE"))] == env  # fmt: skip
