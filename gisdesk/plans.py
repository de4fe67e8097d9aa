"""Applying a what-if plan: the moves a supervisor tried on the map, sent with the results
version the plan was worked out on. When the results have moved on since (a new version:
a report, a move, a recompute), the plan is refused as a whole (Conflict, HTTP 409) and
nothing is changed; otherwise every move is applied in one transaction (gisdesk.moves) and
the plan gets one audit entry naming its moves.
"""
from __future__ import annotations

from sqlalchemy import Connection, text

from gisdesk import audit, moves
from gisdesk.analysis.store import active_election
from gisdesk.errors import Conflict, GisdeskError, InputRejected

MAX_MOVES = 50


def current_version(conn: Connection, election_id: int) -> int | None:
    """The version of the stored results (None: never computed)."""
    return conn.execute(text("SELECT version FROM analysis_run WHERE election_id = :e"),
                        {"e": election_id}).scalar()


def _based_on(payload) -> int:
    if not isinstance(payload, dict):
        raise InputRejected("Kirim rencana sebagai objek JSON.", field="body")
    raw = payload.get("based_on_version")
    if isinstance(raw, bool) or not isinstance(raw, (int, str)) or not str(raw).isdigit():
        raise InputRejected("Versi hasil analisis yang menjadi dasar simulasi wajib diisi "
                            "(bilangan bulat).", field="based_on_version")
    items = payload.get("moves")
    if not isinstance(items, list) or not items:
        raise InputRejected("Rencana tidak berisi perpindahan.", field="moves")
    if len(items) > MAX_MOVES:
        raise InputRejected(f"Paling banyak {MAX_MOVES} perpindahan dalam satu rencana.",
                            field="moves")
    return int(raw)


def apply_plan(conn: Connection, payload, *, actor: str) -> dict:
    """Check the version, apply every move (in the caller's transaction), record the plan."""
    based_on = _based_on(payload)
    eid = active_election(conn)["id"]
    # the same lock as a single move: no move can slip in between the check and the writes
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('gisdesk.personnel'), :e)"),
                 {"e": eid})
    now = current_version(conn, eid)
    if now != based_on:
        raise Conflict(
            f"Hasil analisis sudah berubah sejak simulasi ini dibuat (versi {based_on}, "
            f"sekarang {now}). Tidak ada yang diubah: muat ulang peta, periksa simulasinya, "
            "lalu terapkan lagi.", field="based_on_version")
    applied = []
    for i, item in enumerate(payload["moves"], start=1):
        try:
            applied.append(moves.apply_move(conn, item, actor=actor)[1])
        except GisdeskError as exc:   # the whole plan is refused; say which move and why
            raise type(exc)(f"Perpindahan ke-{i}: {exc.message}",
                            field=f"moves[{i - 1}].{exc.field or 'body'}") from None
    after = current_version(conn, eid)
    audit.record(conn, actor, "personnel.plan", str(eid),
                 {"based_on_version": based_on, "version": after,
                  "moves": [m["id"] for m in applied]})
    return {"applied": len(applied), "moves": applied, "version": after}
