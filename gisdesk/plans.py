"""A kelurahan's plan: the suggested moves for it, in order, applied as one recorded action.

The supervisor applies what the page showed, so the request names the analysis results
``version`` it was based on; when the results have moved on since (the analysis worker stored
newer ones), nothing is applied and a Conflict (409) says to look again. The plan's moves come
from the stored suggestions of that version (or are sent explicitly, e.g. from a what-if),
each carried out like a single move (donor surplus or reserve checked on the assignments as
they are now, so earlier moves of the plan count), queued for the worker, and the plan is
ONE audit entry (``personnel.plan``). With a ``client_uuid`` the same plan sent twice is
applied once.
"""
from __future__ import annotations

import uuid as uuid_mod

from sqlalchemy import Connection, text

from gisdesk import audit
from gisdesk.analysis.store import active_election
from gisdesk.errors import Conflict, GisdeskError, InputRejected, Problem
from gisdesk.moves import _gap_summary, move_personnel, read_move

MOVABLE = ("kelurahan", "polsek_reserve", "polresta_reserve")


MAX_MOVES = 50


def current_version(conn: Connection, election_id: int) -> int | None:
    """The version of the stored results (None: never computed)."""
    return conn.execute(text("SELECT version FROM analysis_run WHERE election_id = :e"),
                        {"e": election_id}).scalar()



def planned_moves(conn: Connection, election_id: int, kelurahan_kode: str) -> list[dict]:
    """The stored suggestions for a kelurahan as moves, in the order they were planned."""
    rows = conn.execute(text("""
        SELECT id FROM suggestion WHERE election_id = :e AND kelurahan_kode = :k
          AND from_kind = ANY(:kinds) ORDER BY kabkota_kode, rank, agency, id"""),
        {"e": election_id, "k": kelurahan_kode, "kinds": list(MOVABLE)}).scalars().all()
    return [read_move(conn, {"suggestion_id": sid}, election_id) for sid in rows]


def applied_plans(conn: Connection, version: int | None) -> set[str]:
    """Kelurahan whose plan was applied on these results (the worker has not caught up yet:
    their suggestions still show, and must not be applied twice)."""
    if version is None:
        return set()
    return set(conn.execute(text(
        "SELECT target FROM audit_log WHERE action = 'personnel.plan' "
        "AND (detail->>'based_on_version')::bigint = :v"), {"v": version}).scalars())


def _previous(conn: Connection, client_uuid: str):
    return conn.execute(text(
        "SELECT detail FROM audit_log WHERE action = 'personnel.plan' "
        "AND detail->>'client_uuid' = :u ORDER BY id LIMIT 1"), {"u": client_uuid}).scalar()


def _client_uuid(value) -> str | None:
    if value in (None, ""):
        return None
    try:
        return str(uuid_mod.UUID(str(value)))
    except ValueError:
        raise InputRejected("client_uuid harus berupa UUID.",
                            [Problem(None, "client_uuid", "bukan UUID", value=str(value)[:60])],
                            field="client_uuid") from None


def _based_on(payload: dict) -> int:
    raw = payload.get("based_on_version", payload.get("version"))
    if isinstance(raw, bool) or not isinstance(raw, (int, str)) or not str(raw).isdigit():
        raise InputRejected("Versi hasil analisis yang menjadi dasar rencana wajib diisi "
                            "(bilangan bulat).", field="based_on_version")
    return int(raw)


def _given_moves(conn: Connection, eid: int, given, kode: str | None) -> list[dict]:
    """Moves sent one by one (e.g. tried in the map's what-if), each checked; a bad one
    refuses the whole plan, naming it."""
    if not isinstance(given, list) or not given:
        raise InputRejected("Rencana tidak berisi perpindahan.", field="moves")
    if len(given) > MAX_MOVES:
        raise InputRejected(f"Paling banyak {MAX_MOVES} perpindahan dalam satu rencana.",
                            field="moves")
    out = []
    for i, item in enumerate(given, start=1):
        try:
            if kode and isinstance(item, dict):
                item = {"to_kelurahan_kode": kode, **item}
            out.append(read_move(conn, item, eid))
        except GisdeskError as exc:
            raise type(exc)(f"Perpindahan ke-{i}: {exc.message}",
                            field=f"moves[{i - 1}].{exc.field or 'body'}") from None
    return out


