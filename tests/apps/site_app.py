"""A service instance that says which site it runs in (`SITE` in its environment), for any method
and path: the client counts where each request went without asking the proxy."""

from __future__ import annotations

import os
from typing import Any

SITE = os.environ.get("SITE", "unknown").encode()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):  # read the body a write carries
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": SITE})
