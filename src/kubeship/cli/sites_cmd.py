"""`kubeship sites`: several data centres serving one app: render, route, fail over, simulate."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kubeship.cli.params import trace_options
from kubeship.errors import UsageError

if TYPE_CHECKING:
    from kubeship.spec.models import AppSpec, Sites

spec_option = click.option(
    "-f", "--file", "spec_path", type=click.Path(path_type=Path), default="kubeship.yaml", show_default=True
)
env_option = click.option("--env", "env", help="Apply environments.<ENV> from the spec.")
socket_option = click.option(
    "--socket",
    "address",
    default="/run/haproxy/admin.sock",
    show_default=True,
    help="HAProxy's runtime API: the configuration's `stats socket` (a path, or host:port).",
)


def _spec(spec_path: Path, env: str | None) -> tuple[AppSpec, Sites]:
    from kubeship.spec import load_spec

    spec = load_spec(spec_path, env)
    if spec.sites is None:
        raise UsageError(f"{spec_path}: no `sites:` section: name the sites first (README: Sites)")
    return spec, spec.sites


@click.group()
def sites() -> None:
    """Several sites (data centres, clusters) serving one app, from `sites:` in kubeship.yaml."""


@sites.command("render")
@spec_option
@env_option
@click.option(
    "-o", "--output-dir", "out", type=click.Path(path_type=Path), default="build/sites", show_default=True
)
def render_sites(spec_path: Path, env: str | None, out: Path) -> None:
    """Write each site's Kustomize overlay, the Karmada policies and the DNS records.

    Secrets are referenced, never written (provision them in each cluster). A site that cannot take
    what failover sends it is a warning here and an error in `kubeship check`."""
    from kubeship.render import render, secrets_by_reference
    from kubeship.sites.overlays import tree
    from kubeship.sites.sizing import shortfalls, sizes

    spec, _ = _spec(spec_path, env)
    files = tree(spec, render(secrets_by_reference(spec)))
    # An object the spec no longer renders goes, but only from the directories this command writes:
    # anything else under the output directory is the user's.
    owned = {rel.split("/", 1)[0] for rel in files}
    for old in sorted(p for top in owned for p in (out / top).glob("**/*.yaml")):
        if old.relative_to(out).as_posix() not in files:
            old.unlink()
    for rel, text in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for size in sizes(spec):
        bounds = (
            f"HPA {size.min_replicas}-{size.max_replicas}"
            if size.max_replicas
            else f"{size.replicas} replicas"
        )
        click.echo(
            f"{size.site}: {size.share:.0%} of requests, {bounds}; "
            f"{size.failover_share:.0%} and {size.needed} pods at peak when {size.worst_failure} fails",
            err=True,
        )
    for line in shortfalls(spec):
        click.echo(f"warning: {line}", err=True)
    click.echo(f"wrote {len(files)} files to {out}/ (kubectl apply -k {out}/sites/<site>)", err=True)


@sites.command()
@spec_option
@env_option
@click.option("--bind", default=":80", show_default=True, help="Where the proxy listens.")
@click.option("--socket", "address", default="/run/haproxy/admin.sock", show_default=True)
@click.option("--stats-bind", default="127.0.0.1:8404", show_default=True, help="Stats page and /metrics.")
@click.option("--state-file", default="/var/lib/haproxy/server-state", show_default=True)
def haproxy(
    spec_path: Path, env: str | None, bind: str, address: str, stats_bind: str, state_file: str
) -> None:
    """Print the global proxy's haproxy.cfg: routing by traffic class, health checks, weights."""
    from kubeship.sites.haproxy import config
    from kubeship.sites.sizing import shortfalls

    spec, _ = _spec(spec_path, env)
    sys.stdout.write(config(spec, bind=bind, socket=address, stats_bind=stats_bind, state_file=state_file))
    for line in shortfalls(spec):
        click.echo(f"warning: {line}", err=True)


