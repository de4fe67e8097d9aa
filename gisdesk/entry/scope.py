"""Where a desk user may write (no Flask here).

Desk staff tied to a kelurahan (``users.kelurahan_kode``) record readiness and incidents only
for TPS and places in that kelurahan; desk staff without one, and every higher role, work
city-wide (DESIGN.md, "Scope"). Reading is never scoped.
"""
from __future__ import annotations

from sqlalchemy import Connection, text

from gisdesk.errors import Forbidden, Problem

SCOPED_ROLES = ("desk_staff",)


def write_scope(role: str | None, kelurahan_kode: str | None) -> str | None:
    """The kelurahan a user's writes are limited to, or None for city-wide."""
    return kelurahan_kode if role in SCOPED_ROLES and kelurahan_kode else None


def _label(conn: Connection, kode: str | None) -> str:
    nama = conn.execute(text("SELECT nama FROM kelurahan WHERE kode = :k"), {"k": kode}).scalar()
    return f"Kelurahan {nama} ({kode})" if nama else f"kelurahan {kode or '(di luar wilayah)'}"


def outside_reason(conn: Connection, scope: str, kelurahan_kode: str | None, what: str) -> str:
    return (f"Anda hanya boleh mencatat untuk {_label(conn, scope)}; {what} berada di "
            f"{_label(conn, kelurahan_kode)}.")


def check(conn: Connection, scope: str | None, kelurahan_kode: str | None, what: str,
          field: str) -> None:
    """Raise Forbidden (403) naming both kelurahan when ``kelurahan_kode`` is out of scope."""
    if scope and kelurahan_kode != scope:
        raise Forbidden(outside_reason(conn, scope, kelurahan_kode, what), field=field)


def row_problem(conn: Connection, scope: str | None, kelurahan_kode: str | None, row: int,
                what: str, field: str) -> Problem | None:
    """The same rule for one row of a bulk file: an error naming the row, or None."""
    if scope and kelurahan_kode != scope:
        return Problem(row, field, outside_reason(conn, scope, kelurahan_kode, what),
                       value=kelurahan_kode)
    return None
