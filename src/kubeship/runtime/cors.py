"""CORS: which browser origins may call the service, and the preflight answer."""

from __future__ import annotations

from dataclasses import dataclass

SAFELISTED_HEADERS = frozenset({"accept", "accept-language", "content-language", "content-type"})


@dataclass(frozen=True)
class CorsPolicy:
    """Origins are exact (`https://app.example.com`) or `*` for any."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
    allow_headers: tuple[str, ...] = ("authorization", "content-type", "x-request-id")
    expose_headers: tuple[str, ...] = ("x-request-id",)
    allow_credentials: bool = False
    max_age: int = 600

    @property
    def enabled(self) -> bool:
        return bool(self.allow_origins)

    def allows_origin(self, origin: str) -> bool:
        return "*" in self.allow_origins or origin in self.allow_origins

    def response_headers(self, origin: str) -> list[tuple[bytes, bytes]]:
        """Headers for an actual (non-preflight) request from an allowed origin."""
        # With credentials a wildcard must be answered with the concrete origin.
        wildcard = "*" in self.allow_origins and not self.allow_credentials
        headers = [(b"access-control-allow-origin", b"*" if wildcard else origin.encode("latin-1"))]
        if not wildcard:
            headers.append((b"vary", b"Origin"))
        if self.allow_credentials:
            headers.append((b"access-control-allow-credentials", b"true"))
        if self.expose_headers:
            headers.append((b"access-control-expose-headers", ", ".join(self.expose_headers).encode()))
        return headers

    def preflight(
        self, origin: str, method: str, request_headers: str
    ) -> tuple[int, list[tuple[bytes, bytes]]]:
        """Status and preflight headers for an OPTIONS preflight; 400 names what was refused."""
        problems = []
        if not self.allows_origin(origin):
            problems.append("origin")
        if method.upper() not in self.allow_methods:
            problems.append("method")
        allowed = {h.lower() for h in self.allow_headers} | SAFELISTED_HEADERS
        asked = [h.strip().lower() for h in request_headers.split(",") if h.strip()]
        if "*" not in self.allow_headers and any(h not in allowed for h in asked):
            problems.append("headers")
        if problems:
            return 400, [(b"x-cors-refused", ",".join(problems).encode())]
        # The origin, vary and credentials headers are added by the runtime, as for any response.
        return 204, [
            (b"access-control-allow-methods", ", ".join(self.allow_methods).encode()),
            (b"access-control-allow-headers", ", ".join(asked or self.allow_headers).encode("latin-1")),
            (b"access-control-max-age", str(self.max_age).encode()),
        ]