@sites.command()
@spec_option
@env_option
@socket_option
@click.option("--writes", "writes_to", metavar="SITE", help="Move the manual-failover classes (writes) here.")
@click.option("--drain", metavar="SITE", help="Send no new request to SITE (health checks go on).")
@click.option("--restore", metavar="SITE", help="Undo --drain: SITE takes its weights again.")
@click.option(
    "--state-file", type=click.Path(path_type=Path), help="Save the servers' state here (reloads keep it)."
)
def failover(
    spec_path: Path, env: str | None, address: str, writes_to: str | None, drain: str | None,
    restore: str | None, state_file: Path | None,
) -> None:  # fmt: skip
    """Move traffic between sites through HAProxy's runtime API: no reload, no connection dropped."""
    from kubeship import haproxy_api
    from kubeship.sites.haproxy import state_commands, weight_commands
    from kubeship.sites.traffic import moved_writes

    spec, site_spec = _spec(spec_path, env)
    names = [m.name for m in site_spec.members]
    chosen = [
        (flag, site)
        for flag, site in (("--writes", writes_to), ("--drain", drain), ("--restore", restore))
        if site
    ]
    if len(chosen) != 1:
        raise UsageError("give one of --writes SITE, --drain SITE, --restore SITE")
    flag, site = chosen[0]
    if site not in names:
        raise UsageError(f"{flag} {site}: not a site of {spec_path} ({', '.join(names)})")
    if writes_to:
        moved = moved_writes(site_spec, writes_to)
        if not moved:
            raise UsageError(f"{spec_path}: no traffic class has failover: manual; nothing to move")
        haproxy_api.run(address, _up_first(weight_commands(spec, moved)))
        click.echo(f"{', '.join(moved)} → {writes_to}")
    else:
        haproxy_api.run(address, state_commands(spec, site, "drain" if drain else "ready"))
        click.echo(f"{site}: {'drained' if drain else 'restored'}")
    if state_file is not None:
        state_file.write_text(haproxy_api.send(address, "show servers state"), encoding="utf-8")


def _up_first(commands: list[str]) -> list[str]:
    """Raise the new site's weights before lowering the old one's: no instant with no server."""
    return sorted(commands, key=lambda c: c.endswith(" weight 0"))


@sites.command()
@spec_option
@env_option
@socket_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def status(spec_path: Path, env: str | None, address: str, fmt: str) -> None:
    """Per traffic class, what each site takes now: addresses up, weights, drained or not."""
    import json

    from kubeship import haproxy_api
    from kubeship.sites.haproxy import backend
    from kubeship.sites.traffic import servers

    spec, site_spec = _spec(spec_path, env)
    by_key = {(s.backend, s.server): s for s in haproxy_api.states(address)}
    rows: list[dict[str, object]] = []
    for c in site_spec.traffic:
        found = [by_key.get((backend(spec, c), s.name)) for s in servers(site_spec)]
        weights = {m.name: 0 for m in site_spec.members}
        for server, state in zip(servers(site_spec), found, strict=True):
            if state is not None and state.up and state.admin == "ready":
                weights[server.site] += state.weight
        total = sum(weights.values())
        for m in site_spec.members:
            mine = [st for sv, st in zip(servers(site_spec), found, strict=True) if sv.site == m.name]
            rows.append({
                "class": c.name, "site": m.name, "addresses": len(mine),
                "up": sum(1 for st in mine if st is not None and st.up),
                "drained": any(st is not None and st.admin != "ready" for st in mine),
                "share": round(100 * weights[m.name] / total, 1) if total else 0.0,
            })  # fmt: skip
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        health = "drained" if r["drained"] else f"{r['up']}/{r['addresses']} up"
        click.echo(f"{r['class']!s:<10} {r['site']!s:<12} {r['share']:>5.1f} % of the class   {health}")


