"""The access log's lines, formatted without a dict per request: whatever a client or an app puts in
a field, each request is one line of valid JSON holding exactly what happened."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from kubeship.runtime import middleware
from kubeship.runtime.middleware import access_lines

WALL = 1_780_000_000.0  # 2026-05-28T20:26:40Z, added to the perf_counter ends below


def finished(**fields: Any) -> tuple[Any, ...]:
    """A finished request as `Runtime.__call__` records it."""
    done = {
        "end": 0.5, "duration": 0.001234, "method": "GET", "path": "/items/7", "route": "/items/{id}",
        "status": 200, "sent": 18, "rid": b"abc-1", "error": None, "client": ("10.0.0.9", 50000),
        "user": None, "peer": None,
    } | fields  # fmt: skip
    return tuple(done.values())


def lines_of(*done: tuple[Any, ...], skip: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    out = access_lines(list(done), WALL, skip)
    assert out.endswith(b"\n") or out == b""
    return [orjson.loads(line) for line in out.splitlines()]


def test_a_request_is_one_line_with_every_field() -> None:
    assert lines_of(finished()) == [
        {
            "time": "2026-05-28T20:26:40.500Z", "level": "info", "msg": "request", "method": "GET",
            "route": "/items/{id}", "path": "/items/7", "status": 200, "duration_ms": 1.234, "bytes": 18,
            "request_id": "abc-1", "client": "10.0.0.9",
        }
    ]  # fmt: skip


@pytest.mark.parametrize(
    "fields",
    [
        {"path": '/a"b\\c\nd\re\x00f\x1bg'},  # quotes, escapes, line breaks, control characters
        {"path": "/café/日本/\u2028"},  # non-ASCII, and a JSON-legal line separator
        {"method": 'GE"T\n{"level":"error"}'},  # a server that passes any method through
        {"route": '/a"{id}\n'},
        {"user": 'mallory"\n', "peer": 'spiffe://cluster.local/ns/a/sa/"b"'},
        {"error": 'ValueError: "bad"\n  File "x.py", line 1'},
        {"client": None, "status": 503, "sent": 0, "duration": 0.0},
    ],
)
def test_what_a_client_or_an_app_shapes_stays_inside_its_field(fields: dict[str, Any]) -> None:
    (line,) = lines_of(finished(**fields))
    keys = {"sent": "bytes"}  # the rest are logged under their own names
    for name in fields.keys() - {"client", "duration"}:
        assert line[keys.get(name, name)] == fields[name]
    if "client" in fields:
        assert line["client"] is None


def test_durations_are_milliseconds_to_the_microsecond() -> None:
    durations = [0.0, 0.0000009, 0.001, 0.0015, 0.123456, 12.5, 3600.0]
    lines = lines_of(*(finished(duration=d) for d in durations))
    assert [line["duration_ms"] for line in lines] == [0.0, 0.0, 1.0, 1.5, 123.456, 12500.0, 3600000.0]


def test_probes_are_left_out_when_asked_and_nothing_is_nothing() -> None:
    lines = lines_of(finished(path="/healthz"), finished(), skip=frozenset({"/healthz"}))
    assert [line["path"] for line in lines] == ["/items/7"]
    assert access_lines([finished(path="/healthz")], WALL, frozenset({"/healthz"})) == b""
    assert access_lines([], WALL, frozenset()) == b""


def test_values_asgi_does_not_promise_still_give_a_valid_line() -> None:
    """Lone surrogates (a server passing undecodable bytes through) and a status that is no number
    would stop orjson or %d: the batch's other lines must not be lost with them."""
    lines = lines_of(
        finished(path="/x\udcff"), finished(status="200 OK"), finished(method="G\udc80"), finished()
    )
    assert [line["path"] for line in lines] == ["/x?", "/items/7", "/items/7", "/items/7"]
    assert lines[1]["status"] == "200 OK" and lines[2]["method"] == "G?"


def test_methods_and_paths_invented_by_clients_do_not_grow_memory() -> None:
    long = "X" * 60_000  # Granian passes a method this long through to the app
    lines = lines_of(finished(method=long), finished(method=long + "Y"))
    assert [line["method"] for line in lines] == [long, long + "Y"]
    assert long not in middleware._QUOTED and long + "Y" not in middleware._QUOTED
    lines = lines_of(*(finished(method=f"M{i}") for i in range(middleware._QUOTED_MAX + 500)))
    assert len(middleware._QUOTED) <= middleware._QUOTED_MAX
    assert lines[-1]["method"] == f"M{middleware._QUOTED_MAX + 499}"
    lines = lines_of(*(finished(path=f"/items/{i}") for i in range(middleware._QUOTED_MAX + 500)))
    assert len(middleware._QUOTED_PATHS) <= middleware._QUOTED_MAX
    assert lines[-1]["path"] == f"/items/{middleware._QUOTED_MAX + 499}"


def test_each_line_has_its_own_time_to_the_millisecond() -> None:
    ends = [0.0004, 0.5, 0.9994, 1.2, 0.7, 86_400.25]  # across seconds, a day, and back (0.7 after 1.2)
    lines = lines_of(*(finished(end=end) for end in ends))
    assert [line["time"] for line in lines] == [
        "2026-05-28T20:26:40.000Z", "2026-05-28T20:26:40.500Z", "2026-05-28T20:26:40.999Z",
        "2026-05-28T20:26:41.200Z", "2026-05-28T20:26:40.700Z", "2026-05-29T20:26:40.250Z",
    ]  # fmt: skip
