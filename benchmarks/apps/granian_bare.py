"""Serve an app with exactly `kubeship serve`'s Granian settings but no kubeship middleware.

usage: python granian_bare.py module:app PORT
"""

from __future__ import annotations

import sys

from granian.server import MPServer

from kubeship.runtime.serve import ServeOptions, granian_options, load_app

target, port = sys.argv[1], int(sys.argv[2])
app = load_app(target)
server = MPServer(target, **granian_options(ServeOptions(target=target, host="127.0.0.1", port=port)))
server.serve(target_loader=lambda: app, wrap_loader=False)
