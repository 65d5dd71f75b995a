"""The smallest ASGI app: what the benchmark wraps to measure the runtime's own cost."""

from __future__ import annotations

from typing import Any

BODY = b'{"message":"pong"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"18")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


def _runtime_headers() -> list[tuple[bytes, bytes]]:
    """HEADERS with those the runtime adds to this answer over plain HTTP: its security headers
    (the API case) and a request id as long as the ones it makes."""
    from kubeship.names import REQUEST_ID_HEADER
    from kubeship.runtime.headers import SecurityHeaders

    headers = [*HEADERS]
    SecurityHeaders().plan().add(headers, https=False)
    return [*headers, (REQUEST_ID_HEADER.encode(), b"0f8494739159-123456")]


RUNTIME_HEADERS = _runtime_headers()


async def headers_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The same /ping answered with the runtime's response headers, no middleware: what writing
    them costs the server (Granian converts each header from Python on every response)."""
    if scope["type"] == "lifespan":
        return await app(scope, receive, send)
    await send({"type": "http.response.start", "status": 200, "headers": RUNTIME_HEADERS})
    await send({"type": "http.response.body", "body": BODY})


RSGI_HEADERS = [("content-type", "application/json"), ("content-length", "18")]


async def rsgi_app(scope: Any, protocol: Any) -> None:
    """The same /ping on Granian's own interface (RSGI): what Granian costs without ASGI's messages."""
    protocol.response_bytes(200, RSGI_HEADERS, BODY)
