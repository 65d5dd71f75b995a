"""Hostile YAML and JSON: every loader refuses what no real file needs (alias bombs, absurd nesting or
size) with the limit, the place and how to raise it; real files with anchors still pass."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from ruamel.yaml import YAML

from kubeship.check import load_documents
from kubeship.errors import ConfigError
from kubeship.limits import LimitError, Limits, limits, load_json, load_yaml_all, scan
from kubeship.runtime.config import parse_mapping
from tests.conftest import ROOT, run_cli
from tests.k8s_mount import write_atomic_mount

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n"


def bomb(levels: int = 9, indent: str = "  ") -> str:
    """The billion laughs: nine lines, 9**levels strings once the aliases are expanded."""
    lines = [f"{indent}a: &a [{', '.join(['lol'] * 9)}]"]
    for i in range(1, levels):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{indent}{cur}: &{cur} [{', '.join([f'*{prev}'] * 9)}]")
    return "\n".join(lines) + "\n"


def events(text: str, library: str) -> Any:
    if library == "pyyaml":
        return yaml.parse(text, Loader=yaml.CSafeLoader)
    return YAML(typ="safe", pure=True).parse(text)


HELM_WITH_ANCHORS = """\
# Source: app/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: &labels {app.kubernetes.io/name: web, app.kubernetes.io/instance: prod}
spec:
  selector: {matchLabels: *labels}
  template:
    metadata: {labels: *labels}
    spec:
      containers:
      - &container
        name: web
        image: registry.example.com/web:1.4.2
        resources: &resources
          requests: {cpu: 100m, memory: 128Mi}
          limits: {memory: 128Mi}
        env: &env
        - {name: MODE, value: prod}
      - <<: *container
        name: sidecar
        resources: *resources
        env: *env
