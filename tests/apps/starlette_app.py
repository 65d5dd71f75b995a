from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route


async def ping(request: Request) -> JSONResponse:
    return JSONResponse({"message": "pong"})


async def item(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.path_params["item_id"]})


async def boom(request: Request) -> JSONResponse:
    raise ValueError("starlette handler failed")


api = Starlette(routes=[Route("/items/{item_id}", item)])
app = Starlette(
    routes=[
        Route("/ping", ping),
        Route("/boom", boom),
        Mount("/api", app=api),
    ]
)


async def own_500(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"handled_by": "the app"}, status_code=500)


# An app with its own 500 handler: its ServerErrorMiddleware is the app's to run (runtime/frameworks.py)
handled = Starlette(
    routes=[Route("/ping", ping), Route("/boom", boom)], exception_handlers={Exception: own_500}
)
