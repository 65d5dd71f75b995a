# ruff: noqa: E501  (Argo's messages are long and quoted whole)
"""Argo Rollouts as users write them: a Rollout for every traffic router Argo supports, every step kind
(combined where Argo allows it), Experiments and AnalysisRuns: no schema finding on valid objects; the
API server's refusal (KS002) or the controller's own message (KS330-KS332) on invalid ones."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubeship.check import Document, Options, check_documents

ARGO = Options(select=frozenset({"KS002", "KS003", "KS330", "KS331", "KS332"}))


def findings(*objs: dict[str, Any], options: Options = ARGO) -> list[tuple[str, str]]:
    docs = [Document(o, "f.yaml", i + 1) for i, o in enumerate(objs)]
    return [(f.rule, f.message) for f in check_documents(docs, options)]


def rollout(routing: dict[str, Any] | None, steps: list[dict[str, Any]], **canary: Any) -> dict[str, Any]:
    strategy: dict[str, Any] = {"canaryService": "web-canary", "stableService": "web-stable", "steps": steps}
    if routing is not None:
        strategy["trafficRouting"] = routing
    strategy.update(canary)
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 4,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "registry.example.com/web:1.4.2"}]},
            },
            "strategy": {"canary": strategy},
        },
    }


COMMON_STEPS = [
    {"setWeight": 5},
    {"pause": {}},
    {"pause": {"duration": 30}},
    {"pause": {"duration": "1h30m"}},
    {"setCanaryScale": {"replicas": 2}},
    {"setCanaryScale": {"weight": 25}},
    {"setCanaryScale": {"matchTrafficWeight": True}},
    {
        "analysis": {
            "templates": [{"templateName": "success-rate"}, {"templateName": "smoke", "clusterScope": True}],
            "args": [
                {"name": "service", "value": "web"},
                {"name": "hash", "valueFrom": {"podTemplateHashValue": "Latest"}},
                {"name": "ns", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            ],
            "dryRun": [{"metricName": "smoke"}],
            "measurementRetention": [{"metricName": "success-rate", "limit": 20}],
            "analysisRunMetadata": {"labels": {"team": "web"}},
        }
    },
    {
        "experiment": {
            "duration": "10m",
            "templates": [
                {"name": "baseline", "specRef": "stable", "replicas": 1, "service": {"name": "web-baseline"}},
                {"name": "candidate", "specRef": "canary", "metadata": {"labels": {"exp": "yes"}}},
            ],
            "analyses": [{"name": "compare", "templateName": "success-rate", "requiredForCompletion": True}],
        }
    },
    {"plugin": {"name": "argoproj-labs/step-exec", "config": {"command": ["echo", "hi"]}}},
    {"setWeight": 100},
]
HEADER = {
    "setHeaderRoute": {
        "name": "canary-header",
        "match": [{"headerName": "X-Canary", "headerValue": {"exact": "yes"}}],
    }
}
MANAGED = [{"name": "canary-header"}, {"name": "mirror"}]
# The issue's example: setCanaryScale and setHeaderRoute in one step (Argo only forbids combining
# setWeight, pause, experiment and analysis).
SCALE_AND_HEADER = {"setCanaryScale": {"weight": 10}, **HEADER}
MIRROR = {
    "setMirrorRoute": {
        "name": "mirror",
        "percentage": 35,
        "match": [
            {"method": {"exact": "GET"}, "path": {"prefix": "/api"}, "headers": {"agent": {"regex": "^curl"}}}
        ],
    }
}
WEIGHTED_EXPERIMENT = {"experiment": {"templates": [{"name": "canary", "specRef": "canary", "weight": 10}]}}

ROUTERS: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {
    "nginx": (
        {
            "nginx": {
                "stableIngress": "web",
                "annotationPrefix": "nginx.ingress.kubernetes.io",
                "additionalIngressAnnotations": {"canary-by-header": "X-Canary"},
                "canaryIngressAnnotations": {"my-annotation": "x"},
            }
        },
        [],
    ),
    "nginx, several ingresses": ({"nginx": {"stableIngresses": ["web", "web-internal"]}}, []),
    "alb": (
        {
            "alb": {
                "ingress": "web",
                "servicePort": 80,
                "rootService": "web-root",
                "annotationPrefix": "alb.ingress.kubernetes.io",
                "stickinessConfig": {"enabled": True, "durationSeconds": 3600},
            },
            "managedRoutes": MANAGED[:1],
        },
        [SCALE_AND_HEADER, WEIGHTED_EXPERIMENT],
    ),
    "alb, several ingresses": (
        {"alb": {"ingresses": ["web", "web-admin"], "servicePort": 443}},
        [WEIGHTED_EXPERIMENT],
    ),
    "smi": ({"smi": {"rootService": "web", "trafficSplitName": "web-split"}}, [WEIGHTED_EXPERIMENT]),
    "istio, virtual service": (
        {"istio": {"virtualService": {"name": "web-vsvc", "routes": ["primary"]}}, "managedRoutes": MANAGED},
        [SCALE_AND_HEADER, MIRROR, WEIGHTED_EXPERIMENT],
    ),
    "istio, several, TLS and TCP": (
        {
            "istio": {
                "virtualServices": [
                    {"name": "a", "routes": ["primary"]},
                    {
                        "name": "b",
                        "tlsRoutes": [{"port": 443, "sniHosts": ["web.example.com"]}],
                        "tcpRoutes": [{"port": 8443}],
                    },
                ]
            }
        },
        [],
    ),
    "istio, subsets": (
        {
            "istio": {
                "virtualService": {"name": "web-vsvc"},
                "destinationRule": {
                    "name": "web-destrule",
                    "canarySubsetName": "canary",
                    "stableSubsetName": "stable",
                },
            }
        },
        [],
    ),
    "ambassador": ({"ambassador": {"mappings": ["web-mapping"]}}, []),
    "apisix": (
        {"apisix": {"route": {"name": "web-route", "rules": ["rule1"]}}, "managedRoutes": MANAGED[:1]},
        [SCALE_AND_HEADER],
    ),
    "traefik": ({"traefik": {"weightedTraefikServiceName": "web-weighted"}}, []),
    "app mesh": (
        {
            "appMesh": {
                "virtualService": {"name": "web-svc", "routes": ["primary"]},
                "virtualNodeGroup": {
                    "canaryVirtualNodeRef": {"name": "web-canary"},
                    "stableVirtualNodeRef": {"name": "web-stable"},
                },
            }
        },
        [],
    ),
    "plugin": (
        {
            "plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "web-route", "namespace": "default"}},
            "maxTrafficWeight": 1000,
        },
        [],
    ),
}


@pytest.mark.parametrize("router", sorted(ROUTERS))
def test_a_rollout_for_each_traffic_router_with_every_step_kind_is_clean(router: str) -> None:
    routing, extra = ROUTERS[router]
    assert findings(rollout(routing, COMMON_STEPS[:-1] + extra + COMMON_STEPS[-1:])) == []


def test_a_replica_weighted_canary_and_a_blue_green_are_clean() -> None:
    basic = rollout(
        None, [{"setWeight": 20}, {"pause": {"duration": "1m"}}], maxSurge="25%", maxUnavailable=0
    )
    del basic["spec"]["strategy"]["canary"]["canaryService"]
    blue_green = copy.deepcopy(basic)
    blue_green["spec"]["strategy"] = {
        "blueGreen": {
            "activeService": "web",
            "previewService": "web-preview",
            "autoPromotionEnabled": False,
            "prePromotionAnalysis": {"templates": [{"templateName": "success-rate"}]},
            "antiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": {"weight": 50}},
            "previewMetadata": {"labels": {"role": "preview"}},
        }
    }
    assert findings(basic, blue_green) == []


def test_experiments_and_analysis_runs_are_validated_not_skipped() -> None:
    template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "x:1"}]},
    }
    experiment = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Experiment",
        "metadata": {"name": "compare"},
        "spec": {
            "duration": "20m",
            "progressDeadlineSeconds": 300,
            "templates": [
                {
                    "name": "baseline",
                    "replicas": 1,
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": template,
                    "service": {"name": "b"},
                },
            ],
            "analyses": [
                {"name": "compare", "templateName": "success-rate", "args": [{"name": "svc", "value": "b"}]}
            ],
        },
    }
    run = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisRun",
        "metadata": {"name": "web-1"},
        "spec": {
            "args": [{"name": "key", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
            "metrics": [
                {
                    "name": "m",
                    "interval": "1m",
                    "count": 3,
                    "provider": {"prometheus": {"query": "vector(1)"}},
                }
            ],
            "ttlStrategy": {"secondsAfterCompletion": 3600},
        },
    }
    assert findings(experiment, run) == []
    experiment["spec"]["templates"][0]["replica"] = 2
    run["spec"]["terminated"] = True
    found = findings(experiment, run)
    assert [rule for rule, _ in found] == ["KS002", "KS002"]
    assert "unknown field 'replica'" in found[0][1] and "unknown field 'terminated'" in found[1][1]


INVALID = [
    (
        "mixed step kinds",
        None,
        [{"setWeight": 20, "pause": {}}],
        {},
        "spec.strategy.canary.steps[0]: Step must have one of the following set: experiment, setWeight, setCanaryScale or pause",
    ),
    (
        "an empty step",
        None,
        [{}],
        {},
        "spec.strategy.canary.steps[0]: Step must have one of the following set: experiment, setWeight, setCanaryScale or pause",
    ),
    (
        "weight over 100",
        None,
        [{"setWeight": 150}],
        {},
        "spec.strategy.canary.steps[0].setWeight: SetWeight needs to be between 0 and 100",
    ),
    (
        "an unreadable pause",
        None,
        [{"pause": {"duration": "5 minutes"}}],
        {},
        "spec.strategy.canary.steps[0].pause.duration: Duration needs to be greater than 0",
    ),
    (
        "a negative pause",
        None,
        [{"pause": {"duration": "-5s"}}],
        {},
        "spec.strategy.canary.steps[0].pause.duration: Duration needs to be greater than 0",
    ),
    (
        "canary scale without routing",
        None,
        [{"setCanaryScale": {"replicas": 1}}],
        {},
        "spec.strategy.canary.trafficRouting: SetCanaryScale requires TrafficRouting to be set",
    ),
    (
        "header route on nginx",
        {"nginx": {"stableIngress": "web"}, "managedRoutes": MANAGED},
        [HEADER],
        {},
        "spec.strategy.canary.steps[0].setHeaderRoute: SetHeaderRoute requires TrafficRouting, supports Istio and ALB and Apisix",
    ),
    (
        "mirror route on ALB",
        {"alb": {"ingress": "web", "servicePort": 80}, "managedRoutes": MANAGED},
        [MIRROR],
        {},
        "spec.strategy.canary.steps[0].setMirrorRoute: SetMirrorRoute requires TrafficRouting, supports Istio only",
    ),
    (
        "header route not managed",
        {"istio": {"virtualService": {"name": "v"}}, "managedRoutes": [{"name": "other"}]},
        [HEADER],
        {},
        "spec.strategy.canary.steps[0].setHeaderRoute: Steps define a route that does not exist in spec.strategy.canary.trafficRouting.managedRoutes",
    ),
    (
        "no managed routes",
        {"istio": {"virtualService": {"name": "v"}}},
        [HEADER],
        {},
        "Rollout has missing field 'spec.strategy.canary.trafficRouting.managedRoutes'",
    ),
    (
        "ALB header by prefix",
        {"alb": {"ingress": "web", "servicePort": 80}, "managedRoutes": MANAGED},
        [
            {
                "setHeaderRoute": {
                    "name": "canary-header",
                    "match": [{"headerName": "X", "headerValue": {"prefix": "y"}}],
                }
            }
        ],
        {},
        "spec.strategy.canary.steps[0].setHeaderRoute.match[0]: SetHeaderRoute match value invalid. ALB supports 'exact' value only",
    ),
    (
        "two match values",
        {"istio": {"virtualService": {"name": "v"}}, "managedRoutes": MANAGED},
        [
            {
                "setHeaderRoute": {
                    "name": "canary-header",
                    "match": [{"headerName": "X", "headerValue": {"exact": "a", "regex": "b"}}],
                }
            }
        ],
        {},
        "spec.strategy.canary.steps[0].setHeaderRoute.match[0]: StringMatch match value must have exactly one of the following: exact, regex, prefix",
    ),
    (
        "no surge, no unavailable",
        None,
        [{"setWeight": 10}],
        {"maxSurge": 0, "maxUnavailable": "0%"},
        "spec.strategy.canary.maxSurge: MaxSurge and MaxUnavailable both can not be zero",
    ),
    (
        "one service for both",
        None,
        [{"setWeight": 10}],
        {"canaryService": "web", "stableService": "web"},
        "spec.strategy.canary.stableService: This rollout uses the same service for the stable and canary services, but two different services are required.",
    ),
    (
        "routing without a stable service",
        {"smi": {}},
        [{"setWeight": 10}],
        {"stableService": ""},
        "spec.strategy.canary.stableService: Canary service and Stable service must to be set to use Traffic Routing",
    ),
    (
        "nginx with both ingress fields",
        {"nginx": {"stableIngress": "a", "stableIngresses": ["b"]}},
        [{"setWeight": 10}],
        {},
        "spec.strategy.canary.trafficRouting.nginx: Either StableIngress or StableIngresses must be configured. Both are configured.",
    ),
    (
        "ALB with no ingress",
        {"alb": {"servicePort": 80}},
        [{"setWeight": 10}],
        {},
        "spec.strategy.canary.trafficRouting.alb: Either Ingress or Ingresses must be configured. Neither are configured.",
    ),
    (
        "istio with no virtual service",
        {"istio": {}},
        [{"setWeight": 10}],
        {},
        "spec.strategy.canary.trafficRouting.istio: either VirtualService or VirtualServices must be configured",
    ),
    (
        "experiment weight on nginx",
        {"nginx": {"stableIngress": "web"}},
        [WEIGHTED_EXPERIMENT],
        {},
        "spec.strategy.canary.steps[0].experiment.templates[0].weight: Experiment template weight is only available for TrafficRouting with SMI, ALB, and Istio at this time",
    ),
    (
        "scale-down delay without routing",
        None,
        [{"setWeight": 10}],
        {"scaleDownDelaySeconds": 30},
        "spec.strategy.canary.scaleDownDelaySeconds: Canary scaleDownDelaySeconds can only be used with traffic routing",
    ),
    (
        "anti-affinity twice",
        None,
        [{"setWeight": 10}],
        {
            "antiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": {"weight": 1},
                "requiredDuringSchedulingIgnoredDuringExecution": {},
            }
        },
        "spec.strategy.canary.antiAffinity: AntiAffinity must have exactly one strategy listed",
    ),
]


@pytest.mark.parametrize(
    ("routing", "steps", "canary", "message"), [pytest.param(*r[1:], id=r[0]) for r in INVALID]
)
def test_what_the_controller_refuses_is_reported_in_its_words(
    routing: dict[str, Any] | None, steps: list[dict[str, Any]], canary: dict[str, Any], message: str
) -> None:
    assert findings(rollout(routing, steps, **canary)) == [("KS330", message)]


def test_what_the_api_server_refuses_is_a_schema_error() -> None:
    no_port = rollout({"alb": {"ingress": "web"}}, [{"setWeight": 10}])
    no_service = rollout({"traefik": {}}, [{"setWeight": 10}])
    typo = rollout({"nginx": {"stableIngres": "web"}}, [{"setWeight": 10}])
    rules = [rule for rule, _ in findings(no_port)]
    assert "KS002" in rules
    assert any("servicePort" in m for r, m in findings(no_port) if r == "KS002")
    assert any("weightedTraefikServiceName" in m for r, m in findings(no_service) if r == "KS002")
    assert any("stableIngres" in m for r, m in findings(typo) if r == "KS002")


def test_strategies_blue_green_and_both() -> None:
    both = rollout(None, [{"setWeight": 10}])
    both["spec"]["strategy"]["blueGreen"] = {"activeService": "a", "previewService": "b"}
    assert findings(both) == [("KS330", "spec.strategy: Multiple Strategies can not be listed")]
    same = rollout(None, [])
    same["spec"]["strategy"] = {"blueGreen": {"activeService": "web", "previewService": "web"}}
    [(rule, message)] = findings(same)
    assert rule == "KS330" and message.startswith(
        "spec.strategy.blueGreen.activeService: This rollout uses the same"
    )


def template(**metric: Any) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": "success-rate"},
        "spec": {"metrics": [{"name": "m", "provider": {"prometheus": {"query": "vector(1)"}}, **metric}]},
    }


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        ({"count": 5}, "metrics[0]: interval must be specified when count > 1"),
        ({"count": 2, "interval": "1m", "failureLimit": 3}, "metrics[0]: count must be >= failureLimit"),
        (
            {"interval": "one minute"},
            'metrics[0]: invalid interval string: time: invalid duration "one minute"',
        ),
        ({"provider": {}}, "metrics[0]: no provider specified"),
        (
            {"provider": {"prometheus": {"query": "a"}, "web": {"url": "b"}}},
            "metrics[0]: multiple providers specified",
        ),
        ({"consecutiveErrorLimit": -1}, "metrics[0]: consecutiveErrorLimit must be >= 0"),
    ],
)
def test_metrics_argo_refuses(metric: dict[str, Any], message: str) -> None:
    assert findings(template(**metric)) == [("KS331", message)]


def test_arguments_are_not_judged_before_they_are_resolved() -> None:
    assert findings(template(count="{{args.count}}", interval="{{args.interval}}")) == []


def test_a_step_analysis_that_never_ends() -> None:
    step = {"analysis": {"templates": [{"templateName": "success-rate"}]}}
    endless = template(interval="1m")
    assert findings(rollout(None, [step]), endless) == [
        (
            "KS332",
            "AnalysisTemplate success-rate has metric m which runs indefinitely. Invalid value for count: <nil>",
        )
    ]
    background = rollout(
        None, [{"setWeight": 10}], analysis={"templates": [{"templateName": "success-rate"}]}
    )
    assert findings(background, endless) == []  # background analysis runs until the rollout ends: fine


def ingress(backend: dict[str, Any], annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web", "annotations": annotations or {}},
        "spec": {"rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}]},
    }


def test_alb_use_annotation_backends_are_actions_not_ports() -> None:
    ks302 = Options(select=frozenset({"KS302"}))
    action = {"service": {"name": "ssl-redirect", "port": {"name": "use-annotation"}}}
    redirect = ingress(action, {"alb.ingress.kubernetes.io/actions.ssl-redirect": '{"Type": "redirect"}'})
    assert findings(redirect, options=ks302) == []
    root = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web-root"},
        "spec": {"ports": [{"port": 80}]},
    }
    argo_alb = ingress({"service": {"name": "web-root", "port": {"name": "use-annotation"}}})
    assert findings(argo_alb, root, options=ks302) == []  # Argo writes the action at run time
    [(rule, message)] = findings(ingress(action), options=ks302)
    assert rule == "KS302" and "alb.ingress.kubernetes.io/actions.ssl-redirect" in message
