"""Is the release done? Read from the Rollout's (or Deployment's) status as their controllers write it.

After the hand-off, Argo CD syncs the new pod template; Argo Rollouts then
runs the steps and the analysis. The release is:

- waiting, until the object's pod template names the pushed image (Argo CD
  has not synced yet) and its controller has observed that generation;
- done, when a Rollout is `Healthy` with the new template stable
  (`status.stableRS == status.currentPodHash`), or a Deployment has every
  replica updated and available (what `kubectl rollout status` waits for);
- failed, when a Rollout is aborted or `Degraded` (analysis failed, progress
  deadline), or a Deployment's `Progressing` condition says
  `ProgressDeadlineExceeded`;
- paused (still waiting, said so), when a Rollout waits at a `pause: {}`
  step or after an inconclusive analysis for a person to promote or abort.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Progress:
    done: bool
    ok: bool
    message: str


def _images(obj: Mapping[str, Any]) -> list[str]:
    pod = (((obj.get("spec") or {}).get("template") or {}).get("spec")) or {}
    return [c.get("image", "") for c in pod.get("containers") or []]


def progress(obj: Mapping[str, Any], image: str) -> Progress:
    """Where the release of `image` stands, from a Rollout or Deployment as `kubectl get -o json` gives it."""
    kind = obj.get("kind")
    status = obj.get("status") or {}
    if image not in _images(obj):
        return Progress(False, False, f"waiting for Argo CD to sync {image}")
    generation = (obj.get("metadata") or {}).get("generation")
    observed = status.get("observedGeneration")
    if generation is not None and observed is not None and str(observed) != str(generation):
        return Progress(False, False, f"waiting for the {kind} controller to see the new template")
    if kind == "Rollout":
        phase = status.get("phase", "")
        message = status.get("message") or ""
        if status.get("abort") or phase == "Degraded":
            return Progress(True, False, f"rollout aborted: {message or phase}")
        if (
            phase == "Healthy"
            and status.get("stableRS")
            and status.get("stableRS") == status.get("currentPodHash")
        ):
            return Progress(True, True, "rollout complete: the new version is stable")
        if phase == "Paused":
            return Progress(
                False,
                False,
                f"paused ({message or 'waiting for promote'}): kubectl argo rollouts promote or abort",
            )
        step = status.get("currentStepIndex")
        return Progress(
            False, False, f"{phase or 'Progressing'}" + (f" at step {step}" if step is not None else "")
        )
    replicas = (obj.get("spec") or {}).get("replicas", 1)
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded":
            return Progress(
                True, False, f"rollout failed: {condition.get('message', 'progress deadline exceeded')}"
            )
    updated = status.get("updatedReplicas", 0)
    available = status.get("availableReplicas", 0)
    total = status.get("replicas", 0)
    if updated >= replicas and available >= replicas and total == updated:
        return Progress(
            True, True, f"rollout complete: {available} of {replicas} replicas updated and available"
        )
    return Progress(False, False, f"{updated} of {replicas} replicas updated, {available} available")
