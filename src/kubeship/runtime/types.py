"""The ASGI vocabulary every runtime module speaks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]  # ASGI: "a dict"; compiled, dict operations run natively
Message = dict[str, Any]  # ASGI: "a dict", as the scope
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
