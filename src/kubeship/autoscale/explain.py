"""A decision, step by step, in words a human can check against `kubectl describe hpa` (pure)."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

_STABILIZATION = {
    "ReadyForNewScale": "no stabilization applied: the recommendation stands",
    "ScaleDownStabilized": "held up by the scale-down stabilization window (the highest recommendation "
    "in the window wins, so a brief dip does not remove pods)",
    "ScaleUpStabilized": "held down by the scale-up stabilization window (the lowest recommendation in "
    "the window wins)",
}
_LIMITS = {
    "DesiredWithinRange": "within minReplicas..maxReplicas and every rate policy",
    "TooFewReplicas": "raised to minReplicas",
    "TooManyReplicas": "capped at maxReplicas",
    "ScaleUpLimit": "capped by the scale-up rate limit (behavior.scaleUp policies; without behavior, "
    "max(2x current, 4))",
    "ScaleDownLimit": "capped by the scale-down rate limit (behavior.scaleDown policies)",
}


def _quantity(value: Json) -> str:
    if "averageUtilization" in value:
        return f"{value['averageUtilization']}% of requests"
    if "averageValue" in value:
        return f"{value['averageValue']} per pod"
    return str(value.get("value", "?"))


def explain(result: Json) -> str:
    """The `kubeship autoscale decide` output (with its explanation) as numbered steps."""
    ex = result.get("explanation") or {}
    current = result["currentReplicas"]
    lines = [f"current replicas: {current}"]
    conditions = {c["type"]: c for c in result.get("conditions") or []}
    if not ex:  # no metric was read this pass
        if conditions.get("ScalingActive", {}).get("reason") == "ScalingDisabled":
            lines.append(
                "→ stay at 0: the workload was set to zero by someone else (no ScaledToZero=True), which "
                "pauses the HPA; scale it to 1 to hand it back"
            )
        else:
            lines.append(
                f"→ outside [minReplicas, maxReplicas]: set to {result['desiredReplicas']} at once, "
                "without reading the metrics"
            )
        return "\n".join(lines + _zero(conditions)) + "\n"
    n = 0
    for step in ex.get("metrics", []):
        n += 1
        if "error" in step:
            lines.append(f"{n}. {step['metric']}: no proposal ({step['error']})")
            if step.get("hint"):
                lines.append(f"   why: {step['hint']}")
            continue
        lines.append(
            f"{n}. {step['metric']}: current {_quantity(step['current'])}, target {_quantity(step['target'])}"
            f" → ratio {step['ratio']:.3f} → proposes {step['proposal']} pod(s)"
        )
        pods = step.get("pods")
        if pods:
            left_out = [
                f"{label} {', '.join(pods[key])}"
                for key, label in (
                    ("unready", "unready (not yet ready, or CPU still initializing):"),
                    ("missing", "without a metric:"),
                    ("ignored", "ignored (deleted or failed):"),
                )
                if pods[key]
            ]
            lines.append(
                f"   counted {pods['counted']} pod(s)" + ("; " + "; ".join(left_out) if left_out else "")
            )
            if pods["missing"] or (pods["unready"] and step["ratio"] > 1):
                lines.append(
                    "   pods left out are re-filled conservatively (missing: 0 on scale-up, 100% on "
                    "scale-down; unready: 0 on scale-up) and the ratio recomputed"
                )
        tol = ex.get("tolerance") or {"scaleDown": 0.1, "scaleUp": 0.1}
        if 1 - tol["scaleDown"] <= step["ratio"] <= 1 + tol["scaleUp"] and step["proposal"] == current:
            if tol["scaleDown"] == tol["scaleUp"]:
                lines.append(f"   within the {tol['scaleUp']:.0%} tolerance: no change from this metric")
            else:
                lines.append(
                    f"   within the tolerance ({tol['scaleDown']:.0%} below, {tol['scaleUp']:.0%} above the "
                    "target): no change from this metric"
                )
    if "proposed" not in ex:
        lines.append(f"→ no metric could be computed: the HPA keeps {result['desiredReplicas']} replicas")
        return "\n".join(lines) + "\n"
    n += 1
    lines.append(f"{n}. the largest proposal wins: {ex['proposed']} ({ex['behavior']})")
    n += 1
    why = _STABILIZATION.get(ex["stabilization"], ex["stabilization"])
    lines.append(f"{n}. stabilized: {ex['stabilized']} — {why}")
    n += 1
    limit = _LIMITS.get(ex["limit"], ex["limit"])
    bounds = f"min {ex['minReplicas']}, max {ex['maxReplicas']}"
    lines.append(f"{n}. limits ({bounds}): {limit} → {result['desiredReplicas']}")
    verb = (
        "scale up"
        if result["desiredReplicas"] > current
        else "scale down"
        if result["desiredReplicas"] < current
        else "stay"
    )
    lines.append(f"→ {verb}: {current} → {result['desiredReplicas']}")
    return "\n".join(lines + _zero(conditions)) + "\n"


def _zero(conditions: dict[str, Json]) -> list[str]:
    """What the ScaledToZero condition (HPAScaleToZero) means for the next passes."""
    if conditions.get("ScaledToZero", {}).get("status") != "True":
        return []  # NotScaledToZero, on every ordinary rescale: nothing to say
    return ["  ScaledToZero: the HPA put the workload at zero; it wakes it when the metric shows work"]