def apply_plan(conn: Connection, payload, *, actor: str) -> dict:
    """Apply a plan in the caller's transaction: a kelurahan's stored plan
    (``kelurahan_kode``) or the ``moves`` given, on results ``based_on_version``. Returns the
    plan recorded (``created`` False for a repeat of the same ``client_uuid``)."""
    if not isinstance(payload, dict):
        raise InputRejected("Kirim rencana sebagai objek JSON.", field="body")
    eid = active_election(conn)["id"]
    # the same lock as a single move: no move can slip in between the check and the writes
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('gisdesk.personnel'), :e)"),
                 {"e": eid})
    client_uuid = _client_uuid(payload.get("client_uuid"))
    done = _previous(conn, client_uuid) if client_uuid else None
    if done is not None:
        return {**done, "created": False}
    based_on = _based_on(payload)
    kode = str(payload.get("kelurahan_kode") or "").strip() or None
    given = payload.get("moves")
    if given is None and not kode:
        raise InputRejected("Sebutkan kelurahan_kode (rencananya) atau moves.",
                            field="kelurahan_kode")
    now = current_version(conn, eid)
    if now != based_on:
        raise Conflict("Hasil analisis sudah berubah sejak rencana ini dibuat (versi "
                       f"{based_on}, sekarang {now if now is not None else 'belum ada'}). "
                       "Tidak ada yang diubah: muat ulang halaman, periksa rencananya, lalu "
                       "terapkan lagi.", field="based_on_version")
    if kode and kode in applied_plans(conn, based_on):
        raise Conflict("Rencana kelurahan ini sudah diterapkan pada hasil analisis yang sama; "
                       "tunggu hasil baru lalu periksa lagi.", field="kelurahan_kode")
    moves = planned_moves(conn, eid, kode) if given is None else \
        _given_moves(conn, eid, given, kode)
    if not moves:
        raise InputRejected("Tidak ada perpindahan dalam rencana kelurahan ini.",
                            field="kelurahan_kode")
    done_moves = []
    for i, m in enumerate(moves, start=1):
        try:
            done_moves.append(move_personnel(conn, eid, m, actor=actor))
        except GisdeskError as exc:   # the whole plan is refused; say which move and why
            raise type(exc)(f"Perpindahan ke-{i}: {exc.message}",
                            field=f"moves[{i - 1}].{exc.field or 'body'}") from None
    targets = sorted({m["to_kelurahan_kode"] for m in done_moves})
    detail = {"kelurahan_kode": kode, "based_on_version": based_on, "version": now,
              "client_uuid": client_uuid, "applied": len(done_moves), "moves": done_moves,
              "gap_after": {f"{t} {a}": _gap_summary(conn, eid, t, a) for t in targets
                            for a in sorted({m["agency"] for m in done_moves})}}
    audit.record(conn, actor, "personnel.plan", kode or ", ".join(targets), detail)
    return {**detail, "created": True}


def kelurahan_plans(conn: Connection, election_id: int) -> list[dict]:
    """The stored suggestions as one block per kelurahan, most urgent first: per agency the
    need (required / assigned / short) and the moves in order, the reasons said once."""
    rows = conn.execute(text("""
        SELECT s.*, k.nama AS kelurahan_nama, kc.nama AS kecamatan_nama FROM suggestion s
        JOIN kelurahan k ON k.kode = s.kelurahan_kode
        JOIN kecamatan kc ON kc.kode = k.kecamatan_kode
        WHERE s.election_id = :e ORDER BY s.kabkota_kode, s.rank, s.agency, s.id"""),
        {"e": election_id}).mappings().all()
    blocks: dict[str, dict] = {}
    for r in rows:
        block = blocks.setdefault(r["kelurahan_kode"], {
            "kelurahan_kode": r["kelurahan_kode"], "kelurahan_nama": r["kelurahan_nama"],
            "kecamatan_nama": r["kecamatan_nama"], "rank": r["rank"], "agencies": {},
            "reasons": [], "movable": False})
        need = block["agencies"].setdefault(r["agency"], {
            "agency": r["agency"], "required": r["required"], "assigned": r["assigned"],
            "gap": r["gap"], "moves": [], "unmet": 0})
        if r["from_kind"] in MOVABLE:
            need["moves"].append(r["move_text"])
            block["movable"] = True
        else:
            need["unmet"] += r["count"]
        for reason in r["reasons"] or []:
            if reason not in block["reasons"]:
                block["reasons"].append(reason)
    return [{**b, "agencies": list(b["agencies"].values())} for b in blocks.values()]
