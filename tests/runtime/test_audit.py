"""The audit trail: one sealed record per sensitive operation, and every kind of tampering caught."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from kubeship.runtime import audit as audit_mod
from kubeship.runtime.audit import AuditTrail, Operation
from tests.conftest import run_cli

KEY = "k" * 16 + "an-audit-key-of-32-chars-or-more"
CANARY = "canary-Secret-value-7f3a"  # must never reach a record


def trail(tmp: Path, path: Path | None = None, **kwargs: Any) -> AuditTrail:
    (tmp / "audit.key").write_text(KEY)
    return AuditTrail(path=path or tmp / "audit.jsonl", key_file=tmp / "audit.key", pod="pod-1", **kwargs)


def records(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def verify(path: Path, **kwargs: Any) -> audit_mod.Verdict:
    return audit_mod.verify(audit_mod.read_lines([path]), [KEY.encode()], **kwargs)


def written_chain(tmp: Path, n: int = 6) -> Path:
    t = trail(tmp)
    t.open()
    for i in range(n):
        assert t.write({"kind": "app", "action": "db.drop", "target": f"db{i}"})
    t.close()
    return t.path


def test_an_untouched_chain_verifies(tmp_path: Path) -> None:
    path = written_chain(tmp_path)
    kinds = [r["kind"] for r in records(path)]
    assert kinds == ["open"] + ["app"] * 6 + ["close"]
    assert [r["seq"] for r in records(path)] == list(range(8))
    verdict = verify(path)
    assert verdict.ok and verdict.records == 8 and verdict.chains == 1


def rewrite(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(line + b"\n" for line in lines))


def test_each_kind_of_tampering_is_named_with_its_line(tmp_path: Path) -> None:
    path = written_chain(tmp_path)
    original = path.read_bytes().splitlines()

    edited = list(original)
    edited[3] = edited[3].replace(b'"db2"', b'"db9"')
    rewrite(path, edited)
    [problem] = verify(path).problems
    assert problem.where.endswith(":4") and "edited" in problem.message

    rewrite(path, original[:3] + original[4:])  # a record deleted
    [problem] = verify(path).problems
    assert problem.where.endswith(":4") and "deleted" in problem.message

    rewrite(path, [*original[:3], original[4], original[3], *original[5:]])  # two swapped
    problems = verify(path).problems
    assert problems[0].where.endswith(":4") and "deleted" in problems[0].message  # seq 4 after 2
    assert "reordered" in problems[1].message

    rewrite(path, original[:5])  # the tail cut, close record and all
    [problem] = verify(path).problems
    assert "without a close record" in problem.message and "seq 4" in problem.message
    assert verify(path, live=True).ok  # unless the writer is still running

    rewrite(path, original[1:])  # the head cut
    assert "starts at seq 1" in verify(path).problems[0].message

    forged = orjson.loads(original[6])
    forged["target"] = "db-forged"
    forged["mac"] = "0" * 64  # no key, no valid MAC
    rewrite(path, [*original[:6], orjson.dumps(forged), *original[7:]])
    assert "edited" in verify(path).problems[0].message

    replayed = orjson.loads(original[3])
    replayed["seq"] = 7  # an older record re-sealed as if new: no key, so its MAC fails
    rewrite(path, [*original, orjson.dumps(replayed)])
    assert "after its close" in verify(path).problems[0].message


def test_a_record_delivered_twice_is_a_duplicate_not_tampering(tmp_path: Path) -> None:
    """Syslog over TCP resends what it cannot know arrived: a SIEM may hold a record twice. An
    identical copy is counted apart; a copy with anything changed, or out of place, is not."""
    path = written_chain(tmp_path)
    original = path.read_bytes().splitlines()
    rewrite(path, [*original[:5], *original[3:]])  # records 3-4 sent again, then the rest
    verdict = verify(path)
    assert verdict.ok and verdict.duplicates == 2 and verdict.records == len(original)
    rewrite(path, [*original, original[-1]])  # the close record again
    assert verify(path).ok and verify(path).duplicates == 1
    edited = original[3].replace(b'"db2"', b'"db9"')
    rewrite(path, [*original[:5], edited, *original[5:]])
    assert "edited" in verify(path).problems[0].message
    rewrite(path, [*original[:3], original[4], *original[3:]])  # ahead of its place: not a copy
    assert not verify(path).ok


def test_a_cut_tail_of_a_live_chain_is_caught_by_the_log_checkpoints(tmp_path: Path) -> None:
    t = trail(tmp_path)
    t.open()
    for i in range(5):
        t.write({"kind": "app", "action": "x", "target": str(i)})
    t.checkpoint()
    checkpoint = {"chain": t.chain, "seq": 6, "mac": records(t.path)[-1]["mac"]}
    original = t.path.read_bytes().splitlines()
    assert verify(t.path, live=True, checkpoints=[checkpoint]).ok
    rewrite(t.path, original[:-2])
    [problem] = verify(t.path, live=True, checkpoints=[checkpoint]).problems
    assert "checkpoint at seq 6 is missing" in problem.message and "ends at seq 4" in problem.message


def test_operations_match_route_templates() -> None:
    ops = [Operation.parse("DELETE /databases/{name}"), Operation.parse("put /users/{id:int}/roles")]
    assert audit_mod.match(ops, "DELETE", "/databases/orders") == (ops[0], {"name": "orders"})
    assert audit_mod.match(ops, "PUT", "/users/7/roles") == (ops[1], {"id": "7"})
    assert audit_mod.match(ops, "GET", "/databases/orders") is None
    assert audit_mod.match(ops, "DELETE", "/databases/orders/tables") is None
    with pytest.raises(Exception, match="METHOD /route"):
        Operation.parse("/databases/{name}")


def serve_audited(serve: Any, tmp: Path, audit_file: str, *args: str, **env: str) -> Any:
    (tmp / "audit.key").write_text(KEY)
    secrets = tmp / "secrets"
    secrets.mkdir()
    (secrets / "db-password").write_text(CANARY)
    return serve(
        "fastapi_app:app",
        *args,
        env={
            "KUBESHIP_AUDIT_FILE": audit_file,
            "KUBESHIP_AUDIT_KEY_FILE": str(tmp / "audit.key"),
            "KUBESHIP_AUDIT_OPERATIONS": "DELETE /databases/{name},PUT /users/{user_id}/roles",
            "KUBESHIP_SERVICE": "shop",
            "KUBESHIP_VERSION": "1.2.3",
            "KUBESHIP_POD": "shop-7d9f-abcde",
            "KUBESHIP_SECRETS_PATH": str(secrets),
            **env,
        },
    )


def test_sensitive_requests_leave_one_sealed_record_each(serve: Any, tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    svc = serve_audited(serve, tmp_path, str(path))
    headers = {"x-request-id": "req-1", "authorization": f"Bearer {CANARY}", "cookie": f"s={CANARY}"}
    assert httpx.delete(svc.url + "/databases/orders", headers=headers).status_code == 204
    assert httpx.put(svc.url + "/users/7/roles", content=CANARY).status_code == 200
    assert httpx.put(svc.url + "/users/x/roles").status_code == 422  # refused by the app: still recorded
    assert httpx.post(svc.url + "/exports/q3").status_code == 200  # the app's own audit() record
    assert httpx.get(svc.url + "/ping").status_code == 200  # not sensitive: no record
    assert svc.stop() == 0

    recs = records(path)
    assert [r["kind"] for r in recs] == ["open", "request", "request", "request", "app", "close"]
    drop = recs[1]
    assert drop["action"] == "DELETE /databases/{name}" and drop["params"] == {"name": "orders"}
    assert drop["target"] == "/databases/orders" and drop["outcome"] == 204
    assert drop["request_id"] == "req-1" and drop["actor"] == {"type": "anonymous"}
    assert drop["source"] == "127.0.0.1"
    assert (drop["service"], drop["version"], drop["pod"]) == ("shop", "1.2.3", "shop-7d9f-abcde")
    assert [r["outcome"] for r in recs[2:4]] == [200, 422]
    app = recs[4]
    assert app["action"] == "export.create" and app["target"] == "q3"
    assert app["context"] == {"rows": 42, "token": "[redacted]"}
    assert CANARY not in path.read_text() and CANARY not in svc.output()

    ok = run_cli("audit", "verify", str(path), "--key-file", str(tmp_path / "audit.key"))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.strip() == "6 records in 1 chain(s): intact"  # no checkpoints asked: none said
    lines = path.read_bytes().splitlines()
    lines[2] = lines[2].replace(b"/users/7/roles", b"/users/8/roles")
    rewrite(path, lines)
    bad = run_cli("audit", "verify", str(path), "--key-file", str(tmp_path / "audit.key"), "--format", "json")
    assert bad.returncode == 1
    report = orjson.loads(bad.stdout)
    assert report["problems"][0]["where"] == f"{path}:3" and "edited" in report["problems"][0]["message"]
    wrong_key = tmp_path / "other.key"
    wrong_key.write_text("x" * 40)
    assert run_cli("audit", "verify", str(path), "--key-file", str(wrong_key)).returncode == 1


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_failing_sink_fails_sensitive_requests_closed(serve: Any, tmp_path: Path) -> None:
    svc = serve_audited(serve, tmp_path, "/dev/full")  # every write: ENOSPC
    refused = httpx.delete(svc.url + "/databases/orders")
    assert refused.status_code == 503 and "audit trail" in refused.json()["error"]
    assert httpx.post(svc.url + "/exports/q3").status_code == 503  # audit() raises: the export stops
    assert httpx.get(svc.url + "/ping").status_code == 200  # the rest of the service keeps serving
    svc.wait_log(lambda r: r.get("msg") == "audit trail write failed" and "No space" in r.get("error", ""))


def test_fail_open_when_the_spec_says_so(serve: Any, tmp_path: Path) -> None:
    svc = serve_audited(serve, tmp_path, "/dev/full", KUBESHIP_AUDIT_FAIL_OPEN="true")
    assert httpx.delete(svc.url + "/databases/orders").status_code == 204
    svc.wait_log(lambda r: r.get("msg") == "audit trail write failed" and r.get("fail_open") is True)


def test_audited_requests_beyond_the_concurrency_bound_are_all_served(serve: Any, tmp_path: Path) -> None:
    """More clients than --max-concurrency, each sending sensitive requests back to back: the
    queue hands every slot on while records wait for their sync (a slot freed while a queued
    request was read was lost, and the worker stalled with clients waiting)."""
    path = tmp_path / "audit.jsonl"
    svc = serve_audited(serve, tmp_path, str(path), "--max-concurrency", "2")

    def client(n: int) -> list[int]:
        with httpx.Client(timeout=10) as http:
            return [http.delete(f"{svc.url}/databases/db{n}-{i}").status_code for i in range(25)]

    with ThreadPoolExecutor(12) as pool:
        statuses = [code for codes in pool.map(client, range(12)) for code in codes]
    assert statuses == [204] * 300
    records = [orjson.loads(line) for line in path.read_text().splitlines()]
    assert sum(r["kind"] == "request" for r in records) == 300
    svc.stop()
    assert verify(path).ok


def test_verify_refuses_hostile_files_quickly_and_clearly(tmp_path: Path) -> None:
    key = tmp_path / "k"
    key.write_text(KEY)
    cases = {
        "empty": b"",
        "huge-line": b"x" * (3 << 20) + b"\n",
        "nested": b"[" * 5000 + b"]" * 5000 + b"\n",
        "binary": bytes(range(256)) * 16 + b"\n",
        "wrong-types": b'{"chain": [1], "seq": "0", "prev": 1, "kid": {}, "mac": null}\n',
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        r = run_cli("audit", "verify", str(tmp_path / name), "--key-file", str(key), timeout=20)
        assert "Traceback" not in r.stderr, name
        assert r.returncode == 1, (name, r.stdout, r.stderr)
    empty = run_cli("audit", "verify", str(tmp_path / "empty"), "--key-file", str(key))
    assert "no audit records" in empty.stdout  # a writer always starts with `open`: emptied


def test_group_commit_shares_syncs_and_never_answers_before_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Concurrent records share an fdatasync; a record written while one is in flight waits for the
    next (the one running may not cover it). The chain is the order of the writes."""
    import asyncio
    import threading

    real = os.fdatasync
    began: list[int] = []  # tickets written when each sync began
    gate = threading.Event()

    t = trail(tmp_path)
    t.open()

    def slow_sync(fd: int) -> None:
        began.append(t._written)
        gate.wait(5)  # held until the test has written more
        real(fd)

    monkeypatch.setattr(audit_mod.os, "fdatasync", slow_sync)

    async def scenario() -> list[bool]:
        first = t.append({"kind": "app", "action": "a0"})
        assert first is not None
        waiting = [asyncio.ensure_future(t.durable(first))]
        await asyncio.sleep(0.05)  # the sync for `first` is in flight now
        later = [t.append({"kind": "app", "action": f"a{i}"}) for i in range(1, 50)]
        waiting += [asyncio.ensure_future(t.durable(tk)) for tk in later if tk is not None]
        await asyncio.sleep(0.05)
        assert not any(w.done() for w in waiting)  # nobody answers before a sync covers it
        gate.set()
        return list(await asyncio.gather(*waiting))

    assert all(asyncio.run(scenario()))
    assert len(began) == 2  # 50 records, two syncs: the first, then one for the 49 written meanwhile
    assert began[1] >= 50  # the second began after the last of them was written
    t.close()
    assert verify(tmp_path / "audit.jsonl").ok


