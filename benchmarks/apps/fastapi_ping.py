"""The /ping most FastAPI users would write, and a /query that awaits as a database call would."""

import asyncio

from fastapi import FastAPI

app = FastAPI()


@app.get("/ping")
async def ping() -> dict[str, str]:
    return {"message": "pong"}


@app.get("/query")
async def query() -> dict[str, str]:
    await asyncio.sleep(0.002)  # a 2 ms query's stand-in: 64 requests in flight, all awaiting
    return {"message": "pong"}
