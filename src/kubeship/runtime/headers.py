"""Security response headers: what the OWASP ZAP baseline's passive rules ask of a web API.

Every response gets the OWASP REST Security Cheat Sheet's headers, each only
where the app did not set its own (an app that knows better wins):

- `x-content-type-options: nosniff` (ZAP 10021): a JSON body is never sniffed into HTML;
- `cache-control: no-store` (10015, 10049): an API answer, often per user, stays out of shared caches;
- `x-frame-options: DENY` (10020): no page of the app can be framed (clickjacking);
- `content-security-policy` (10038, 10055): `default-src 'none'; frame-ancestors 'none'` on API
  responses, same-origin only on HTML;
- `permissions-policy`, HTML only (10063): a page asks for no camera, microphone, location, payment;
- `strict-transport-security`, HTTPS only (10035): over plain HTTP it means nothing (RFC 6797 8.1);
- `cross-origin-resource-policy: same-origin` (90004): other sites cannot embed the responses
  (Spectre); CORS requests are unaffected.

No `server` version (Granian sends `granian`, uvicorn nothing under TLS: 10036),
no `x-powered-by` (10037), and errors are JSON without internals (10023, 90022:
the recovery layer). `X-XSS-Protection` is not sent: browsers removed the
auditor it controlled, and OWASP advises against `1`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kubeship.names import ENV_CACHE_CONTROL, ENV_CSP, ENV_HSTS

Header = tuple[bytes, bytes]

API_CSP = "default-src 'none'; frame-ancestors 'none'"
HTML_CSP = (
    "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"  # a year, what HSTS preload lists ask for
CACHE_CONTROL = "no-store"
PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=()"


@dataclass(frozen=True)
class SecurityHeaders:
    """The headers to add; an empty string leaves that header out."""

    html_csp: str = HTML_CSP
    api_csp: str = API_CSP
    hsts: str = HSTS
    cache_control: str = CACHE_CONTROL

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SecurityHeaders:
        return cls(
            html_csp=env.get(ENV_CSP, HTML_CSP),
            hsts=env.get(ENV_HSTS, HSTS),
            cache_control=env.get(ENV_CACHE_CONTROL, CACHE_CONTROL),
        )

    def plan(self) -> HeaderPlan:
        def pairs(*items: tuple[str, str]) -> tuple[Header, ...]:
            return tuple((k.encode(), v.encode("latin-1")) for k, v in items if v)

        return HeaderPlan(
            always=pairs(
                ("x-content-type-options", "nosniff"),
                ("x-frame-options", "DENY"),
                ("cross-origin-resource-policy", "same-origin"),
            ),
            cache=pairs(("cache-control", self.cache_control)),
            api=pairs(("content-security-policy", self.api_csp)),
            html=pairs(("content-security-policy", self.html_csp), ("permissions-policy", PERMISSIONS)),
            tls=pairs(("strict-transport-security", self.hsts)),
        )


@dataclass(frozen=True, slots=True)
class HeaderPlan:
    """The encoded headers, grouped by when they apply; built once per process."""

    always: tuple[Header, ...]
    cache: tuple[Header, ...]
    api: tuple[Header, ...]
    html: tuple[Header, ...]
    tls: tuple[Header, ...]
    # the four cases (see _case), each (the headers to add, their names), joined once: a tuple
    # indexed by a small int, where a dict keyed by (html, https) built and hashed a tuple a request
    _cases: tuple[tuple[tuple[Header, ...], frozenset[bytes]], ...] = field(
        init=False, repr=False, compare=False
    )
    _watched: frozenset[bytes] = field(init=False, repr=False, compare=False)  # content-type + all added

    def __post_init__(self) -> None:
        cases: list[tuple[tuple[Header, ...], frozenset[bytes]]] = []
        for html in (False, True):
            for https in (False, True):
                added = (
                    *self.always,
                    *self.cache,
                    *(self.html if html else self.api),
                    *(self.tls if https else ()),
                )
                assert len(cases) == _case(html, https)
                cases.append((added, frozenset(name for name, _ in added)))
        object.__setattr__(self, "_cases", tuple(cases))
        object.__setattr__(self, "_watched", frozenset({b"content-type"}).union(*(n for _, n in cases)))

    def add(self, headers: list[Header], https: bool) -> None:
        """Append to a response's headers (in place) those the app did not set."""
        # Per request: the usual response (lowercase names, as ASGI asks, none of ours) is told
        # apart without copying a name; anything else takes the careful path below.
        html = False
        watched = self._watched
        for name, value in headers:
            if name in watched:
                if name != b"content-type":
                    return self._add_missing(headers, https)
                html = value.startswith(b"text/html")
            elif not name.islower():
                return self._add_missing(headers, https)
        headers += self._cases[_case(html, https)][0]

    def _add_missing(self, headers: list[Header], https: bool) -> None:
        html = False
        present = []
        for name, value in headers:
            name = name.lower()  # ASGI asks apps for lowercase names; not every app does
            present.append(name)
            if name == b"content-type":
                html = value.startswith(b"text/html")
        added, names = self._cases[_case(html, https)]
        if names.isdisjoint(present):
            headers += added
        else:
            headers += [header for header in added if header[0] not in present]


def _case(html: bool, https: bool) -> int:
    return (2 if html else 0) + (1 if https else 0)
