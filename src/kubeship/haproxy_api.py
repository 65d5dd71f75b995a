"""HAProxy's runtime API (its stats socket, level admin): send commands, read servers' states.

The I/O edge of `kubeship sites`: the commands themselves are built in kubeship.sites.haproxy.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass

from kubeship.errors import UsageError

TIMEOUT = 5.0
MAX_ANSWER = 16 * 1024 * 1024  # `show servers state` of a few thousand servers is well under a MiB


@dataclass(frozen=True)
class ServerState:
    backend: str
    server: str
    up: bool  # the health checks pass (operational state)
    admin: str  # ready, drain or maint
    weight: int


def send(address: str, command: str) -> str:
    """One command (or several joined by `;`, run in order in one go); its answer."""
    family, target = _target(address)
    try:
        with socket.socket(family, socket.SOCK_STREAM) as conn:
            conn.settimeout(TIMEOUT)
            conn.connect(target)
            conn.sendall(command.encode() + b"\n")
            chunks, size = [], 0
            while chunk := conn.recv(65536):
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_ANSWER:
                    raise UsageError(f"{address}: answer over {MAX_ANSWER} bytes: is this HAProxy's socket?")
    except OSError as exc:
        raise UsageError(
            f"{address}: cannot reach HAProxy's runtime API ({exc.strerror or exc}): give the "
            "`stats socket` of the configuration (`level admin`) with --socket"
        ) from None
    return b"".join(chunks).decode(errors="replace")


def run(address: str, commands: Sequence[str]) -> None:
    """Commands that answer nothing when they succeed (`set server …`), sent in one go."""
    if not commands:
        return
    answer = send(address, "; ".join(commands)).strip()
    if answer:
        raise UsageError(f"{address}: HAProxy refused: {' / '.join(answer.splitlines())}")


def states(address: str) -> list[ServerState]:
    """`show servers state`: every server of every backend, as HAProxy sees it now."""
    text = send(address, "show servers state")
    out = []
    header: list[str] = []
    for line in text.splitlines():
        if line.startswith("# be_id"):
            header = line[2:].split()
            continue
        if not header or not line[:1].isdigit():
            continue
        row = dict(zip(header, line.split(), strict=False))
        try:
            admin, weight = int(row["srv_admin_state"]), int(row["srv_uweight"])
            name, server, running = row["be_name"], row["srv_name"], row["srv_op_state"] == "2"
        except (KeyError, ValueError):
            raise UsageError(
                f"{address}: `show servers state` answered a row kubeship cannot read: {line[:200]!r}"
            ) from None
        state = "maint" if admin & 0x67 else "drain" if admin & 0x18 else "ready"
        out.append(ServerState(name, server, running, state, weight))  # running: SRV_ST_RUNNING
    return out


def _target(address: str) -> tuple[socket.AddressFamily, str | tuple[str, int]]:
    """A path is a unix socket; host:port a TCP one (`stats socket ipv4@127.0.0.1:9999`)."""
    if "/" in address or ":" not in address:
        return socket.AF_UNIX, address
    host, _, port = address.rpartition(":")
    if not port.isdigit():
        raise UsageError(f"--socket {address!r}: expected a socket path or host:port")
    return socket.AF_INET, (host.strip("[]"), int(port))
