"""The audit trail in the pod, and its way to an independent SIEM.

The runtime appends sealed records to a file on an emptyDir; an rsyslog
sidecar (a native sidecar: it starts before the app and stops after it, so
the last records leave) tails the file and forwards each line as an RFC 5424
message over TCP with TLS (RFC 5425: octet-counted framing, the SIEM's
certificate checked by name). Its queue is disk-assisted and retries forever:
a SIEM outage delays records, it does not drop them. Keeping them 180 days
is the SIEM's job (and its settings prove it); the ConfigMap says so.
"""

from __future__ import annotations

from typing import Any

from kubeship.names import (
    ENV_AUDIT_FAIL_OPEN,
    ENV_AUDIT_FILE,
    ENV_AUDIT_KEY_FILE,
    ENV_AUDIT_OPERATIONS,
    ENV_POD,
    ENV_SERVICE,
    ENV_VERSION,
)
from kubeship.render.labels import metadata
from kubeship.spec.models import AppSpec

AUDIT_DIR = "/var/log/kubeship"
AUDIT_FILE = f"{AUDIT_DIR}/audit.jsonl"
AUDIT_KEY_DIR = "/etc/kubeship/audit"
SIEM_CONF_DIR = "/etc/rsyslog.d/kubeship"
SIEM_CA_DIR = "/etc/kubeship/siem-ca"
SIEM_SPOOL = "/var/spool/rsyslog"
RETENTION_ANNOTATION = "kubeship.io/audit-retention-days"


def rsyslog_conf(
    *, audit_file: str, host: str, port: int, ca_file: str, work_dir: str, tag: str = "kubeship-audit"
) -> str:
    """rsyslog (8.x, gtls) configuration: tail `audit_file`, forward every line to host:port over TLS."""
    return f"""# Rendered by kubeship: audit records → SIEM, RFC 5424 over TLS (RFC 5425).
global(
  workDirectory="{work_dir}"
  maxMessageSize="64k"
  defaultNetstreamDriver="gtls"
  defaultNetstreamDriverCAFile="{ca_file}"
)
module(load="imfile")
input(type="imfile" file="{audit_file}" tag="{tag}" severity="notice" facility="local4"
      ruleset="siem" reopenOnTruncate="on" freshStartTail="off")
ruleset(name="siem") {{
  action(type="omfwd" target="{host}" port="{port}" protocol="tcp"
         template="RSYSLOG_SyslogProtocol23Format" tcp_framing="octet-counted"
         streamDriver="gtls" streamDriverMode="1"
         streamDriverAuthMode="x509/name" streamDriverPermittedPeers="{host}"
         queue.type="LinkedList" queue.filename="siem" queue.saveOnShutdown="on"
         queue.maxDiskSpace="1g" action.resumeRetryCount="-1" action.resumeInterval="5")
}}
"""


def _siem_host_port(spec: AppSpec) -> tuple[str, int]:
    assert spec.audit is not None and spec.audit.siem is not None
    host, _, port = spec.audit.siem.address.rpartition(":")
    return host, int(port)


def config_map_name(spec: AppSpec) -> str:
    return f"{spec.name}-siem"


def siem_config_map(spec: AppSpec) -> dict[str, Any] | None:
    if spec.audit is None or spec.audit.siem is None:
        return None
    host, port = _siem_host_port(spec)
    conf = rsyslog_conf(
        audit_file=AUDIT_FILE, host=host, port=port, ca_file=f"{SIEM_CA_DIR}/ca.crt", work_dir=SIEM_SPOOL
    )
    retention = {RETENTION_ANNOTATION: str(spec.audit.siem.retention_days)}
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(spec, config_map_name(spec), annotations=retention),
        "data": {"kubeship.conf": conf},
    }


def audit_env(spec: AppSpec) -> list[dict[str, Any]]:
    a = spec.audit
    if a is None:
        return []
    env: list[dict[str, Any]] = [
        {"name": ENV_AUDIT_FILE, "value": AUDIT_FILE},
        {"name": ENV_AUDIT_KEY_FILE, "value": f"{AUDIT_KEY_DIR}/key"},
        {"name": ENV_AUDIT_OPERATIONS, "value": ",".join(a.operations)},
    ]
    if a.fail_open:
        env.append({"name": ENV_AUDIT_FAIL_OPEN, "value": "true"})
    return [
        *env,
        {"name": ENV_SERVICE, "value": spec.name},
        {"name": ENV_VERSION, "value": spec.version},
        {"name": ENV_POD, "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
    ]


def audit_volumes(spec: AppSpec) -> list[dict[str, Any]]:
    a = spec.audit
    if a is None:
        return []
    vols: list[dict[str, Any]] = [
        {"name": "audit-log", "emptyDir": {"sizeLimit": "1Gi"}},
        {"name": "audit-key", "secret": {"secretName": a.key_secret, "defaultMode": 0o440}},
    ]
    if a.siem is not None:
        vols += [
            {"name": "siem-config", "configMap": {"name": config_map_name(spec)}},
            {"name": "siem-ca", "secret": {"secretName": a.siem.ca_secret}},
            {"name": "siem-spool", "emptyDir": {"sizeLimit": "1Gi"}},
        ]
    return vols


def audit_mounts(spec: AppSpec) -> list[dict[str, Any]]:
    if spec.audit is None:
        return []
    return [
        {"name": "audit-log", "mountPath": AUDIT_DIR},
        {"name": "audit-key", "mountPath": AUDIT_KEY_DIR, "readOnly": True},
    ]


def forwarder(spec: AppSpec) -> dict[str, Any] | None:
    """The rsyslog sidecar, as an init container that keeps running (Kubernetes ≥ 1.29)."""
    if spec.audit is None or spec.audit.siem is None:
        return None
    return {
        "name": "siem-forwarder",
        "image": spec.audit.siem.image,
        "imagePullPolicy": "IfNotPresent",
        "restartPolicy": "Always",
        "command": [
            "rsyslogd",
            "-n",
            "-f",
            f"{SIEM_CONF_DIR}/kubeship.conf",
            "-i",
            f"{SIEM_SPOOL}/rsyslogd.pid",
        ],
        # ephemeral-storage: the pod's limit is the sum of its containers'; the two 1Gi emptyDirs
        # (audit log, spool) count against it, so the forwarder brings room for the spool.
        "resources": {
            "requests": {"cpu": "10m", "ephemeral-storage": "64Mi", "memory": "32Mi"},
            "limits": {"ephemeral-storage": "2Gi", "memory": "128Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "audit-log", "mountPath": AUDIT_DIR, "readOnly": True},
            {"name": "siem-config", "mountPath": SIEM_CONF_DIR, "readOnly": True},
            {"name": "siem-ca", "mountPath": SIEM_CA_DIR, "readOnly": True},
            {"name": "siem-spool", "mountPath": SIEM_SPOOL},
        ],
    }


def siem_egress(spec: AppSpec) -> list[tuple[str, int]]:
    """host, port the pod must reach for the SIEM (the NetworkPolicy allows it)."""
    if spec.audit is None or spec.audit.siem is None:
        return []
    return [_siem_host_port(spec)]
