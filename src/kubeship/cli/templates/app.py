"""The seed's Gin service, in Python, on the kubeship runtime.

    r := gin.Default()
    r.GET("/ping", func(c *gin.Context) { c.JSON(200, gin.H{"message": "pong"}) })
    r.Run(":8080")

becomes `kubeship serve app:app --port 8080`: the runtime adds what
gin.Default() adds (access log, recovery) and what production needs on top
(request ids, metrics, health, readiness, drain, config reload).
"""

from __future__ import annotations

import hashlib

from fastapi import FastAPI, HTTPException, Query

from kubeship.runtime import app_config

config = app_config({"message": "pong", "max-work": "100000"})

app = FastAPI(title="ping", docs_url=None, redoc_url=None)


@app.get("/ping")
async def ping() -> dict[str, str]:
    return {"message": config["message"]}


@app.get("/work")
def work(n: int = Query(1000, ge=1)) -> dict[str, object]:
    """CPU work proportional to `n` (SHA-256 rounds): the autoscaling demo's load."""
    limit = config.typed("max-work", int, 100_000)
    if n > limit:
        raise HTTPException(status_code=422, detail=f"n must be at most {limit}")
    digest = b"kubeship"
    for _ in range(n):
        digest = hashlib.sha256(digest).digest()
    return {"rounds": n, "digest": digest.hex()[:16]}


@app.get("/users/{user_id}")
async def user(user_id: int) -> dict[str, int]:
    return {"id": user_id}


@app.delete("/users/{user_id}", status_code=204)
async def delete_user(user_id: int) -> None:
    """The seed's sensitive operation: in prod every call is in the audit trail (audit.operations)."""
