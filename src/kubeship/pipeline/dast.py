"""DAST rules and verdicts: which findings fail the pipeline, which warn, and why.

ZAP reads its rules file (`zap-baseline.py -c`): one line per scan rule,
`id<TAB>FAIL|WARN|IGNORE<TAB>(name)<TAB>reason`, the reason printed beside a
failure. Rules kubeship's runtime satisfies by default fail, so a regression
(an app that drops a header, a route that leaks a traceback) stops the
release; injection findings fail whatever the runtime does; advisory rules
warn. Alerts not listed warn (ZAP's default).

Wapiti has no rules file: `verdict` reads its JSON report and fails on the
levels at or above `pipeline.dast.failAt`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kubeship.pipeline.stages import pipeline_of
from kubeship.spec.models import AppSpec

Action = Literal["FAIL", "WARN", "IGNORE"]


@dataclass(frozen=True)
class ZapRule:
    id: str
    name: str
    action: Action
    reason: str


_RUNTIME = "kubeship's runtime sends it by default (security.headers); the app or a proxy removed it"
ZAP_RULES: tuple[ZapRule, ...] = (
    # Passive rules the runtime's defaults satisfy (kubeship.runtime.headers).
    ZapRule("10015", "Re-examine Cache-control Directives", "FAIL", f"cache-control no-store: {_RUNTIME}"),
    ZapRule("10020", "Missing Anti-clickjacking Header", "FAIL", f"x-frame-options DENY: {_RUNTIME}"),
    ZapRule("10021", "X-Content-Type-Options Header Missing", "FAIL", f"nosniff: {_RUNTIME}"),
    ZapRule("10035", "Strict-Transport-Security Header Not Set", "FAIL", f"HSTS under TLS: {_RUNTIME}"),
    ZapRule("10036", "Server Leaks Version Information via Server", "FAIL", "no server version is sent"),
    ZapRule("10037", "Server Leaks Information via X-Powered-By", "FAIL", "no X-Powered-By is sent"),
    ZapRule("10038", "Content Security Policy (CSP) Header Not Set", "FAIL", f"a CSP: {_RUNTIME}"),
    ZapRule("10063", "Permissions Policy Header Not Set", "FAIL", f"on HTML pages: {_RUNTIME}"),
    ZapRule(
        "10023",
        "Information Disclosure - Debug Error Messages",
        "FAIL",
        "the runtime answers errors with JSON and a request id, never internals",
    ),
    ZapRule(
        "90022",
        "Application Error Disclosure",
        "FAIL",
        "a traceback belongs in the log (it is there, with the request id), never in a response",
    ),
    ZapRule(
        "10098",
        "Cross-Domain Misconfiguration",
        "FAIL",
        "CORS allows the origins listed in KUBESHIP_CORS_ORIGINS only, never *",
    ),
    ZapRule(
        "10010", "Cookie No HttpOnly Flag", "FAIL", "a cookie the app sets must be out of scripts' reach"
    ),
    ZapRule("10011", "Cookie Without Secure Flag", "FAIL", "a cookie must never travel over plain HTTP"),
    ZapRule(
        "10054", "Cookie without SameSite Attribute", "FAIL", "SameSite is the first defence against CSRF"
    ),
    # Active rules (the API scan runs them; the baseline does not attack): always a release blocker.
    ZapRule("40012", "Cross Site Scripting (Reflected)", "FAIL", "injection: fix before release"),
    ZapRule("40014", "Cross Site Scripting (Persistent)", "FAIL", "injection: fix before release"),
    ZapRule("40018", "SQL Injection", "FAIL", "injection: fix before release"),
    ZapRule("40003", "CRLF Injection", "FAIL", "injection: fix before release"),
    ZapRule("90020", "Remote OS Command Injection", "FAIL", "injection: fix before release"),
    ZapRule("6", "Path Traversal", "FAIL", "file access outside the app: fix before release"),
    ZapRule("7", "Remote File Inclusion", "FAIL", "file access outside the app: fix before release"),
    ZapRule("10045", "Source Code Disclosure - /WEB-INF Folder", "FAIL", "source must never be served"),
    # Advisory: shown, not blocking.
    ZapRule("10055", "CSP", "WARN", "a CSP the app sets itself may allow more than kubeship's default"),
    ZapRule("90004", "Insufficient Site Isolation Against Spectre", "WARN", "COOP/COEP matter for pages"),
    ZapRule("10202", "Absence of Anti-CSRF Tokens", "WARN", "needed for cookie-authenticated HTML forms"),
    ZapRule("10027", "Information Disclosure - Suspicious Comments", "WARN", "read the comment it found"),
    ZapRule("100001", "Unexpected Content-Type was returned", "WARN", "an operation answered off-spec"),
    # Noise for an API.
    ZapRule("10096", "Timestamp Disclosure", "IGNORE", "ids and epoch fields in JSON look like timestamps"),
    ZapRule("10049", "Storable and Cacheable Content", "IGNORE", "informational; no-store is set"),
    ZapRule("100000", "A Client Error response code was returned", "IGNORE", "the API scan probes with 4xx"),
    ZapRule("10104", "User Agent Fuzzer", "IGNORE", "informational"),
)


def zap_rules(spec: AppSpec) -> list[ZapRule]:
    """kubeship's table with the spec's `pipeline.dast.rules` over it (an override keeps the name)."""
    overrides = pipeline_of(spec).dast.rules
    known = {r.id: r for r in ZAP_RULES}
    out = [
        ZapRule(r.id, r.name, overrides[r.id], f"set in pipeline.dast.rules ({r.action} by default)")
        if r.id in overrides and overrides[r.id] != r.action
        else r
        for r in ZAP_RULES
    ]
    out += [
        ZapRule(i, f"rule {i}", action, "set in pipeline.dast.rules")
        for i, action in sorted(overrides.items())
        if i not in known
    ]
    return out


def zap_rules_text(spec: AppSpec) -> str:
    lines = [
        "# ZAP scan rules for zap-baseline.py / zap-api-scan.py -c (written by kubeship pipeline dast-rules)",
        "# id<TAB>action<TAB>(name)<TAB>why. FAIL stops the release; WARN is reported; unlisted rules warn.",
    ]
    lines += [f"{r.id}\t{r.action}\t({r.name})\t{r.reason}" for r in zap_rules(spec)]
    return "\n".join(lines) + "\n"


LEVELS = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}


@dataclass(frozen=True)
class Finding:
    level: int
    category: str
    method: str
    path: str
    parameter: str
    info: str

    def line(self) -> str:
        where = f"{self.method} {self.path}" + (f" ({self.parameter})" if self.parameter else "")
        return f"{LEVEL_NAMES.get(self.level, str(self.level))}: {self.category}: {where}: {self.info}"


class ReportError(ValueError):
    """The report is not a Wapiti JSON report."""


def wapiti_findings(report: Mapping[str, Any]) -> list[Finding]:
    """Every vulnerability and anomaly in a Wapiti JSON report (`wapiti -f json`), worst first."""
    if not isinstance(report, Mapping) or not isinstance(report.get("vulnerabilities"), Mapping):
        raise ReportError("no 'vulnerabilities' mapping: not a Wapiti JSON report (wapiti -f json -o FILE)")
    out = []
    for section in ("vulnerabilities", "anomalies"):
        for category, items in (report.get(section) or {}).items():
            for item in items if isinstance(items, list) else []:
                if not isinstance(item, Mapping):
                    continue
                try:
                    level = int(item.get("level", 0))
                except (TypeError, ValueError):
                    level = 0
                out.append(
                    Finding(
                        level=level,
                        category=str(category),
                        method=str(item.get("method", "")),
                        path=str(item.get("path", "")),
                        parameter=str(item.get("parameter") or ""),
                        info=" ".join(str(item.get("info", "")).split())[:300],
                    )
                )
    return sorted(out, key=lambda f: (-f.level, f.category, f.path, f.parameter))


def verdict(findings: list[Finding], fail_at: str) -> tuple[list[Finding], list[Finding]]:
    """(failing, reported): findings at or above `fail_at`, and the rest."""
    threshold = LEVELS[fail_at]
    return [f for f in findings if f.level >= threshold], [f for f in findings if f.level < threshold]
