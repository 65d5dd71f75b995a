"""CORS and bearer/JWT auth in front of a real server; probes stay open."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import Service

ORIGIN = "https://app.example.com"


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, signing_key: rsa.RSAPrivateKey) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("auth")
    key_file = tmp / "jwt.pub"
    key_file.write_bytes(
        signing_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    env = {
        "KUBESHIP_AUTH_KEY_FILE": str(key_file),
        "KUBESHIP_AUTH_AUDIENCE": "ping-api",
        "KUBESHIP_AUTH_PUBLIC": "/ping",
        "KUBESHIP_AUTH_SCOPES": "/admin=admin",
        "KUBESHIP_CORS_ORIGINS": ORIGIN,
    }
    svc = Service("fastapi_app:app", tmp, env=env).wait_ready()
    yield svc
    svc.stop(signal.SIGINT)


def token(key: rsa.RSAPrivateKey, **claims: object) -> str:
    body = {"sub": "alice", "aud": "ping-api", "exp": int(time.time()) + 300, **claims}
    return jwt.encode(body, key, algorithm="RS256")


def test_preflight_from_an_allowed_origin(service: Service) -> None:
    r = httpx.options(
        service.url + "/users/1",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "Authorization",
        },
    )
    assert r.status_code == 204  # answered before auth: browsers send no token on preflight
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert "GET" in r.headers["access-control-allow-methods"]
    assert "authorization" in r.headers["access-control-allow-headers"].lower()
    assert r.headers["vary"] == "Origin"


def test_preflight_from_another_origin_is_refused(service: Service) -> None:
    r = httpx.options(
        service.url + "/ping",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert r.status_code == 400
    assert "access-control-allow-origin" not in r.headers


def test_simple_request_gets_cors_headers_only_for_allowed_origins(service: Service) -> None:
    ok = httpx.get(service.url + "/ping", headers={"Origin": ORIGIN})
    assert ok.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in ok.headers["access-control-expose-headers"]
    other = httpx.get(service.url + "/ping", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_missing_token_is_401_with_a_challenge(service: Service) -> None:
    r = httpx.get(service.url + "/users/1")
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["request_id"] == r.headers["x-request-id"]


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Bearer not-a-jwt", id="garbage"),
        pytest.param("Basic YWxpY2U6cHc=", id="wrong-scheme"),
    ],
)
def test_bad_credentials_are_401(service: Service, header: str) -> None:
    assert httpx.get(service.url + "/users/1", headers={"Authorization": header}).status_code == 401


def test_token_signed_by_another_key_is_401(service: Service) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    r = httpx.get(service.url + "/users/1", headers={"Authorization": f"Bearer {token(other)}"})
    assert r.status_code == 401


def test_expired_and_wrong_audience_tokens_are_401(service: Service, signing_key: rsa.RSAPrivateKey) -> None:
    expired = token(signing_key, exp=int(time.time()) - 3600)
    r = httpx.get(service.url + "/users/1", headers={"Authorization": f"Bearer {expired}"})
    assert (r.status_code, r.json()["error"]) == (401, "token expired")
    wrong_aud = token(signing_key, aud="someone-else")
    assert (
        httpx.get(service.url + "/users/1", headers={"Authorization": f"Bearer {wrong_aud}"}).status_code
        == 401
    )


def test_valid_token_is_200(service: Service, signing_key: rsa.RSAPrivateKey) -> None:
    r = httpx.get(service.url + "/users/1", headers={"Authorization": f"Bearer {token(signing_key)}"})
    assert r.status_code == 200 and r.json() == {"id": 1}


def test_scope_required_by_prefix_is_403_without_it(service: Service, signing_key: rsa.RSAPrivateKey) -> None:
    plain = token(signing_key, scope="read")
    assert (
        httpx.get(service.url + "/admin/stats", headers={"Authorization": f"Bearer {plain}"}).status_code
        == 403
    )
    admin = token(signing_key, scope="read admin")
    r = httpx.get(service.url + "/admin/stats", headers={"Authorization": f"Bearer {admin}"})
    assert r.status_code == 200


def test_probes_metrics_and_public_routes_need_no_token(service: Service) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/ping"):
        assert httpx.get(service.url + path).status_code == 200, path


def test_tokens_never_reach_the_log(service: Service, signing_key: rsa.RSAPrivateKey) -> None:
    secret_token = token(signing_key, jti="canary-jti-value")
    httpx.get(service.url + "/users/1", headers={"Authorization": f"Bearer {secret_token}"})
    httpx.get(service.url + "/users/1", headers={"Authorization": "Bearer canary-bad-token-xyz"})
    service.wait_log(lambda ln: ln.get("status") == 401)
    time.sleep(0.8)  # one flush tick
    out = service.output()
    assert secret_token not in out and "canary-bad-token-xyz" not in out
    assert "authorization" not in out.lower()


def test_private_key_in_the_key_file_is_refused(tmp_path: Path, signing_key: rsa.RSAPrivateKey) -> None:
    from kubeship.errors import ConfigError
    from kubeship.runtime.auth import AuthPolicy

    pem = signing_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(pem)
    with pytest.raises(ConfigError, match="private key") as info:
        AuthPolicy(key_file=key_file)
    assert "BEGIN" not in str(info.value)


def test_an_app_that_puts_its_own_auth_in_the_scope_is_served_logged_and_audited(tmp_path: Path) -> None:
    """Starlette's AuthenticationMiddleware puts its credentials object in scope["auth"], where the
    runtime keeps the token's claims: a subject is read only from claims (a dict), so the request is
    answered, logged and audited (anonymous) instead of failing after its response."""
    import asyncio
    import os

    import orjson
    from starlette.applications import Starlette
    from starlette.authentication import AuthCredentials, AuthenticationBackend, SimpleUser
    from starlette.middleware import Middleware
    from starlette.middleware.authentication import AuthenticationMiddleware
    from starlette.requests import HTTPConnection, Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from kubeship.runtime.log import LogWriter
    from kubeship.runtime.middleware import Runtime
    from kubeship.runtime.settings import RuntimeSettings
    from tests.runtime.test_garbage import request, scope

    class Backend(AuthenticationBackend):
        async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, SimpleUser]:
            return AuthCredentials(["read"]), SimpleUser("ada")

    async def hello(req: Request) -> PlainTextResponse:
        return PlainTextResponse("hi " + req.user.display_name)

    app = Starlette(
        routes=[Route("/hello", hello), Route("/databases/{name}", hello, methods=["DELETE"])],
        middleware=[Middleware(AuthenticationMiddleware, backend=Backend())],
    )
    (tmp_path / "audit.key").write_text("k" * 40)
    settings = RuntimeSettings.from_env({
        "KUBESHIP_AUDIT_FILE": str(tmp_path / "audit.jsonl"),
        "KUBESHIP_AUDIT_KEY_FILE": str(tmp_path / "audit.key"),
        "KUBESHIP_AUDIT_OPERATIONS": "DELETE /databases/{name}",
    })  # fmt: skip
    log = os.open(tmp_path / "access.log", os.O_WRONLY | os.O_CREAT)
    runtime = Runtime(app, settings=settings, log=LogWriter(log))

    async def both() -> list[int]:
        return [
            await request(runtime, scope("GET", "/hello")),
            await request(runtime, scope("DELETE", "/databases/x")),
        ]

    assert asyncio.run(both()) == [200, 200]
    runtime._process_stop()
    os.close(log)
    lines = [orjson.loads(line) for line in (tmp_path / "access.log").read_bytes().splitlines()]
    assert [(line["path"], line["status"]) for line in lines] == [("/hello", 200), ("/databases/x", 200)]
    assert not any("user" in line for line in lines)  # no token's subject: nothing to say
    (record,) = [
        r
        for r in map(orjson.loads, (tmp_path / "audit.jsonl").read_bytes().splitlines())
        if r["kind"] == "request"
    ]
    assert record["actor"] == {"type": "anonymous"} and record["outcome"] == 200
