"""The /ping most Starlette users would write."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def ping(request: Request) -> JSONResponse:
    return JSONResponse({"message": "pong"})


app = Starlette(routes=[Route("/ping", ping)])
