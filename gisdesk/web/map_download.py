"""The "Unduh" control of /map: which layers the user may download (roles with ``export``).

The control itself is self-contained (templates/partials/map_download.html and
static/map_download.js): it builds /export/<layer>.<fmt> links from the visible layers, the
map's filters and its view, with the same parameter names as the API and the CLI.
"""
from __future__ import annotations

from flask import current_app
from flask_login import current_user

from gisdesk.layers import exports
from gisdesk.layers.registry import visible_layers


def exportable() -> list[dict]:
    if not current_user.is_authenticated:
        return []
    layers = visible_layers(current_user.role, current_app.extensions["gisdesk.layers"])
    return [{"id": layer.id, "title": layer.title} for layer in layers.values()
            if exports.may_export(current_user.role, layer)]


def init_app(app) -> None:
    app.context_processor(lambda: {"map_downloads": exportable})
