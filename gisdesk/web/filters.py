"""Jinja filters every template uses to show numbers and TPS the Indonesian way."""
from __future__ import annotations

from gisdesk.indonesian import JINJA_FILTERS


def init_app(app) -> None:
    app.jinja_env.filters.update(JINJA_FILTERS)
