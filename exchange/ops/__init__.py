"""Operator tools: the `flask admin` commands, backups, a development server and the demo.

Edges, like the API: they read the app's runtime (`exchange.runtime`) and hand it to the
services; `devserver` and `demo` drive a real server process from outside.
"""
