"""Serve an app with exactly `kubeship serve`'s Granian settings but no kubeship middleware.

usage: python granian_bare.py module:app PORT [--rsgi]

--rsgi: the app speaks Granian's own interface (RSGI), not ASGI.
"""

from __future__ import annotations

import sys

from granian.constants import Interfaces
from granian.server import MPServer

from kubeship.runtime.serve import ServeOptions, granian_options, load_app

target, port = sys.argv[1], int(sys.argv[2])
app = load_app(target)
options = granian_options(ServeOptions(target=target, host="127.0.0.1", port=port))
if "--rsgi" in sys.argv:
    options["interface"] = Interfaces.RSGI
server = MPServer(target, **options)
server.serve(target_loader=lambda: app, wrap_loader=False)
