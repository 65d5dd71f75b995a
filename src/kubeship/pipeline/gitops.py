"""What the release hands to GitOps: an environment's manifests and its Argo CD Application.

The deploy repository holds, per environment, the rendered objects (one file
each, with a kustomization.yaml so `kubectl apply -k` and Argo CD read the
directory alike) and, under `argocd/`, one Application that points Argo CD at
that directory. Secret values never go to git: every Secret is referenced by
name and provisioned in the cluster (External Secrets, Sealed Secrets, or by
hand), so the objects are rendered as if `external: true`.
"""

from __future__ import annotations

import re
from typing import Any

from kubeship.errors import UsageError
from kubeship.pipeline.stages import pipeline_of
from kubeship.render import render, secrets_by_reference, security, to_yaml
from kubeship.render.labels import labels
from kubeship.render.output import file_name
from kubeship.spec.models import AppSpec

APPLICATIONS_DIR = "argocd"
ANNOTATION_IMAGE = "kubeship.io/image"
ANNOTATION_SOURCE = "kubeship.io/source"
_REFERENCE = re.compile(r"^(?P<repo>[^@\s]+)@(?P<digest>sha256:[0-9a-f]{64})$")


def with_image(spec: AppSpec, reference: str | None) -> AppSpec:
    """The spec with the pushed `repository@sha256:…` pinned; the repository must be the spec's."""
    if not reference:
        return spec
    match = _REFERENCE.match(reference)
    if match is None:
        raise UsageError(f"--image {reference!r}: expected <repository>@sha256:<64 hex digits>")
    if match["repo"] != spec.image.repository:
        raise UsageError(
            f"--image {reference!r} is not of this app's repository {spec.image.repository}: "
            "pass what `kubeship push` printed for this spec"
        )
    return spec.model_copy(update={"image": spec.image.model_copy(update={"digest": match["digest"]})})


def environment_path(spec: AppSpec, env: str | None) -> str:
    return pipeline_of(spec).gitops.path.format(name=spec.name, env=env or "base")


def manifests(spec: AppSpec) -> dict[str, str]:
    """{file name: YAML} of an environment's directory: one object a file, and the kustomization."""
    objects = render(secrets_by_reference(spec))
    files = {file_name(obj): to_yaml([obj]) for obj in objects}
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": list(files),  # apply order, as rendered
    }
    return {**files, "kustomization.yaml": to_yaml([kustomization])}


def environment_name(spec: AppSpec, env: str | None) -> str:
    """`<name>-<env>`: the Application's name, its file's, and the namespace an environment gets."""
    return f"{spec.name}-{env}" if env else spec.name


def destination(spec: AppSpec, env: str | None) -> tuple[dict[str, str], dict[str, Any] | None]:
    """Where an environment goes, and the namespace Argo CD should create when kubeship does not
    render one. Environments never share a namespace by default: `<name>-<env>` unless the spec
    names one (then its environments are meant for different clusters: pipeline.environments[].cluster)."""
    p = pipeline_of(spec)
    declared = next((e for e in p.environments or [] if e.name == env), None)
    server = declared.cluster if declared is not None and declared.cluster else p.gitops.argocd.server
    if spec.namespace:
        return {"server": server, "namespace": spec.namespace}, None
    name = environment_name(spec, env)
    made = security.namespace(spec.model_copy(update={"namespace": name}))
    labels = made["metadata"]["labels"] if made is not None else {}
    return {"server": server, "namespace": name}, {"labels": labels}


def application(spec: AppSpec, env: str | None, repository: str, source: str | None = None) -> dict[str, Any]:
    """The Argo CD Application that syncs the environment's directory of `repository`."""
    gitops = pipeline_of(spec).gitops
    argocd = gitops.argocd
    where, managed = destination(spec, env)
    annotations = {ANNOTATION_IMAGE: spec.image.reference}  # the pinned digest, once with_image ran
    if source:
        annotations[ANNOTATION_SOURCE] = source
    sync: dict[str, Any] = {
        "automated": {"prune": argocd.prune, "selfHeal": argocd.self_heal},
        # Apply server-side: large objects (a Rollout, a dashboard) exceed the annotation limit
        # of client-side apply. A namespace kubeship does not render, Argo CD creates, with the
        # Pod Security labels kubeship would have given it.
        "syncOptions": ["ServerSideApply=true", f"CreateNamespace={'true' if managed else 'false'}"],
        "retry": {"limit": 5, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "3m"}},
    }
    if managed is not None:
        sync["managedNamespaceMetadata"] = managed
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": environment_name(spec, env),
            "namespace": argocd.namespace,
            "labels": labels(spec),
            "annotations": annotations,
            # Deleting the Application deletes what it deployed (the cascade Argo CD documents).
            "finalizers": ["resources-finalizer.argocd.argoproj.io"],
        },
        "spec": {
            "project": argocd.project,
            "source": {
                "repoURL": repository,
                "targetRevision": gitops.branch,
                "path": environment_path(spec, env),
            },
            "destination": where,
            "syncPolicy": sync,
            "revisionHistoryLimit": 10,
        },
    }


def application_file(spec: AppSpec, env: str | None) -> str:
    return f"{APPLICATIONS_DIR}/{environment_name(spec, env)}.yaml"


def release_tree(
    spec: AppSpec,
    env: str | None,
    repository: str | None,
    *,
    image: str | None = None,
    source: str | None = None,
) -> dict[str, str]:
    """{path in the deploy repository: YAML}: the environment's directory, and its Application when
    the repository it will live in is known."""
    spec = with_image(spec, image)
    directory = environment_path(spec, env)
    tree = {f"{directory}/{name}": text for name, text in manifests(spec).items()}
    if repository and pipeline_of(spec).gitops.argocd.enabled:
        app = application(spec, env, repository, source)
        tree[application_file(spec, env)] = to_yaml([app])
    return tree
