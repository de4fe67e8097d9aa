"""Where the app is reached from outside: the configured public URL and trusted proxies.

Links the app writes with their host (the OGC API's ``links``, the OpenAPI ``servers``) must
not copy whatever ``Host`` header a client sent. With ``GISDESK_PUBLIC_URL`` set, every
request is seen as arriving at that scheme, host and path prefix. ``X-Forwarded-For`` and
``X-Forwarded-Proto`` are believed only from ``GISDESK_TRUSTED_PROXIES`` reverse proxies in
front (Werkzeug's ProxyFix); otherwise the client address is the socket's peer.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from werkzeug.middleware.proxy_fix import ProxyFix

from gisdesk.config import Settings
from gisdesk.errors import ConfigError


class PublicUrl:
    """WSGI middleware: scheme, host and script root from the configured public URL."""

    def __init__(self, app, public_url: str):
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"GISDESK_PUBLIC_URL must be http(s)://host[:port][/prefix], "
                              f"not {public_url!r}", field="public_url")
        self.app = app
        self.scheme, self.host, self.hostname = parts.scheme, parts.netloc, parts.hostname
        self.prefix = parts.path.rstrip("/")
        self.port = str(parts.port or (443 if parts.scheme == "https" else 80))

    def __call__(self, environ, start_response):
        environ["wsgi.url_scheme"] = self.scheme
        environ["HTTP_HOST"] = self.host
        environ["SERVER_NAME"] = self.hostname
        environ["SERVER_PORT"] = self.port
        if self.prefix:
            path = environ.get("PATH_INFO", "")
            if path.startswith(self.prefix + "/") or path == self.prefix:
                environ["PATH_INFO"] = path[len(self.prefix):]   # a proxy that did not strip it
            environ["SCRIPT_NAME"] = self.prefix
        return self.app(environ, start_response)


def wrap(wsgi_app, settings: Settings):
    if settings.trusted_proxies > 0:
        n = settings.trusted_proxies
        # the host from the proxy only when no public URL says it
        wsgi_app = ProxyFix(wsgi_app, x_for=n, x_proto=n, x_host=0 if settings.public_url else n)
    if settings.public_url:
        wsgi_app = PublicUrl(wsgi_app, settings.public_url)
    return wsgi_app
