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
"""

from __future__ import annotations

import sys
from typing import Any


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
