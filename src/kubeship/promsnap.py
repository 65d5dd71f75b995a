"""Ask a Prometheus for what an HPA decision needs (I/O at the edge): `autoscale explain --prometheus`."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from kubeship.autoscale.snapshot import Vector, build, queries
from kubeship.errors import UsageError


def snapshot(
    url: str,
    hpa: dict[str, Any],
    namespace: str,
    window: str = "1m",
    at: float | None = None,
    adapter: dict[str, Any] | None = None,
) -> dict[str, Any]:
    now = at if at is not None else time.time()
    asked = queries(hpa, namespace, window, adapter)
    answers = {key: _query(url, promql, now) for key, promql in asked.items()}
    if not answers["pods"]:
        target = hpa["spec"]["scaleTargetRef"]["name"]
        raise UsageError(
            f"{url}: no kube_pod_info for pods of {target} in namespace {namespace}: "
            "is kube-state-metrics scraped, and the namespace right?"
        )
    return build(hpa, answers, now, window)


def instant_query(url: str, promql: str, at: float, timeout: float = 10) -> dict[str, Any]:
    """Prometheus' `data` for an instant query at `at`; UsageError saying what went wrong."""
    params = urllib.parse.urlencode({"query": promql, "time": f"{at:.3f}"})
    full, url = f"{url.rstrip('/')}/api/v1/query?{params}", _without_password(url)
    try:
        with urllib.request.urlopen(full, timeout=timeout) as response:
            body = json.load(response)
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:200]
        raise UsageError(f"{url}: query refused ({exc.code}): {detail}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise UsageError(f"{url}: Prometheus unreachable ({getattr(exc, 'reason', exc)})") from None
    data: Any = body.get("data") if isinstance(body, dict) and body.get("status") == "success" else None
    if not isinstance(data, dict):
        raise UsageError(f"{url}: unexpected answer to {promql}: {str(body)[:200]}")
    return data


def _without_password(url: str) -> str:
    """The URL as messages may show it: a password in `user:pass@host` is never printed."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def _query(url: str, promql: str, at: float) -> Vector:
    data = instant_query(url, promql, at)
    if data.get("resultType") != "vector":
        raise UsageError(f"{url}: unexpected answer to {promql}: {str(data)[:200]}")
    return [(r["metric"], float(r["value"][1])) for r in data["result"]]
