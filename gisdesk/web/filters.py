"""Jinja filters every template uses to show numbers and TPS the Indonesian way."""
from __future__ import annotations

from gisdesk.indonesian import angka, persen, tps_label


def init_app(app) -> None:
    app.jinja_env.filters.update(angka=angka, persen=persen, tps=tps_label)
