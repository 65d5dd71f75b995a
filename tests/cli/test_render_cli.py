"""`kubeship render`, `init` and `schema` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import kubernetes_validate
from ruamel.yaml import YAML

from kubeship.errors import SpecError, UsageError
from tests.conftest import ROOT, run_cli

SEED = ROOT / "examples" / "seed" / "kubeship.yaml"
SECRET_ENV = {
    "DB_USERNAME": "admin",
    "DB_PASSWORD": "canary-cli-pw",
    "WEB_AUDIT_KEY": "canary-audit-key-0123456789abcdef",  # prod's audit trail
    "SIEM_CA_CRT": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
}


def test_render_to_stdout_is_a_stream_kubectl_takes() -> None:
    result = run_cli("render", "-f", str(SEED), "--env", "prod", cwd=ROOT, **SECRET_ENV)
    assert result.returncode == 0, result.stderr
    docs = list(YAML(typ="safe").load_all(result.stdout))
    kinds = [d["kind"] for d in docs]
    assert (
        kinds[:3] == ["ServiceAccount", "Certificate", "ConfigMap"]  # prod serves mTLS (tls:)
        and kinds.count("Secret") == 2  # db-credentials and web-audit (the audit trail's key)
        and "Rollout" in kinds
        and "HorizontalPodAutoscaler" in kinds
    )  # prod releases through Argo Rollouts (environments.prod.delivery)
    assert "canary-cli-pw" not in result.stdout + result.stderr
    assert "canary-audit-key" not in result.stdout + result.stderr
    for doc in docs:
        if doc["apiVersion"].startswith(("argoproj.io/", "cert-manager.io/")):
            continue  # custom resources: `kubeship check` validates them (tests/render/test_rollout.py)
        kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)


def test_render_to_a_directory_one_file_per_object(tmp_path: Path) -> None:
    result = run_cli("render", "-f", str(SEED), "-o", str(tmp_path / "out"), cwd=ROOT, **SECRET_ENV)
    assert result.returncode == 0, result.stderr
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "deployment-web.yaml" in files and "service-web-service.yaml" in files


def test_missing_secret_source_is_an_error_naming_the_variable() -> None:
    result = run_cli("render", "-f", str(SEED), cwd=ROOT)
    assert result.returncode == SpecError.exit_code
    assert "environment variable DB_PASSWORD is not set" in result.stderr and "Traceback" not in result.stderr
    # where in the file, as for every other spec error
    lines = SEED.read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "fromEnv: DB_PASSWORD" in text)
    col = lines[line - 1].index("DB_PASSWORD") + 1  # the variable named
    assert f"{SEED}:{line}:{col}: secrets.db-credentials.keys.password: environment variable" in result.stderr


def test_bad_spec_lists_problems_with_positions(tmp_path: Path) -> None:
    bad = tmp_path / "kubeship.yaml"
    bad.write_text('name: web\nversion: "1"\nimage: {name: web, tag: "1"}\nreplicas: many\nservce: {}\n')
    result = run_cli("render", "-f", str(bad), cwd=tmp_path)
    assert result.returncode == SpecError.exit_code
    assert f"{bad}:4:11: replicas: expected a whole number, got 'many'" in result.stderr
    assert f"{bad}:5:1: servce: unknown key 'servce'; did you mean 'service'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_init_writes_a_spec_that_renders(tmp_path: Path) -> None:
    project = tmp_path / "my_service"
    assert run_cli("init", str(project), cwd=tmp_path).returncode == 0
    assert (project / "app.py").exists()
    result = run_cli("render", "-f", str(project / "kubeship.yaml"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "name: my-service" in result.stdout
    again = run_cli("init", str(project), cwd=tmp_path)
    assert again.returncode == UsageError.exit_code and "--force" in again.stderr


def test_schema_is_json_schema_with_camel_case_keys() -> None:
    result = run_cli("schema", cwd=ROOT)
    schema = json.loads(result.stdout)
    assert "nodePort" in json.dumps(schema) and "node_port" not in json.dumps(schema)
    assert set(schema["required"]) >= {"name", "version", "image"}


def test_published_schema_file_is_current() -> None:
    published = (ROOT / "schema" / "kubeship.schema.json").read_text()
    assert run_cli("schema", cwd=ROOT).stdout == published, (
        "run: kubeship schema -o schema/kubeship.schema.json"
    )


def test_init_writes_the_ping_example_app() -> None:
    # examples/ping/app.py is what `kubeship init` writes: one program, kept in two places on purpose
    template = ROOT / "src" / "kubeship" / "cli" / "templates" / "app.py"
    assert (ROOT / "examples" / "ping" / "app.py").read_text() == template.read_text()


def test_render_says_what_a_weight_means_without_traffic_routing(tmp_path: Path) -> None:
    spec = tmp_path / "kubeship.yaml"
    spec.write_text(
        'name: shop\nversion: "1"\nimage: {name: shop, tag: "1"}\nreplicas: 4\n'
        "slo: {availability: {target: 99.9%}}\ndelivery: {}\n"
    )
    result = run_cli("render", "-f", str(spec), cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "setWeight 5 → 1 of 4 pods ≈ 25 %" in result.stderr and "kind: Rollout" in result.stdout
