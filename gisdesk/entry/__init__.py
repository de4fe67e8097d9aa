"""Entry of incident reports and TPS readiness (no Flask): validation, storage, review.

Modules: ``coords`` (typed coordinates), ``taxonomy`` (categories and checklist from
``incident_types.toml``), ``placement`` (kelurahan and nearest TPS of a point),
``incidents`` (idempotent report entry and listing), ``review`` (supervisor workflow),
``readiness`` (TPS checklist).
"""
from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text

from gisdesk.errors import InputRejected

LOGGER = logging.getLogger(__name__)
WITA = ZoneInfo("Asia/Makassar")
UTC = dt.timezone.utc


def active_election(conn: Connection) -> dict:
    """The election the app works on; entry without one is refused."""
    row = conn.execute(text(
        "SELECT id, kode, nama, campaign_start, voting_date, wilayah_kode "
        "FROM election WHERE active")).mappings().first()
    if row is None:
        raise InputRejected("Belum ada pemilu aktif; laporan belum dapat dicatat.",
                            field="election")
    return dict(row)


def wita(value: dt.datetime | None) -> str:
    """A stored (UTC) time as people at the desk read it."""
    return value.astimezone(WITA).strftime("%d-%m-%Y %H:%M WITA") if value else ""
