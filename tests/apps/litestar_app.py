from __future__ import annotations

from litestar import Litestar, get


@get("/ping")
async def ping() -> dict[str, str]:
    return {"message": "pong"}


@get("/orders/{order_id:int}")
async def order(order_id: int) -> dict[str, int]:
    return {"id": order_id}


@get("/boom")
async def boom() -> None:
    raise KeyError("litestar handler failed")


app = Litestar(route_handlers=[ping, order, boom])
