"""A version of a service for release tests: `fail-every` in its config (0 = never) makes every
n-th /ping a 500, a deterministic share of errors a canary analysis must catch."""

from __future__ import annotations

import itertools

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from kubeship.runtime import app_config

config = app_config({"fail-every": "0"})
_counter = itertools.count(1)


async def ping(request: Request) -> JSONResponse:
    every = config.typed("fail-every", int, 0)
    if every and next(_counter) % every == 0:
        return JSONResponse({"error": "injected"}, status_code=500)
    return JSONResponse({"message": "pong"})


app = Starlette(routes=[Route("/ping", ping)])
