"""When is a release done: the Rollout's and Deployment's status as their controllers write it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubeship.pipeline.progress import progress

NEW = "registry.example.com/team/shop@sha256:" + "b" * 64
OLD = "registry.example.com/team/shop@sha256:" + "a" * 64


def rollout(image: str, generation: int = 2, **status: Any) -> dict[str, Any]:
    return {
        "kind": "Rollout",
        "metadata": {"generation": generation},
        "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "shop", "image": image}]}}},
        "status": {"observedGeneration": "2", **status},  # Argo writes it as a string
    }


def deployment(image: str, **status: Any) -> dict[str, Any]:
    obj = rollout(image, **status)
    obj["kind"] = "Deployment"
    obj["status"]["observedGeneration"] = 2
    return obj


# (the situation, the object, done, ok, words in the message)
CASES = [
    ("Argo CD has not synced yet", rollout(OLD, phase="Healthy", stableRS="x", currentPodHash="x"),
     False, False, "waiting for Argo CD"),
    ("synced, not yet seen",
     rollout(NEW, generation=3, phase="Healthy", stableRS="x", currentPodHash="x"), False, False, "to see"),
    ("canary at a weight step", rollout(NEW, phase="Progressing", currentStepIndex=1, stableRS="a",
     currentPodHash="b"), False, False, "at step 1"),
    ("paused for a person", rollout(NEW, phase="Paused", message="CanaryPauseStep"), False, False, "promote"),
    ("healthy but the old revision is stable",
     rollout(NEW, phase="Healthy", stableRS="a", currentPodHash="b"), False, False, "Healthy"),
    ("promoted", rollout(NEW, phase="Healthy", stableRS="b", currentPodHash="b"), True, True, "stable"),
    ("analysis failed: aborted", rollout(NEW, phase="Degraded", abort=True,
     message="RolloutAborted: metric error-ratio assessed Failed"), True, False, "assessed Failed"),
    ("deployment rolling", deployment(NEW, replicas=4, updatedReplicas=2, availableReplicas=3),
     False, False, "2 of 3 replicas updated"),
    ("deployment done", deployment(NEW, replicas=3, updatedReplicas=3, availableReplicas=3), True, True,
     "complete"),
    ("deployment past its deadline", deployment(NEW, conditions=[{"type": "Progressing",
     "reason": "ProgressDeadlineExceeded", "message": 'ReplicaSet "shop-1" has timed out progressing.'}]),
     True, False, "timed out"),
]  # fmt: skip


@pytest.mark.parametrize(("situation", "obj", "done", "ok", "words"), CASES, ids=[c[0] for c in CASES])
def test_progress(situation: str, obj: dict[str, Any], done: bool, ok: bool, words: str) -> None:
    state = progress(obj, NEW)
    assert (state.done, state.ok) == (done, ok), state
    assert words in state.message


def test_wait_polls_until_done_and_raises_on_abort() -> None:
    from kubeship.errors import ReleaseError
    from kubeship.release import wait

    seen = iter(
        [
            rollout(OLD, phase="Healthy", stableRS="a", currentPodHash="a"),
            rollout(NEW, phase="Progressing", stableRS="a", currentPodHash="b"),
            rollout(NEW, phase="Healthy", stableRS="b", currentPodHash="b"),
        ]
    )
    said: list[str] = []
    state = wait(
        "Rollout", "shop", None, NEW, 60, get=lambda *a: next(seen), report=said.append, sleep=lambda s: None
    )
    assert state.ok and len(said) == 3
    aborted = rollout(NEW, phase="Degraded", abort=True, message="RolloutAborted")
    with pytest.raises(ReleaseError, match="RolloutAborted"):
        wait(
            "Rollout", "shop", None, NEW, 60, get=lambda *a: aborted, report=said.append, sleep=lambda s: None
        )
    clock = iter(range(0, 1000, 10))
    with pytest.raises(ReleaseError, match="not done after 30 s"):
        wait("Rollout", "shop", None, NEW, 30, get=lambda *a: None, report=said.append,
             sleep=lambda s: None, clock=lambda: next(clock))  # fmt: skip


def test_wait_writes_the_kubeconfig_from_the_environment_privately() -> None:
    import os
    import stat

    from kubeship.release import wait

    modes: list[int] = []

    def get(kind: str, name: str, ns: str | None, kubeconfig: str | None) -> dict[str, Any]:
        assert kubeconfig is not None
        modes.append(stat.S_IMODE(os.stat(kubeconfig).st_mode))
        assert Path(kubeconfig).read_text() == "apiVersion: v1\nkind: Config\n"
        return rollout(NEW, phase="Healthy", stableRS="b", currentPodHash="b")

    environ = {"KUBECONFIG_DATA": "apiVersion: v1\nkind: Config\n"}
    wait("Rollout", "shop", "shop", NEW, 60, get=get, report=lambda m: None, environ=environ)
    assert modes == [0o600]
