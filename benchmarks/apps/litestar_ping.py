"""The /ping most Litestar users would write."""

from litestar import Litestar, get


@get("/ping")
async def ping() -> dict[str, str]:
    return {"message": "pong"}


app = Litestar(route_handlers=[ping])
