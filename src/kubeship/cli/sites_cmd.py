"""`kubeship sites`: several data centres serving one app: render, route, fail over, simulate."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

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
    for old in sorted(out.glob("**/*.yaml")) if out.is_dir() else []:
        if old.relative_to(out).as_posix() not in files:  # an object the spec no longer renders
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
