"""A FastAPI app exercising what the runtime tests need."""

from __future__ import annotations

import asyncio
import gc
import os
import threading

from fastapi import FastAPI

from kubeship.runtime import app_config, secret

config = app_config({"message": "pong"})
app = FastAPI()


@app.get("/ping")
async def ping() -> dict[str, str]:
    return {"message": str(config["message"])}


@app.get("/users/{user_id}")
async def user(user_id: int) -> dict[str, int]:
    return {"id": user_id}


@app.get("/boom")
async def boom() -> None:
    raise RuntimeError("handler failed on purpose")


@app.get("/slow")
async def slow(seconds: float = 1.0) -> dict[str, float]:
    await asyncio.sleep(seconds)
    return {"slept": seconds}


_held = {"now": 0, "most": 0}


@app.get("/hold")
async def hold(seconds: float = 0.5) -> dict[str, int]:
    """Counts the requests inside the app at once (the worker's concurrency)."""
    _held["now"] += 1
    _held["most"] = max(_held["most"], _held["now"])
    await asyncio.sleep(seconds)
    _held["now"] -= 1
    return _held


@app.get("/gc")
def collector() -> dict[str, object]:
    """The worker's collector: its thresholds and how many young collections it has run."""
    return {"threshold": gc.get_threshold(), "young": gc.get_stats()[0]["collections"], "pid": os.getpid()}


@app.get("/admin/stats")
async def admin() -> dict[str, str]:
    return {"admin": "yes"}


@app.get("/login-check")
async def login_check(password: str) -> dict[str, bool]:
    # Compares with a mounted secret; the value itself must never be printed.
    return {"ok": secret("db-password").reveal() == password}


@app.delete("/databases/{name}", status_code=204)
async def drop_database(name: str) -> None:
    return None


@app.put("/users/{user_id}/roles")
async def set_roles(user_id: int) -> dict[str, int]:
    return {"id": user_id}


@app.post("/exports/{name}")
async def export(name: str) -> dict[str, str]:
    from kubeship.runtime.audit import audit

    # The app's own record; a Secret passed by mistake is redacted, never written.
    audit("export.create", target=name, rows=42, token=secret("db-password"))
    return {"export": name}


@app.get("/sched")
def sched() -> dict[str, int]:
    """A sync handler runs on a thread of the threadpool, started after the worker was: its policy."""
    return {"policy": os.sched_getscheduler(0), "pid": os.getpid(), "thread": threading.get_native_id()}
