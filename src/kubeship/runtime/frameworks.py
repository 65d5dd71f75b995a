"""Work a framework would do twice under the runtime, and the runtime's way of not doing it.

Starlette (so FastAPI too) wraps every app in `ServerErrorMiddleware`: on an unhandled exception
it answers a plain-text 500 and raises again. Under the runtime that answer is turned into the
runtime's JSON error (`json_errors`), and the exception is caught again by the runtime's recovery,
which logs it; the runtime's own 500 is that same JSON. With no 500 handler of the app's and no
debug page, the layer changes nothing a client or the log sees, and costs a coroutine and a wrapped
`send` a request (5,000-6,800 instructions: `benchmarks/runtime_instructions.py --app starlette`,
`--app fastapi`; README "Benchmarks"). The runtime then serves
the app's own middleware stack, built by the app, without that outermost layer; an app with a
handler of its own, or in debug, keeps it.

Litestar is the other way round: it answers every exception itself (its own JSON 500) and logs
the traceback only in debug (`LoggingConfig.log_exceptions="debug"`), so nothing reaches the
runtime's recovery and, in production, an unhandled exception left no trace but its status. The
runtime adds an `after_exception` hook that leaves the exception in the scope, and logs it from
there like any other it recovers.
"""

from __future__ import annotations

import sys
from typing import Any

ANSWERED_ERROR = "kubeship.answered_error"  # scope key: an exception the app answered itself


def shed_duplicate_recovery(app: Any) -> bool:
    """Serve a Starlette app's stack without its outer `ServerErrorMiddleware` where the layer
    would do only what the runtime's recovery does; True when it was left out."""
    applications = sys.modules.get("starlette.applications")  # loaded if the app is one
    if applications is None or not isinstance(app, applications.Starlette):
        return False
    from starlette.middleware.errors import ServerErrorMiddleware

    stack = app.middleware_stack
    if stack is None:  # built now, as the app's first call would: its middleware is all added by then
        try:
            stack = app.middleware_stack = app.build_middleware_stack()
        except Exception:
            return False  # left unbuilt: the app's own call raises it, inside the runtime's recovery
    if type(stack) is not ServerErrorMiddleware or stack.handler is not None or stack.debug:
        return False  # a subclass, the app's own 500 handler, or its debug page: the app's to run
    app.middleware_stack = stack.app
    return True


def report_answered_errors(app: Any) -> bool:
    """Have a Litestar app leave each unhandled exception it answers in the request's scope under
    `ANSWERED_ERROR`; True when it will (then only a 5xx answer need be looked at)."""
    module = sys.modules.get("litestar.app")  # loaded if the app is one
    if module is None or not isinstance(app, module.Litestar):
        return False  # a Litestar app wrapped in other middleware is not seen: it logs as it did
    hooks = getattr(app, "after_exception", None)  # a list in Litestar 2; anything else is left alone
    if not isinstance(hooks, list):
        return False
    if _leave_in_scope not in hooks:  # once, however many runtimes wrap the app
        hooks.append(_leave_in_scope)
    return True


async def _leave_in_scope(exc: BaseException, scope: dict[str, Any]) -> None:
    from litestar.exceptions import HTTPException

    if not isinstance(exc, HTTPException):  # raised to answer with its status: the app's own choice
        scope[ANSWERED_ERROR] = exc
