"""Behind load balancers: trust exactly `TRUSTED_PROXIES` hops of X-Forwarded-For/-Proto.

With it, `request.remote_addr` is the client's address (what per-address rate limits count)
and `request.is_secure` is true behind a TLS-terminating balancer (so HSTS is sent). Never
set it higher than the number of proxies in front: a client could then choose its address.
"""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app: Flask) -> None:
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
