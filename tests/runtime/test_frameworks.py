"""Any ASGI app under `kubeship serve`: FastAPI, Starlette and Litestar on a real Granian server."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from litestar import Litestar
from litestar.exceptions import NotFoundException, ServiceUnavailableException
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.responses import PlainTextResponse

from kubeship.names import METRIC_REQUESTS, UNMATCHED_ROUTE
from kubeship.runtime.frameworks import ANSWERED_ERROR, report_answered_errors, shed_duplicate_recovery
from tests.conftest import Service

STARLETTE_RECOVERY = "starlette/middleware/errors.py"  # ServerErrorMiddleware's frame in a traceback

# (target, a templated path, its expected route label, a raising path)
FRAMEWORKS = {
    "fastapi": ("fastapi_app:app", "/users/7", "/users/{user_id}", "/boom"),
    "starlette": ("starlette_app:app", "/api/items/7", "/api/items/{item_id}", "/boom"),
    "litestar": ("litestar_app:app", "/orders/7", "/orders/{order_id}", "/boom"),
}


@pytest.fixture(scope="module", params=sorted(FRAMEWORKS))
def service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    target = FRAMEWORKS[request.param][0]
    svc = Service(target, tmp_path_factory.mktemp(request.param)).wait_ready()
    svc.framework = request.param  # type: ignore[attr-defined]
    yield svc
    svc.stop(signal.SIGINT)


def counts(url: str) -> dict[tuple[str, str, str], float]:
    text = httpx.get(url + "/metrics").text
    out = {}
    for family in text_string_to_metric_families(text):
        if family.name + "_total" == METRIC_REQUESTS or family.name == METRIC_REQUESTS:
            for sample in family.samples:
                if sample.name == METRIC_REQUESTS:
                    labels = sample.labels
                    out[(labels["method"], labels["route"], labels["status"])] = sample.value
    return out


def test_ping_answers_like_gin(service: Service) -> None:
    r = httpx.get(service.url + "/ping")
    assert r.status_code == 200
    assert r.json() == {"message": "pong"}
    assert r.headers["x-request-id"]


def test_incoming_request_id_is_echoed_and_logged(service: Service) -> None:
    r = httpx.get(service.url + "/ping", headers={"X-Request-ID": "trace-abc.123"})
    assert r.headers["x-request-id"] == "trace-abc.123"
    line = service.wait_log(lambda ln: ln.get("request_id") == "trace-abc.123")
    assert line["method"] == "GET" and line["route"] == "/ping" and line["status"] == 200
    assert line["bytes"] == len(r.content) and line["client"] == "127.0.0.1"
    assert line["duration_ms"] >= 0 and line["time"].endswith("Z")


def test_forged_request_id_is_replaced(service: Service) -> None:
    forged = "x" * 200
    r = httpx.get(service.url + "/ping", headers={"X-Request-ID": forged})
    assert r.headers["x-request-id"] != forged
    assert len(r.headers["x-request-id"]) < 40


@pytest.mark.parametrize(
    ("method", "path", "status"), [("GET", "/no/such/path", 404), ("POST", "/ping", 405)]
)
def test_404_and_405_are_json_with_the_request_id(
    service: Service, method: str, path: str, status: int
) -> None:
    r = httpx.request(method, service.url + path)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert isinstance(body, dict)
    if status == 405:
        assert "GET" in r.headers.get("allow", "GET")


def test_raising_handler_gives_json_500_and_the_worker_keeps_serving(service: Service) -> None:
    boom = FRAMEWORKS[service.framework][3]  # type: ignore[attr-defined]
    r = httpx.get(service.url + boom, headers={"X-Request-ID": f"boom-{service.framework}"})  # type: ignore[attr-defined]
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["x-request-id"] == f"boom-{service.framework}"  # type: ignore[attr-defined]
    if service.framework != "litestar":  # type: ignore[attr-defined]
        # the runtime's answer, as it would be had Starlette's plain-text 500 been turned into JSON
        assert r.json() == {
            "error": "internal server error",
            "status": 500,
            "request_id": r.headers["x-request-id"],
        }
    assert httpx.get(service.url + "/ping").status_code == 200
    access = service.wait_log(
        lambda ln: ln.get("msg") == "request" and ln["request_id"] == r.headers["x-request-id"]
    )
    assert access["status"] == 500  # recovery sits inside the access log: counted as a plain 500
    # Litestar answers its own exceptions and logs them only in debug: the runtime logs them still
    event = service.wait_log(
        lambda ln: ln.get("level") == "error" and ln.get("request_id") == r.headers["x-request-id"]
    )
    assert event["traceback"].startswith("Traceback (most recent call last):")
    assert any(
        text in event["traceback"]
        for text in ("failed on purpose", "starlette handler failed", "litestar handler failed")
    )
    assert access["error"].split(":")[0] in event["traceback"].splitlines()[-1]  # the exception's type
    assert STARLETTE_RECOVERY not in event["traceback"]  # its duplicate of the runtime's recovery was shed


def test_metrics_use_route_templates_never_raw_paths(service: Service) -> None:
    _, path, template, _ = FRAMEWORKS[service.framework]  # type: ignore[attr-defined]
    before = counts(service.url).get(("GET", template, "200"), 0)
    for i in range(5):
        assert httpx.get(service.url + path.replace("7", str(100 + i))).status_code == 200
    httpx.get(service.url + "/definitely/not/here")
    after = counts(service.url)
    assert after[("GET", template, "200")] - before == 5
    routes = {route for _, route, _ in after}
    assert not any(r.startswith(path.rsplit("/", 1)[0] + "/1") for r in routes), routes
    assert UNMATCHED_ROUTE in routes
    assert "/definitely/not/here" not in routes


def test_probes_answer_without_reaching_the_app(service: Service) -> None:
    assert httpx.get(service.url + "/healthz").json() == {"status": "ok"}
    assert httpx.get(service.url + "/readyz").json() == {"status": "ready"}
    assert httpx.post(service.url + "/healthz").status_code == 405


# The headers OWASP ZAP's baseline looks for (kubeship.runtime.headers), on every framework's answers.
API_HEADERS = {
    "x-content-type-options": "nosniff",  # ZAP 10021
    "x-frame-options": "DENY",  # 10020
    "cache-control": "no-store",  # 10015
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",  # 10038
    "cross-origin-resource-policy": "same-origin",  # 90004
}


@pytest.mark.parametrize("path", ["/ping", "/no/such/path", "/boom"])
def test_api_answers_carry_the_security_headers(service: Service, path: str) -> None:
    r = httpx.get(service.url + path)
    assert {k: r.headers.get(k) for k in API_HEADERS} == API_HEADERS
    assert "strict-transport-security" not in r.headers  # meaningless over plain HTTP (RFC 6797 8.1)
    assert "x-powered-by" not in r.headers
    assert "granian/" not in r.headers.get("server", "")  # no version (ZAP 10036)
    assert "Traceback" not in r.text and "RuntimeError" not in r.text  # 10023, 90022


def test_an_apps_own_500_handler_still_answers(tmp_path: Path) -> None:
    svc = Service("starlette_app:handled", tmp_path).wait_ready()
    try:
        r = httpx.get(svc.url + "/boom", headers={"X-Request-ID": "own-500"})
        assert r.status_code == 500 and r.json() == {"handled_by": "the app"}
        assert r.headers["x-request-id"] == "own-500"
        event = svc.wait_log(lambda ln: ln.get("level") == "error" and ln.get("request_id") == "own-500")
        assert "starlette handler failed" in event["traceback"]
        assert STARLETTE_RECOVERY in event["traceback"]  # the app's layer ran its handler, then raised
    finally:
        svc.stop(signal.SIGINT)


def test_starlettes_recovery_is_shed_only_where_it_would_repeat_the_runtimes() -> None:
    plain, fast = Starlette(), FastAPI()
    assert shed_duplicate_recovery(plain) and shed_duplicate_recovery(fast)
    assert type(plain.middleware_stack) is ExceptionMiddleware  # the rest of the app's stack, as it built it
    assert not isinstance(fast.middleware_stack, ServerErrorMiddleware)
    assert not shed_duplicate_recovery(plain)  # once: nothing more is taken off
    assert type(plain.middleware_stack) is ExceptionMiddleware

    def handler(request: object, exc: Exception) -> PlainTextResponse:
        return PlainTextResponse("mine", status_code=500)

    for kept in (Starlette(debug=True), FastAPI(debug=True), Starlette(exception_handlers={500: handler})):
        assert not shed_duplicate_recovery(kept)
        assert type(kept.middleware_stack) is ServerErrorMiddleware
    assert not shed_duplicate_recovery(lambda scope, receive, send: None)  # any other ASGI app: as it is


class _Misconfigured:
    def __init__(self, app: object) -> None:
        raise RuntimeError("middleware misconfigured")


def test_a_stack_that_fails_to_build_is_left_to_the_apps_own_call() -> None:
    app = Starlette(middleware=[Middleware(_Misconfigured)])
    assert not shed_duplicate_recovery(app)
    assert app.middleware_stack is None  # so the app's first call raises it, where the recovery answers


def test_litestar_leaves_the_exceptions_it_answers_for_the_runtime_to_log() -> None:
    app = Litestar()
    assert report_answered_errors(app) and report_answered_errors(app)
    hooks = [hook for hook in app.after_exception if hook.__module__ == "kubeship.runtime.frameworks"]
    assert len(hooks) == 1  # once, however many runtimes wrap it
    for raised, kept in (
        (KeyError("a bug"), True),
        (NotFoundException(), False),  # raised to answer 404: the app's choice, not a failure
        (ServiceUnavailableException(), False),
    ):
        scope: dict[str, object] = {}
        asyncio.run(hooks[0](raised, scope))
        assert (scope.get(ANSWERED_ERROR) is raised) is kept, raised
    assert not report_answered_errors(Starlette())  # Starlette's exceptions reach the runtime as they are