def test_a_failed_sync_answers_false_and_the_next_one_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sync thread's fdatasync failing (EIO: the disk went away) resolves the records it covered
    as not durable, which the middleware answers 503, and names the error; the records written
    after it are durable once a sync succeeds again. close() ends the thread."""
    import asyncio
    import errno
    import threading

    real = os.fdatasync
    failing = True

    def flaky(fd: int) -> None:
        if failing and threading.current_thread().name == "kubeship-audit-sync":
            raise OSError(errno.EIO, "Input/output error")
        real(fd)

    monkeypatch.setattr(audit_mod.os, "fdatasync", flaky)
    t = trail(tmp_path)
    t.open()

    async def scenario() -> tuple[bool, str | None, bool]:
        nonlocal failing
        lost = await t.durable(t.append({"kind": "app", "action": "a0"}) or 0)
        error = t.error
        failing = False
        kept = await t.durable(t.append({"kind": "app", "action": "a1"}) or 0)
        return lost, error, kept

    lost, error, kept = asyncio.run(scenario())
    assert (lost, kept) == (False, True)
    assert error is not None and "Input/output error" in error
    syncer = t._syncer.thread  # type: ignore[union-attr]
    assert syncer.is_alive()
    t.close()
    assert not syncer.is_alive()
    assert verify(tmp_path / "audit.jsonl").ok  # the record whose sync failed is still in the chain
