"""The GitOps hand-off: what goes into the deploy repository, and publishing it with real git."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from kubeship.check import Options, check_documents, load_documents
from kubeship.errors import ReleaseError, UsageError
from kubeship.pipeline.gitops import release_tree
from kubeship.release import _git_env, publish
from kubeship.spec import parse_spec

SPEC = """
name: shop
namespace: shop
version: "1.2.0"
image: {registry: registry.example.com, namespace: team, name: shop, tag: "1.2.0"}
secrets:
  db: {keys: {password: {fromEnv: DB_PASSWORD}}}
pipeline: {gitops: {path: "apps/{name}/{env}"}}
"""
DIGEST = "sha256:" + "c" * 64
IMAGE = f"registry.example.com/team/shop@{DIGEST}"
REPO = "https://git.example.com/shop/deploy.git"


def test_tree_pins_the_image_and_never_holds_a_secret_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_PASSWORD", "canary-s3cret-value")
    tree = release_tree(parse_spec(SPEC), "prod", REPO, image=IMAGE, source="https://x/commit/1")
    assert "apps/shop/prod/kustomization.yaml" in tree and "argocd/shop-prod.yaml" in tree
    text = "".join(tree.values())
    assert "canary-s3cret" not in text and "kind: Secret\n" not in text  # by reference only
    assert f'image: "{IMAGE}"' in tree["apps/shop/prod/deployment-shop.yaml"]
    kustomization = yaml.safe_load(tree["apps/shop/prod/kustomization.yaml"])
    assert sorted(kustomization["resources"]) == sorted(
        p.rsplit("/", 1)[1] for p in tree if p.startswith("apps/shop/prod/") and "kustomization" not in p
    )
    app = yaml.safe_load(tree["argocd/shop-prod.yaml"])
    assert app["spec"]["source"] == {"repoURL": REPO, "targetRevision": "deploy", "path": "apps/shop/prod"}
    assert app["spec"]["destination"]["namespace"] == "shop"
    assert app["metadata"]["annotations"] == {
        "kubeship.io/image": IMAGE,
        "kubeship.io/source": "https://x/commit/1",
    }


def test_everything_that_lands_is_check_clean() -> None:
    tree = release_tree(parse_spec(SPEC), "prod", REPO, image=IMAGE)
    docs, findings = load_documents("---\n".join(tree.values()), "deploy")
    findings += check_documents(docs, Options(external_refs=True))
    assert [f for f in findings if f.severity.label != "info"] == []
    assert {d.kind for d in docs} >= {"Application", "Deployment", "Kustomization"}


def test_check_finds_a_mistake_in_an_application() -> None:
    tree = release_tree(parse_spec(SPEC), "prod", REPO, image=IMAGE)
    broken = tree["argocd/shop-prod.yaml"].replace("selfHeal: true", "selfheal: true")
    docs, findings = load_documents(broken, "argocd/shop-prod.yaml")
    findings += check_documents(docs, Options())
    assert [(f.rule, "selfheal" in f.message) for f in findings] == [("KS002", True)]


@pytest.mark.parametrize(
    ("image", "says"),
    [("registry.example.com/team/other@" + DIGEST, "not of this app's repository"), ("shop:1.2", "expected")],
)
def test_an_image_of_another_repository_or_no_digest_is_refused(image: str, says: str) -> None:
    with pytest.raises(UsageError, match=says):
        release_tree(parse_spec(SPEC), "prod", REPO, image=image)


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def files_on(remote: Path, branch: str) -> list[str]:
    return sorted(git("--git-dir", str(remote), "ls-tree", "-r", "--name-only", branch).split())


def test_publish_to_a_real_bare_repository(tmp_path: Path) -> None:
    remote = tmp_path / "deploy.git"
    git("init", "-q", "--bare", str(remote))
    files = {
        "apps/shop/prod/a.yaml": "a: 1\n",
        "apps/shop/prod/b.yaml": "b: 1\n",
        "argocd/shop-prod.yaml": "x\n",
    }
    first = publish(str(remote), "deploy", files, ["apps/shop/prod"], "shop prod: one")
    assert first.commit and files_on(remote, "deploy") == sorted(
        files
    )  # the branch made on the first release
    staging = {"apps/shop/staging/a.yaml": "a: 2\n"}
    publish(str(remote), "deploy", staging, ["apps/shop/staging"], "shop staging")
    # b.yaml gone from the spec: gone from git (Argo CD prunes it); the other environment untouched
    now = {"apps/shop/prod/a.yaml": "a: 2\n", "argocd/shop-prod.yaml": "x\n"}
    second = publish(str(remote), "deploy", now, ["apps/shop/prod"], "shop prod: two")
    assert second.commit != first.commit
    assert files_on(remote, "deploy") == [
        "apps/shop/prod/a.yaml",
        "apps/shop/staging/a.yaml",
        "argocd/shop-prod.yaml",
    ]
    again = publish(str(remote), "deploy", now, ["apps/shop/prod"], "shop prod: same")
    assert again.commit is None  # nothing changed: no empty commit
    log = git("--git-dir", str(remote), "log", "--format=%s|%an", "deploy").splitlines()
    assert log == [
        "shop prod: two|kubeship pipeline",
        "shop staging|kubeship pipeline",
        "shop prod: one|kubeship pipeline",
    ]


def test_publish_names_the_repository_when_git_refuses(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError, match=r"nope\.git \(deploy\): git ls-remote failed"):
        publish(str(tmp_path / "nope.git"), "deploy", {"a": "b"}, [], "m")


def test_the_token_goes_in_a_header_from_the_environment_never_argv_or_url() -> None:
    env = _git_env(
        "https://git.example.com/deploy.git", {"GITOPS_TOKEN": "canary-token", "GIT_CONFIG_COUNT": "1"}
    )
    assert env["GIT_CONFIG_COUNT"] == "2" and env["GIT_CONFIG_KEY_1"] == "http.extraHeader"
    assert env["GIT_CONFIG_VALUE_1"].startswith("Authorization: Basic ")
    assert "canary-token" not in env["GIT_CONFIG_VALUE_1"]  # base64 of x-access-token:<token>
    assert "GIT_CONFIG_KEY_0" not in env  # the caller's own config entries keep their places
    local = _git_env("/srv/deploy.git", {"GITOPS_TOKEN": "canary-token"})
    assert "GIT_CONFIG_COUNT" not in local  # only sent over HTTPS


def test_a_repository_that_reads_as_a_git_option_is_refused(tmp_path: Path) -> None:
    """`--upload-pack=CMD` as the repository ran CMD through git ls-remote before this was refused."""
    canary = tmp_path / "ran"
    with pytest.raises(ReleaseError, match="not a repository URL or path"):
        publish(f"--upload-pack=touch {canary}", "deploy", {"a": "b"}, [], "m")
    assert not canary.exists()
