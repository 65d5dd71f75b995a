"""Security headers: added where the app set none, chosen by content type and scheme."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest

from kubeship.runtime.headers import API_CSP, HSTS, HTML_CSP, SecurityHeaders
from kubeship.runtime.settings import RuntimeSettings
from tests.conftest import Service

PLAN = SecurityHeaders().plan()


def added(headers: list[tuple[bytes, bytes]], https: bool = False) -> dict[str, str]:
    out = list(headers)
    PLAN.add(out, https)
    return {k.decode(): v.decode() for k, v in out}


def test_json_gets_the_api_policy_and_no_hsts_over_http() -> None:
    h = added([(b"content-type", b"application/json")])
    assert h["content-security-policy"] == API_CSP
    assert "permissions-policy" not in h and "strict-transport-security" not in h


def test_html_gets_the_page_policy_and_permissions() -> None:
    h = added([(b"content-type", b"text/html; charset=utf-8")])
    assert h["content-security-policy"] == HTML_CSP
    assert h["permissions-policy"].startswith("camera=()")


def test_https_adds_hsts() -> None:
    assert added([(b"content-type", b"application/json")], https=True)["strict-transport-security"] == HSTS


def test_what_the_app_sets_wins_and_is_not_repeated() -> None:
    mine = [(b"content-type", b"text/html"), (b"Cache-Control", b"public, max-age=60")]
    mine.append((b"content-security-policy", b"default-src https://cdn.example.com"))
    out = list(mine)
    PLAN.add(out, https=False)
    names = [k.lower() for k, _ in out]
    assert names.count(b"cache-control") == 1 and names.count(b"content-security-policy") == 1
    assert out[: len(mine)] == mine


@pytest.mark.parametrize(
    "mine",
    [
        [(b"content-type", b"text/html"), (b"x-frame-options", b"SAMEORIGIN")],  # lowercase, as ASGI asks
        [(b"Content-Type", b"text/html; charset=utf-8"), (b"X-Frame-Options", b"SAMEORIGIN")],
        [(b"x-frame-options", b"SAMEORIGIN"), (b"CONTENT-TYPE", b"text/html")],
    ],
)
def test_the_app_s_own_header_and_page_type_are_seen_in_any_case(mine: list[tuple[bytes, bytes]]) -> None:
    out = list(mine)
    PLAN.add(out, https=False)
    frames = [v for k, v in out if k.lower() == b"x-frame-options"]
    assert frames == [b"SAMEORIGIN"] and out[: len(mine)] == mine
    assert dict((k.lower(), v) for k, v in out)[b"content-security-policy"] == HTML_CSP.encode()


def test_settings_from_the_environment() -> None:
    assert RuntimeSettings.from_env({"KUBESHIP_SECURITY_HEADERS": "false"}).security_headers is None
    env = {"KUBESHIP_CSP": "default-src 'self' https://cdn.x", "KUBESHIP_HSTS": ""}
    headers = RuntimeSettings.from_env(env).security_headers
    assert headers is not None
    plan = headers.plan()
    assert dict(plan.html)[b"content-security-policy"] == b"default-src 'self' https://cdn.x"
    assert plan.tls == ()  # "" leaves HSTS to the ingress


@pytest.mark.parametrize(("env", "csp"), [({}, HTML_CSP), ({"KUBESHIP_SECURITY_HEADERS": "false"}, None)])
def test_fastapi_docs_page_on_a_real_server(tmp_path: Path, env: dict[str, str], csp: str | None) -> None:
    svc = Service("fastapi_app:app", tmp_path, env=env).wait_ready()
    try:
        r = httpx.get(svc.url + "/docs")
        assert r.headers["content-type"].startswith("text/html")
        assert r.headers.get("content-security-policy") == csp
        assert (r.headers.get("x-frame-options") == "DENY") == (csp is not None)
    finally:
        svc.stop(signal.SIGINT)