"""


# -- the counting ----------------------------------------------------------------------------


@pytest.mark.parametrize("library", ["pyyaml", "ruamel"])
def test_a_bomb_is_refused_at_the_alias_that_crosses_the_limit(library: str) -> None:
    with pytest.raises(LimitError) as caught:
        scan(events(CONFIGMAP + bomb(), library), Limits())
    error = caught.value
    assert (error.limit, error.line) == ("nodes", 11)  # 9**7 of line 11 is the first past a million
    assert "KUBESHIP_INPUT_LIMITS=nodes=4000000" in error.message()


@pytest.mark.parametrize("library", ["pyyaml", "ruamel"])
def test_expansion_is_counted_exactly(library: str) -> None:
    """The mapping, its 4 keys, and each list with what its aliases copy: 10, 91, 820, 7381."""
    doc = "a: &a [" + ", ".join(["l"] * 9) + "]\nb: &b [" + ", ".join(["*a"] * 9) + "]\n"
    doc += "c: &c [" + ", ".join(["*b"] * 9) + "]\nd: [" + ", ".join(["*c"] * 9) + "]\n"
    exact = 1 + 4 + (1 + 9) + (1 + 9 * 10) + (1 + 9 * 91) + (1 + 9 * 820)
    scan(events(doc, library), Limits(nodes=exact))  # exactly at the limit: passes
    with pytest.raises(LimitError):
        scan(events(doc, library), Limits(nodes=exact - 1))


@pytest.mark.parametrize("library", ["pyyaml", "ruamel"])
def test_depth_counts_what_aliases_reach(library: str) -> None:
    deep = "a: &a " + "[" * 60 + "]" * 60 + "\nb: [[[[[*a]]]]]\n"  # 1 + 60 levels, then 1 + 5 + 60
    scan(events(deep, library), Limits(depth=66))
    with pytest.raises(LimitError) as caught:
        scan(events(deep, library), Limits(depth=65))
    assert (caught.value.limit, caught.value.line) == ("depth", 2)


@pytest.mark.parametrize("library", ["pyyaml", "ruamel"])
def test_merge_keys_count_what_they_copy(library: str) -> None:
    lines = ["base0: &b0 {k: v}"]
    for i in range(1, 12):
        lines.append(f"base{i}: &b{i} {{<<: [*b{i - 1}, *b{i - 1}, *b{i - 1}], k{i}: v}}")
    with pytest.raises(LimitError):
        scan(events("\n".join(lines), library), Limits(nodes=50_000))


@pytest.mark.parametrize("library", ["pyyaml", "ruamel"])
def test_a_value_that_contains_itself_is_refused(library: str) -> None:
    """PyYAML builds `&a [*a]` as a list inside itself: a schema validator walks it forever."""
    for text in ("a: &a [x, *a]\n", "a: &a {b: {c: *a}}\n"):
        with pytest.raises(LimitError, match="contains itself"):
            scan(events(text, library), Limits())


def test_scalar_alias_count_and_document_size() -> None:
    with pytest.raises(LimitError) as caught:
        scan(events("a: " + "x" * 101 + "\n", "pyyaml"), Limits(scalar=100))
    assert caught.value.limit == "scalar"
    with pytest.raises(LimitError) as caught:
        scan(events("a: &a x\nb: [" + ", ".join(["*a"] * 11) + "]\n", "pyyaml"), Limits(aliases=10))
    assert caught.value.limit == "aliases"
    with pytest.raises(LimitError) as caught:
        scan(events("---\na: 1\n---\nb: " + "y" * 300 + "\n", "pyyaml"), Limits(bytes=200))
    assert (caught.value.limit, caught.value.line) == ("bytes", 5)  # the second document, where it ends


def test_real_files_with_anchors_pass_with_their_values_shared() -> None:
    (deployment,) = load_yaml_all(HELM_WITH_ANCHORS, Limits())
    sidecar = deployment["spec"]["template"]["spec"]["containers"][1]
    assert sidecar["name"] == "sidecar" and sidecar["resources"]["limits"] == {"memory": "128Mi"}
    docs, findings = load_documents(HELM_WITH_ANCHORS, "chart.yaml")
    assert len(docs) == 1 and not [f for f in findings if f.rule == "KS007"]


def test_json_depth_and_size() -> None:
    assert load_json('{"a": [1, 2, {"b": null}]}', Limits()) == {"a": [1, 2, {"b": None}]}
    for text in ("[" * 200 + "]" * 200, "[" * 100_000 + "]" * 100_000):  # the second: json's own recursion
        with pytest.raises(LimitError) as caught:
            load_json(text, Limits())
        assert caught.value.limit == "depth" and caught.value.located("s.json").startswith("s.json: nested")
    with pytest.raises(LimitError):
        load_json('"' + "x" * 101 + '"', Limits(scalar=100))


def test_limits_from_the_environment() -> None:
    assert limits({"KUBESHIP_INPUT_LIMITS": "nodes=5_000_000, depth=200"}) == Limits(
        nodes=5_000_000, depth=200
    )
    assert limits({}) == Limits()
    for wrong in ("nodes", "nodes=-1", "node=5", "depth=lots"):
        with pytest.raises(ValueError, match="KUBESHIP_INPUT_LIMITS"):
            limits({"KUBESHIP_INPUT_LIMITS": wrong})


# -- every loader, through the command a user runs ----------------------------------------------


def test_check_refuses_the_bomb_and_checks_the_rest_of_the_stream(tmp_path: Path) -> None:
    good = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n"
    stream = tmp_path / "all.yaml"
    stream.write_text(good + "---\n" + CONFIGMAP + bomb() + "---\n" + good.replace("name: s", "name: t"))
    result = run_cli("check", str(stream), "--format", "json", cwd=ROOT)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    ks007 = [f for f in report["findings"] if f["rule"] == "KS007"]
    assert [(f["line"], f["severity"]) for f in ks007] == [(16, "error")]  # the alias line, in the stream
    assert "KUBESHIP_INPUT_LIMITS=nodes=" in ks007[0]["hint"]
    assert report["checked"] == 2  # the Services before and after it were read and checked


def test_check_refuses_deep_nesting_without_anchors(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text(CONFIGMAP + "  a: x\nbinaryData: " + "[" * 300 + "]" * 300 + "\n")
    block = tmp_path / "block.yaml"
    block.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels:\n"
        + "".join(" " * (4 + i) + f"k{i}:\n" for i in range(200))
        + " " * 204
        + "v\n"
    )
    for path, problem in ((deep, "nested"), (block, "nested more than 128 levels")):
        result = run_cli("check", str(path), cwd=ROOT)
        assert result.returncode == 1 and "Traceback" not in result.stderr + result.stdout
        assert problem in result.stdout, result.stdout


def test_a_genuine_file_passes_once_the_limit_is_raised(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text(CONFIGMAP + bomb(levels=5))  # 66,430 values: under the default, over a lower limit
    assert "KS007" in run_cli("check", str(big), cwd=ROOT, KUBESHIP_INPUT_LIMITS="nodes=60000").stdout
    assert "KS007" not in run_cli("check", str(big), cwd=ROOT).stdout
    wrong = run_cli("check", str(big), cwd=ROOT, KUBESHIP_INPUT_LIMITS="nodes=many")
    assert wrong.returncode == 2 and "name=positive integer" in wrong.stderr


def test_render_refuses_a_bomb_in_the_spec(tmp_path: Path) -> None:
    spec = tmp_path / "kubeship.yaml"
    spec.write_text("name: web\nversion: '1'\nimage: {name: web}\nx:\n" + bomb())
    result = run_cli("render", "-f", str(spec), cwd=ROOT)
    assert result.returncode == 6 and "Traceback" not in result.stderr
    assert re.search(rf"{re.escape(str(spec))}:11:\d+: expands to more than 1,000,000 values", result.stderr)


def test_render_refuses_nesting_the_pure_parser_would_recurse_into(tmp_path: Path) -> None:
    spec = tmp_path / "kubeship.yaml"
    spec.write_text("name: web\nx:\n" + "- " * 900 + "v\n")
    result = run_cli("render", "-f", str(spec), cwd=ROOT)
    assert result.returncode == 6 and "Traceback" not in result.stderr
    assert f"{spec}:3:" in result.stderr and "nested more than 128 levels" in result.stderr


def test_autoscale_decide_refuses_deep_snapshots_and_bombs_in_the_hpa_file(tmp_path: Path) -> None:
    snapshot = tmp_path / "snap.json"
    snapshot.write_text('{"pods": ' + "[" * 5000 + "]" * 5000 + "}")
    result = run_cli("autoscale", "decide", str(snapshot), cwd=ROOT)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{snapshot}: nested more than 128 levels" in result.stderr
    hpa = tmp_path / "hpa.yaml"
    hpa.write_text("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n" + bomb())
    snapshot.write_text("{}")
    result = run_cli("autoscale", "decide", str(snapshot), "--hpa", str(hpa), cwd=ROOT)
    assert (
        result.returncode == 2
        and f"{hpa}:10:" in result.stderr
        and "values through its aliases" in result.stderr
    )


def test_runtime_config_files_are_bounded(tmp_path: Path) -> None:
    cases = {
        "bomb.yaml": (bomb(indent=""), "expands to more than"),
        "deep.json": ('{"a": ' + "[" * 300 + "]" * 300 + "}", "nested more than 128 levels"),
        "deep.yaml": ("a:\n" + "- " * 500 + "x\n", "nested more than 128 levels"),
    }
    for name, (text, problem) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(ConfigError, match=re.escape(problem)) as caught:
            parse_mapping(path)
        assert str(path) in str(caught.value)


def test_a_running_service_keeps_its_config_and_serves_while_hostile_updates_are_refused(
    serve: Any, tmp_path: Path
) -> None:
    """wrk keeps calling while the ConfigMap mount is swapped to a bomb, then to absurd nesting, then
    to a good update: not one failed request, the old value until the good one arrives."""
    if shutil.which("wrk") is None:
        pytest.skip("wrk (make system-deps)")
    mount = tmp_path / "config"
    write_atomic_mount(mount, {"app.yaml": "message: v1\n"}, 1)
    svc = serve("fastapi_app:app", "--config", str(mount), "--workers", "2")
    load = subprocess.Popen(
        ["wrk", "-t1", "-c8", "-d5s", "--timeout", "30s", svc.url + "/ping"],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.5)
    write_atomic_mount(mount, {"app.yaml": "message: v2\n" + bomb(indent="")}, 2)
    svc.wait_log(lambda ln: "expands to more than" in str(ln.get("error")), timeout=10)
    assert httpx.get(svc.url + "/ping").json() == {"message": "v1"}
    write_atomic_mount(mount, {"app.yaml": "message: v3\nx: " + "[" * 400 + "]" * 400 + "\n"}, 3)
    svc.wait_log(lambda ln: "nested more than" in str(ln.get("error")), timeout=10)
    assert httpx.get(svc.url + "/ping").json() == {"message": "v1"}
    out, _ = load.communicate(timeout=30)
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    assert requests > 500 and "Non-2xx" not in out and "Socket errors" not in out, out
    write_atomic_mount(mount, {"app.yaml": "message: v4\n"}, 4)
    svc.wait_log(lambda ln: ln.get("msg") == "config reloaded", timeout=10)
    # Each worker's watcher ticks on its own second: the first v4 may come from one worker while the
    # other still has v1 for up to a second. Wait until 20 answers in a row (new connections, spread
    # over both workers) are v4.
    deadline, in_a_row = time.monotonic() + 10, 0
    while in_a_row < 20 and time.monotonic() < deadline:
        in_a_row = in_a_row + 1 if httpx.get(svc.url + "/ping").json() == {"message": "v4"} else 0
        time.sleep(0.05)
    assert in_a_row >= 20
    assert httpx.get(svc.url + "/ping").json() == {"message": "v4"}


def test_key_files_secret_files_and_measure_results_are_bounded(tmp_path: Path) -> None:
    from kubeship.runtime.auth import parse_keys
    from kubeship.runtime.secrets import read_secret

    with pytest.raises(ConfigError, match="nested more than 128 levels"):
        parse_keys('{"keys": ' + "[" * 5000 + "]" * 5000 + "}", tmp_path / "jwks.json")
    big = tmp_path / "token"
    big.write_bytes(b"x" * (4 * 2**20 + 1))
    with pytest.raises(ConfigError, match="secret file of 4,194,305 bytes") as caught:
        read_secret(big)
    assert "xxxx" not in str(caught.value)
    measured = tmp_path / "measure.json"
    measured.write_text('{"fit": ' + "[" * 3000 + "]" * 3000 + "}")
    result = run_cli("autoscale", "simulate", "--trace", "step", "--measured", str(measured), cwd=ROOT)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{measured}: nested more than 128 levels" in result.stderr


def test_a_duplicate_key_never_quotes_its_value_in_the_runtime_or_the_spec(tmp_path: Path) -> None:
    """ruamel's message quotes the duplicated key's value; in a config file that can be a password."""
    from kubeship.errors import SpecError
    from kubeship.spec.load import parse_spec

    text = "token: s3cr3t-first\ntoken: s3cr3t-second\n"
    config = tmp_path / "app.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError) as caught:
        parse_mapping(config)
    assert f"{config}:2:1: invalid YAML:" in str(caught.value) and "each key may appear once" in str(
        caught.value
    )
    assert "s3cr3t" not in str(caught.value)
    with pytest.raises(SpecError) as spec_error:
        parse_spec("name: web\n" + text)
    assert "s3cr3t" not in str(spec_error.value)


def test_a_document_far_over_the_size_limit_is_refused_without_being_parsed() -> None:
    """A single document of hundreds of MB was built into nodes (GBs) before the size limit refused it;
    now its length alone refuses it. One over a limit among others (found by the event pass) is read
    as blank lines: the others keep their objects and lines."""
    from kubeship.check import load_documents
    from kubeship.limits import Limits

    huge = "# head\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: huge}\ndata:\n" + "".join(
        f"  key{i}: value-{i}\n" for i in range(300_000)
    )
    docs, findings = load_documents(huge, "huge.yaml", bound=Limits(bytes=1_000_000))
    assert docs == [] and [(f.rule, f.line) for f in findings] == [("KS007", 2)]
    assert "document of" in findings[0].message and "bytes=" in findings[0].hint
    good = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n"
    many = "a: [" + ", ".join(["x"] * 2000) + "]\n"  # 2,001 values: over nodes=1000, and small
    stream = (
        good + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  " + many + "---\n" + good
    )
    docs, findings = load_documents(stream, "s.yaml", bound=Limits(bytes=len(stream) - 1, nodes=1000))
    assert [(f.rule, f.line) for f in findings] == [("KS007", 10)]  # where the values cross the limit
    assert [(d.name, d.line) for d in docs] == [("s", 1), ("s", 12)]