@sites.command()
@spec_option
@env_option
@trace_options("requests/s", default="step")
@click.option("--fail", "failed", metavar="SITE", help="The site that fails [the primary].")
@click.option("--at", type=int, help="Second of the trace it fails at [half way: at the step's peak].")
@click.option(
    "--writes-after", type=int, default=300, show_default=True,
    help="Seconds until an operator runs `kubeship sites failover --writes`; -1: never.",
)  # fmt: skip
@click.option("--writes-to", metavar="SITE", help="Where the writes go [the first other site].")
@click.option("--rps-per-core", type=float, help="Requests/s one core serves (or --measured).")
@click.option(
    "--measured", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The JSON of `kubeship autoscale measure -o`: its fitted req/s per core.",
)  # fmt: skip
@click.option(
    "--startup", type=float, default=20.0, show_default=True, help="Seconds from pod creation to ready."
)
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path), help="Write series.csv and summary.json here."
)
@click.option(
    "--plot", "plot_path", type=click.Path(path_type=Path), help="A PNG of each site's load and pods."
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def simulate(
    spec_path: Path, env: str | None, trace: str, seconds: int, base: float, peak: float, failed: str | None,
    at: int | None, writes_after: int, writes_to: str | None, rps_per_core: float | None,
    measured: Path | None, startup: float, out_dir: Path | None, plot_path: Path | None, fmt: str,
) -> None:  # fmt: skip
    """Replay a site failure: each site's load, pods, P99 and the errors, against the SLO.

    Before an outage: does the standby's HPA add pods in time, and how much error budget does a
    manual write failover cost?"""
    import dataclasses
    import json

    from kubeship.autoscale.simulate import Workload, autoscaler_from_hpa
    from kubeship.cli.autoscale_cmd import _trace, fitted_rps_per_core, measured_latency
    from kubeship.render.scaling import hpa
    from kubeship.sites.simulate import Failure, after_failure, budget_used, recovery_seconds, run
    from kubeship.spec.quantity import parse_quantity

    spec, site_spec = _spec(spec_path, env)
    names = [m.name for m in site_spec.members]
    failed = failed or names[0]
    writes_to = writes_to or next(n for n in names if n != failed)
    for flag, site in (("--fail", failed), ("--writes-to", writes_to)):
        if site not in names:
            raise UsageError(f"{flag} {site}: not a site of {spec_path} ({', '.join(names)})")
    if writes_to == failed:
        raise UsageError("--writes-to names the site that fails")
    rendered = hpa(spec)
    if rendered is None:
        raise UsageError(f"{spec_path}: the simulation needs autoscaling (engine hpa) with a cpu target")
    try:
        scaler = autoscaler_from_hpa(rendered)
    except ValueError as exc:
        raise UsageError(f"{spec_path}: {exc}") from None
    rps = fitted_rps_per_core(rps_per_core, measured)
    request = spec.container.resources.requests.get("cpu")
    limit = spec.container.resources.limits.get("cpu")
    cores = float(parse_quantity(request)) if request else 0.5
    workload = Workload(rps, cores, float(parse_quantity(limit)) if limit else None, startup)
    # the pod model on measured service times (M/M/c without them), as `autoscale simulate` does
    latency = measured_latency(measured, spec.container.workers, workload.cores_per_pod)
    workload = dataclasses.replace(workload, latency=latency)
    load = _trace(trace, seconds, base, peak)
    at = at if at is not None else len(load) // 2
    if not 0 <= at < len(load):
        raise UsageError(f"--at {at}: outside the trace (0-{len(load) - 1} s)")
    failure = Failure(failed, at, None if writes_after < 0 else writes_after, writes_to)
    slo = spec.slo.latency.threshold_seconds if spec.slo and spec.slo.latency else 0.3
    outcome = run(spec, load, failure, workload, scaler)
    recovered = recovery_seconds(outcome, failure, slo)
    used = budget_used(spec, outcome, failure)
    summary = {
        "failure": {"site": failed, "at": at, "writes_after": failure.writes_after, "writes_to": writes_to},
        "errors_after_failure": round(outcome.errors(at)),
        "lost_requests": round(float(outcome.lost.sum())),
        "requests": round(float(outcome.total.sum())),
        "recovered_after_seconds": recovered,
        "error_budget_used": used,
        "sites": {
            site: after_failure(r, failure, slo) for site, r in outcome.sites.items() if site != failed
        },
    }
    if fmt == "json":
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(_words(summary, slo, spec.slo.window if spec.slo else "30d"))
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        columns = {"total_rps": outcome.total, "lost_rps": outcome.lost}
        for site, r in outcome.sites.items():
            columns |= {f"{site}_rps": r.load, f"{site}_replicas": r.replicas, f"{site}_p99_s": r.p99_latency,
                        f"{site}_over_capacity_rps": r.over_capacity}  # fmt: skip
        rows = ["second," + ",".join(columns)]
        rows += [f"{t}," + ",".join(f"{c[t]:g}" for c in columns.values()) for t in range(len(load))]
        (out_dir / "series.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        click.echo(f"wrote {out_dir}/series.csv and summary.json", err=True)
    if plot_path is not None:
        from kubeship.sites.plot import plot_png

        plot_path.parent.mkdir(parents=True, exist_ok=True)
        plot_path.write_bytes(plot_png(outcome, failure, slo))
        click.echo(f"wrote {plot_path}", err=True)


def _words(summary: dict[str, object], slo: float, window: str) -> str:
    f = summary["failure"]
    assert isinstance(f, dict)
    lines = [
        f"{f['site']} fails at {f['at']:,} s; writes move to {f['writes_to']} "
        + (f"{f['writes_after']:,} s later (by hand)" if f["writes_after"] is not None else "never"),
    ]
    sites = summary["sites"]
    assert isinstance(sites, dict)
    for site, s in sites.items():
        lines.append(
            f"  {site}: up to {s['peak_rps']:,.0f} req/s on {s['max_replicas']:.0f} pods, "
            f"P99 up to {s['p99_latency_max'] * 1000:,.0f} ms ({s['slo_seconds_violated']:,.0f} s over the "
            f"{slo * 1000:.0f} ms SLO), {s['requests_over_capacity']:,.0f} requests beyond its pods"
        )
    recovered = summary["recovered_after_seconds"]
    lines.append(
        f"  lost while writes waited: {summary['lost_requests']:,} requests; "
        f"failed from the failure on: {summary['errors_after_failure']:,} (of {summary['requests']:,})"
    )
    lines.append(
        "  never back within the SLO in this trace"
        if recovered is None
        else f"  back within capacity and the P99 SLO {recovered:,.0f} s after the failure"
    )
    used = summary["error_budget_used"]
    if isinstance(used, float):
        lines.append(
            f"  the failure costs {used:.1%} of the {window} error budget (the SLO's availability target)"
        )
    return "\n".join(lines)
