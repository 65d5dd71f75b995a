"""Render speed: 1,000 generated apps → objects/s (target: 1,000 apps in under 2 s).

Prints the time for spec validation, rendering to dicts, and YAML output
separately, since YAML text is the slowest part and not always needed.

usage: python benchmarks/render.py [--apps 1000]
"""

from __future__ import annotations

import argparse
import sys
import time

from kubeship.render import render, to_yaml
from kubeship.spec import AppSpec


def app(i: int) -> dict[str, object]:
    return {
        "name": f"app-{i}",
        "version": f"1.{i % 7}.0",
        "image": {
            "registry": "registry.example.com",
            "namespace": "team",
            "name": f"app-{i}",
            "tag": "1.0.0",
        },
        "replicas": 2 + i % 3,
        "service": {"type": "NodePort", "nodePort": 30000 + i % 2767}
        if i % 4 == 0
        else {"type": "ClusterIP"},
        "ingress": {"className": "nginx", "hosts": [{"host": f"app-{i}.example.com"}]} if i % 2 else None,
        "config": {"data": {"log-level": "info", "timeout": f"{i % 60}s"}},
        "secrets": {f"app-{i}-db": {"external": True}},
        "autoscaling": {"minReplicas": 2, "maxReplicas": 10, "cpu": 50, "memory": "200Mi"},
        "networkPolicy": {"fromNamespaces": ["ingress-nginx", "monitoring"]},
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--apps", type=int, default=1000)
    args = parser.parse_args()
    raw = [{k: v for k, v in app(i).items() if v is not None} for i in range(args.apps)]
    t0 = time.perf_counter()
    specs = [AppSpec.model_validate(r) for r in raw]
    t1 = time.perf_counter()
    rendered = [render(s) for s in specs]
    t2 = time.perf_counter()
    text = [to_yaml(objs) for objs in rendered]
    t3 = time.perf_counter()
    objects = sum(len(r) for r in rendered)
    print(f"{args.apps} apps, {objects} objects, {sum(map(len, text)) / 1e6:.1f} MB of YAML")
    print(f"  validate specs   {t1 - t0:6.3f} s")
    print(f"  render objects   {t2 - t1:6.3f} s   {objects / (t2 - t1):9,.0f} objects/s")
    print(f"  write YAML       {t3 - t2:6.3f} s   {objects / (t3 - t2):9,.0f} objects/s")
    total = t3 - t0
    verdict = "met" if total < 2 else "NOT met"
    print(f"  total            {total:6.3f} s   (target: {args.apps} apps < 2 s: {verdict})")
    print(f"  without YAML     {t2 - t0:6.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
