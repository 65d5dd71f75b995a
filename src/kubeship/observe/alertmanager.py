"""Alertmanager: the route tree, receivers, inhibition and message templates.

Receiver credentials are referenced in the spec (fromEnv/fromFile) and
resolved by the caller into `secrets`; the resulting file holds them, so it is
rendered into a Secret, never a ConfigMap. DingTalk robots need their own
message format, which Alertmanager cannot produce: alerts go to the
prometheus-webhook-dingtalk bridge, whose config (with the robot URL) is a
second Secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeship.masked import Secret
from kubeship.spec.models import AppSpec, Receiver, SecretKey

TEMPLATE_FILE = "kubeship.tmpl"
TEMPLATES_DIR = "/etc/alertmanager/templates"
# Titles and bodies for the receivers that show text (email, WeCom).
TEMPLATE = """\
{{ define "kubeship.title" }}[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}\
{{ end }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.service }}){{ end }}

{{ define "kubeship.text" }}{{ range .Alerts }}[{{ .Labels.severity }}] {{ .Annotations.summary }}
{{ .Annotations.description }}
What to do: {{ .Annotations.runbook }}
{{ if .Annotations.runbook_url }}Runbook: {{ .Annotations.runbook_url }}
{{ end }}Started: {{ .StartsAt }}
{{ end }}{{ end }}
"""


def _matcher(key: str, value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{key}="{escaped}"'


def config(
    spec: AppSpec, secrets: Mapping[str, Secret] | None = None, templates_dir: str = TEMPLATES_DIR
) -> dict[str, Any]:
    """alertmanager.yml for the spec's `alerting:` (an empty mapping if there is none)."""
    alerting = spec.alerting
    if alerting is None:
        return {}
    values = secrets or {}
    route: dict[str, Any] = {
        "receiver": alerting.receiver,
        "group_by": list(alerting.group_by),
        "group_wait": alerting.group_wait,
        "group_interval": alerting.group_interval,
        "repeat_interval": alerting.repeat_interval,
    }
    children = []
    for r in alerting.routes:
        child: dict[str, Any] = {
            "receiver": r.receiver,
            "matchers": [_matcher(k, v) for k, v in sorted(r.match.items())],
        }
        if r.group_by is not None:
            child["group_by"] = list(r.group_by)
        if r.repeat_interval is not None:
            child["repeat_interval"] = r.repeat_interval
        if r.continue_:
            child["continue"] = True
        children.append(child)
    if children:
        route["routes"] = children
    return {
        "route": route,
        # A page already says the service is in trouble: its warnings and infos would only add noise.
        "inhibit_rules": [
            {
                "source_matchers": ['severity="critical"'],
                "target_matchers": ['severity=~"warning|info"'],
                "equal": ["service"],
            },
            {
                "source_matchers": ['severity="warning"'],
                "target_matchers": ['severity="info"'],
                "equal": ["service"],
            },
        ],
        "receivers": [_receiver(name, r, values) for name, r in sorted(alerting.receivers.items())],
        "templates": [f"{templates_dir.rstrip('/')}/*.tmpl"],
    }


def _value(value: str | SecretKey | None, ref: str, secrets: Mapping[str, Secret]) -> str | None:
    if value is None or isinstance(value, str):
        return value
    secret = secrets.get(ref)
    return secret.reveal() if secret is not None else ""


def _receiver(name: str, r: Receiver, secrets: Mapping[str, Secret]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name}
    if r.webhook is not None:
        out["webhook_configs"] = [
            {
                "url": _value(r.webhook.url, f"{name}.webhook.url", secrets),
                "send_resolved": r.webhook.send_resolved,
                "max_alerts": r.webhook.max_alerts,
            }
        ]
    elif r.email is not None:
        email: dict[str, Any] = {
            "to": r.email.to,
            "from": r.email.from_,
            "smarthost": r.email.smarthost,
            "require_tls": r.email.require_tls,
            "send_resolved": True,
            "headers": {"Subject": '{{ template "kubeship.title" . }}'},
            "text": '{{ template "kubeship.text" . }}',
        }
        if r.email.username:
            email["auth_username"] = r.email.username
        if r.email.password is not None:
            email["auth_password"] = _value(r.email.password, f"{name}.email.password", secrets)
        out["email_configs"] = [email]
    elif r.dingtalk is not None:
        out["webhook_configs"] = [
            {"url": f"{r.dingtalk.bridge.rstrip('/')}/dingtalk/{name}/send", "send_resolved": True}
        ]
    elif r.wecom is not None:
        wecom: dict[str, Any] = {
            "corp_id": r.wecom.corp_id,
            "agent_id": r.wecom.agent_id,
            "api_secret": _value(r.wecom.api_secret, f"{name}.wecom.api_secret", secrets),
            "message": '{{ template "kubeship.text" . }}',
            "send_resolved": True,
        }
        if r.wecom.to_party:
            wecom["to_party"] = r.wecom.to_party
        if r.wecom.to_user:
            wecom["to_user"] = r.wecom.to_user
        out["wechat_configs"] = [wecom]
    return out


def dingtalk_bridge(spec: AppSpec, secrets: Mapping[str, Secret] | None = None) -> dict[str, Any] | None:
    """prometheus-webhook-dingtalk's config.yml: one target per DingTalk receiver."""
    if spec.alerting is None:
        return None
    values = secrets or {}
    targets = {}
    for name, r in sorted(spec.alerting.receivers.items()):
        if r.dingtalk is None:
            continue
        target = {"url": _value(r.dingtalk.url, f"{name}.dingtalk.url", values)}
        if r.dingtalk.secret is not None:
            target["secret"] = _value(r.dingtalk.secret, f"{name}.dingtalk.secret", values)
        targets[name] = target
    return {"targets": targets} if targets else None
