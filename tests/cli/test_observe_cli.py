"""`kubeship observe …` and `kubeship render --observe` from the command line."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from ruamel.yaml import YAML

from kubeship.errors import SpecError
from tests.conftest import ROOT, run_cli

SEED = ROOT / "examples" / "seed" / "kubeship.yaml"
WORKER = ROOT / "examples" / "seed" / "worker.kubeship.yaml"
ENV = {
    "DB_USERNAME": "admin",
    "DB_PASSWORD": "canary-db-pw",
    "SMTP_PASSWORD": "canary-smtp-pw",
    "DINGTALK_WEBHOOK": "https://oapi.dingtalk.com/robot/send?access_token=canary-ding",
}


def test_render_observe_adds_the_monitoring_objects_and_check_passes_them(tmp_path: Path) -> None:
    result = run_cli("render", "--observe", "-f", str(SEED), cwd=ROOT, **ENV)
    assert result.returncode == 0, result.stderr
    docs = list(YAML(typ="safe").load_all(result.stdout))
    tail = [(d["kind"], d["metadata"]["name"]) for d in docs[-5:]]
    assert tail == [
        ("ServiceMonitor", "web"),
        ("PrometheusRule", "web"),
        ("Secret", "web-alertmanager"),
        ("Secret", "web-dingtalk"),
        ("ConfigMap", "web-dashboard"),
    ]
    plain = json.dumps([d for d in docs if d["kind"] != "Secret"])
    assert "canary" not in plain and "canary" not in result.stderr
    am = base64.b64decode(docs[-3]["data"]["alertmanager.yaml"]).decode()
    assert "canary-smtp-pw" in am and "canary-ding" not in am  # the robot URL lives with the bridge
    (tmp_path / "all.yaml").write_text(result.stdout)
    check = run_cli("check", str(tmp_path / "all.yaml"), "--fail-on", "info", cwd=ROOT)
    assert check.returncode == 0, check.stdout + check.stderr  # not even a "not validated" note


def test_observe_prints_each_file() -> None:
    rules = run_cli("observe", "rules", "-f", str(WORKER), cwd=ROOT)
    assert rules.returncode == 0, rules.stderr
    groups = YAML(typ="safe").load(rules.stdout)["groups"]
    assert any(r.get("alert") == "KafkaLagHigh" for g in groups for r in g["rules"])
    scrape = run_cli("observe", "scrape", "-f", str(SEED), "--rule-file", "rules.yml", cwd=ROOT)
    assert YAML(typ="safe").load(scrape.stdout)["scrape_configs"][0]["job_name"] == "web"
    board = run_cli("observe", "dashboard", "-f", str(SEED), cwd=ROOT)
    assert json.loads(board.stdout)["uid"] == "kubeship-web"


def test_alertmanager_writes_config_and_template(tmp_path: Path) -> None:
    out = tmp_path / "am" / "alertmanager.yml"
    result = run_cli("observe", "alertmanager", "-f", str(SEED), "-o", str(out), cwd=ROOT, **ENV)
    assert result.returncode == 0, result.stderr
    assert (out.parent / "kubeship.tmpl").exists()
    assert YAML(typ="safe").load(out.read_text())["route"]["receiver"] == "ops-webhook"


def test_alertmanager_names_the_missing_credential_not_a_value() -> None:
    result = run_cli("observe", "alertmanager", "-f", str(SEED), cwd=ROOT, DINGTALK_WEBHOOK="canary-x")
    assert result.returncode == SpecError.exit_code
    assert (
        ": alerting.receivers.oncall-email.email.password: environment variable SMTP_PASSWORD is not set"
        in (result.stderr)
    )
    assert "canary" not in result.stderr and "Traceback" not in result.stderr
    assert f"{SEED}:" in result.stderr.splitlines()[0].removeprefix("kubeship: error: ")


def test_alertmanager_without_alerting_is_a_spec_error() -> None:
    """The command line is right; the spec lacks a section: exit 6, as for any spec problem."""
    result = run_cli("observe", "alertmanager", "-f", str(WORKER), cwd=ROOT)
    assert result.returncode == SpecError.exit_code
    assert f"{WORKER}:1:1: alerting: not set" in result.stderr
