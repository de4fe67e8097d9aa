"""Acting on suggestions: move personnel to a kelurahan that is short, edit an assignment.

A move takes ``count`` people of an agency from a donor (a kelurahan with a surplus, or a
reserve: the Polsek of a kecamatan or Polresta) to a kelurahan. It records a personnel_move,
decrements the donor's assignments (kelurahan-level rows first, then its TPS rows with the
most people; reserve rows for a reserve), adds to the receiver's kelurahan-level assignment,
queues donor and receiver for the analysis worker in the same transaction and writes one
audit entry. Surplus and gaps are judged on the stored requirement and the assignments as
they are now (personnel do not change a requirement), so a move never waits for the worker. A move larger
than the donor's surplus (or reserve) is refused, nothing changed. With a client UUID the same
move sent twice is applied once (the UUID is kept in the move's audit entry).
"""
from __future__ import annotations

import uuid as uuid_mod

from sqlalchemy import Connection, text

from gisdesk import audit
from gisdesk.analysis import changes
from gisdesk.analysis.store import active_election
from gisdesk.errors import Conflict, InputRejected, NotFound, Problem

AGENCIES = ("polri", "linmas", "tni")
AGENCY_LABEL = {"polri": "Polri", "linmas": "Linmas", "tni": "TNI"}


def _reject(field: str, message: str, value=None):
    raise InputRejected(message, [Problem(None, field, message, value=None if value is None
                                          else str(value))], field=field)


def _count(value, field: str = "count") -> int:
    if isinstance(value, bool):
        _reject(field, "jumlah harus bilangan bulat", value)
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        _reject(field, "jumlah harus bilangan bulat", value)
    return number


def read_move(conn: Connection, payload: dict, election_id: int) -> dict:
    """Fields of a move, from a stored suggestion (``suggestion_id``) or given one by one."""
    if not isinstance(payload, dict):
        _reject("body", "Kirim perpindahan sebagai objek JSON.")
    move = {k: payload.get(k) for k in ("agency", "to_kelurahan_kode", "from_kelurahan_kode",
                                        "from_reserve", "reason")}
    if payload.get("suggestion_id") not in (None, ""):
        s = conn.execute(text("SELECT * FROM suggestion WHERE id = :i AND election_id = :e"),
                         {"i": _count(payload["suggestion_id"], "suggestion_id"),
                          "e": election_id}).mappings().first()
        if s is None:
            raise NotFound("Saran tidak ditemukan (analisis sudah dihitung ulang?); muat ulang "
                           "halaman saran.", field="suggestion_id")
        if s["from_kind"] not in ("kelurahan", "polsek_reserve", "polresta_reserve"):
            _reject("suggestion_id", "Saran ini tidak punya sumber personel untuk dipindahkan.")
        move.update(agency=s["agency"], to_kelurahan_kode=s["kelurahan_kode"],
                    from_kelurahan_kode=s["from_kelurahan_kode"],
                    from_reserve={"polresta_reserve": "polresta",   # Polsek of the receiver
                                  "polsek_reserve": s["kelurahan_kode"][:8]}.get(s["from_kind"]),
                    reason=move["reason"] or s["move_text"])
        payload = {"count": s["count"], **{k: v for k, v in payload.items()
                                            if k == "count" and v not in (None, "")}}
    move["count"] = _count(payload.get("count"))
    if move["count"] <= 0:
        _reject("count", "jumlah harus lebih dari 0", move["count"])
    if move["agency"] not in AGENCIES:
        _reject("agency", f"instansi harus salah satu dari {', '.join(AGENCIES)}", move["agency"])
    if not move["to_kelurahan_kode"]:
        _reject("to_kelurahan_kode", "kelurahan tujuan wajib diisi")
    if bool(move["from_kelurahan_kode"]) == bool(move["from_reserve"]):
        _reject("from_kelurahan_kode", "isi salah satu: kelurahan asal (from_kelurahan_kode) "
                "atau cadangan (from_reserve: kode kecamatan untuk Polsek, 'polresta')")
    if move["from_kelurahan_kode"] == move["to_kelurahan_kode"]:
        _reject("from_kelurahan_kode", "kelurahan asal sama dengan tujuan")
    return move


def _names(conn: Connection) -> dict:
    return dict(conn.execute(text("SELECT kode, nama FROM kelurahan UNION ALL "
                                  "SELECT kode, nama FROM kecamatan")).all())


def _gap_row(conn, eid, kode):
    return conn.execute(text("SELECT * FROM kelurahan_gap WHERE election_id = :e AND "
                             "kelurahan_kode = :k"), {"e": eid, "k": kode}).mappings().first()


def _held(conn, eid, agency, kode, lock: bool = False) -> list:
    """The assignment rows of an agency in a kelurahan (its own and its TPS'), in the order
    a move takes from them."""
    return conn.execute(text("""
        SELECT a.id, a.count FROM personnel_assignment a LEFT JOIN tps t ON t.id = a.tps_id
        WHERE a.election_id = :e AND a.agency = :a AND a.count > 0
          AND ((a.target = 'kelurahan' AND a.kelurahan_kode = :k)
               OR (a.target = 'tps' AND t.kelurahan_kode = :k))
        ORDER BY (a.target = 'kelurahan') DESC, a.count DESC, a.id"""
        + (" FOR UPDATE OF a" if lock else "")), {"e": eid, "a": agency, "k": kode}).all()


def _donor_rows(conn, eid, move) -> tuple[list, int, str]:
    """(assignment rows to take from in order, what the donor can give, its label)."""
    agency = move["agency"]
    if move["from_kelurahan_kode"]:
        kode = move["from_kelurahan_kode"]
        rows = _held(conn, eid, agency, kode, lock=True)
        gap = _gap_row(conn, eid, kode)
        held = sum(r.count for r in rows)
        if agency == "tni" or gap is None:
            can = held
        else:   # surplus over the stored requirement, with the assignments as they are now
            can = max(0, held - int(gap[f"{agency}_required"]))
        return rows, can, kode
    res = move["from_reserve"]
    kec = None if str(res).lower() == "polresta" else res
    rows = conn.execute(text("""
        SELECT id, count FROM personnel_assignment
        WHERE election_id = :e AND agency = :a AND target = 'reserve' AND count > 0
          AND kecamatan_kode IS NOT DISTINCT FROM CAST(:k AS text) ORDER BY id FOR UPDATE"""),
        {"e": eid, "a": agency, "k": kec}).all()
    return rows, sum(r.count for r in rows), kec or "polresta"


def _previous(conn, client_uuid: str):
    return conn.execute(text(
        "SELECT detail FROM audit_log WHERE action = 'personnel.move' "
        "AND detail->>'client_uuid' = :u ORDER BY id LIMIT 1"), {"u": client_uuid}).scalar()


def apply_move(conn: Connection, payload: dict, *, actor: str) -> tuple[bool, dict]:
    """Apply one move in the caller's transaction; returns (created, move)."""
    election = active_election(conn)
    eid = election["id"]
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('gisdesk.personnel'), :e)"),
                 {"e": eid})
    client_uuid = payload.get("client_uuid") if isinstance(payload, dict) else None
    if client_uuid:
        try:
            client_uuid = str(uuid_mod.UUID(str(client_uuid)))
        except ValueError:
            _reject("client_uuid", "client_uuid harus berupa UUID", client_uuid)
    done = _previous(conn, client_uuid) if client_uuid else None
    try:
        move = read_move(conn, payload, eid)
    except NotFound:
        if done is not None:      # a repeat naming a suggestion the recompute has replaced
            return False, done
        raise
    if done is not None:
        keys = ("agency", "count", "to_kelurahan_kode", "from_kelurahan_kode", "from_reserve")
        if any(done.get(k) != move[k] for k in keys):
            raise Conflict("client_uuid ini sudah dipakai untuk perpindahan lain.",
                           field="client_uuid")
        return False, done
    detail = move_personnel(conn, eid, move, actor=actor)
    to = move["to_kelurahan_kode"]
    detail.update(client_uuid=client_uuid,
                  to_gap=_gap_summary(conn, eid, to, move["agency"]),
                  from_gap=(_gap_summary(conn, eid, move["from_kelurahan_kode"], move["agency"])
                            if move["from_kelurahan_kode"] else None))
    audit.record(conn, actor, "personnel.move", to, detail)
    return True, detail


def move_personnel(conn: Connection, eid: int, move: dict, *, actor: str) -> dict:
    """Carry out one checked move: assignments, a personnel_move row, the analysis queue.
    The donor is judged on its assignments as they are now, so moves of one plan carried
    out one after the other never give the same surplus twice. No audit: the caller's."""
    names = _names(conn)
    if move["to_kelurahan_kode"] not in names:
        _reject("to_kelurahan_kode", "kelurahan tujuan tidak dikenal", move["to_kelurahan_kode"])
    rows, can, donor = _donor_rows(conn, eid, move)
    if move["count"] > can:
        what = (f"surplus {AGENCY_LABEL[move['agency']]} kelurahan "
                f"{names.get(donor, donor)}" if move["from_kelurahan_kode"] else
                f"cadangan {AGENCY_LABEL[move['agency']]} "
                f"{'Polresta' if donor == 'polresta' else 'Polsek ' + names.get(donor, donor)}")
        _reject("count", f"Jumlah {move['count']} melebihi {what} ({can}).", move["count"])
    left = move["count"]
    for r in rows:
        take = min(left, r.count)
        conn.execute(text("UPDATE personnel_assignment SET count = count - :n WHERE id = :id"),
                     {"n": take, "id": r.id})
        left -= take
        if not left:
            break
    reserve_label = None
    if move["from_reserve"]:
        reserve_label = "Polresta" if donor == "polresta" else f"Polsek {names.get(donor, donor)}"
    to = move["to_kelurahan_kode"]
    target = conn.execute(text("""
        SELECT id FROM personnel_assignment WHERE election_id = :e AND agency = :a
          AND target = 'kelurahan' AND kelurahan_kode = :k ORDER BY id LIMIT 1 FOR UPDATE"""),
        {"e": eid, "a": move["agency"], "k": to}).scalar()
    if target is not None:
        conn.execute(text("UPDATE personnel_assignment SET count = count + :n WHERE id = :id"),
                     {"n": move["count"], "id": target})
    else:
        conn.execute(text("""
            INSERT INTO personnel_assignment (election_id, agency, target, kelurahan_kode,
                kecamatan_kode, unit, count, note, created_by)
            VALUES (:e, :a, 'kelurahan', :k, left(:k, 8), :unit, :n, 'perpindahan personel', :by)"""),
            {"e": eid, "a": move["agency"], "k": to, "n": move["count"], "by": actor,
             "unit": reserve_label or f"dari Kel. {names.get(donor, donor)}"})
    move_id = conn.execute(text("""
        INSERT INTO personnel_move (election_id, agency, count, from_kelurahan_kode,
            from_reserve, to_kelurahan_kode, reason, moved_by)
        VALUES (:e, :a, :n, :fk, :fr, :to, :reason, :by) RETURNING id"""),
        {"e": eid, "a": move["agency"], "n": move["count"], "fk": move["from_kelurahan_kode"],
         "fr": reserve_label, "to": to, "reason": move["reason"], "by": actor}).scalar_one()
    changes.kelurahan(conn, eid, [to, move["from_kelurahan_kode"]], "personnel.move")
    if move["from_reserve"]:
        changes.personnel(conn, eid, target="reserve", kelurahan_kode=None, tps_id=None,
                          kecamatan_kode=None if donor == "polresta" else donor,
                          reason="personnel.move")
    return {**move, "id": move_id}


def _gap_summary(conn, eid, kode, agency):
    """The kelurahan's gap after the move: stored requirement - assignments now."""
    row = _gap_row(conn, eid, kode)
    if row is None or agency == "tni":
        return None
    return int(row[f"{agency}_required"]) - sum(r.count for r in _held(conn, eid, agency, kode))


def set_assignment_count(conn: Connection, assignment_id: int, count, *, actor: str) -> dict:
    """A supervisor sets an assignment's count directly (audited, queued for the analysis)."""
    number = _count(count)
    if number < 0:
        _reject("count", "jumlah tidak boleh negatif", number)
    row = conn.execute(text("SELECT * FROM personnel_assignment WHERE id = :i FOR UPDATE"),
                       {"i": assignment_id}).mappings().first()
    if row is None:
        raise NotFound(f"Penugasan {assignment_id} tidak ada.", field="id")
    if row["count"] != number:
        conn.execute(text("UPDATE personnel_assignment SET count = :c WHERE id = :i"),
                     {"c": number, "i": assignment_id})
        changes.personnel(conn, row["election_id"], target=row["target"],
                          kelurahan_kode=row["kelurahan_kode"],
                          kecamatan_kode=row["kecamatan_kode"], tps_id=row["tps_id"],
                          reason="personnel.update")
        audit.record(conn, actor, "personnel.update", str(assignment_id),
                     {"agency": row["agency"], "target": row["target"],
                      "kelurahan_kode": row["kelurahan_kode"], "unit": row["unit"],
                      "old": row["count"], "new": number})
    return {"id": assignment_id, "agency": row["agency"], "target": row["target"],
            "kelurahan_kode": row["kelurahan_kode"], "kecamatan_kode": row["kecamatan_kode"],
            "unit": row["unit"], "count": number, "changed": row["count"] != number}


def list_moves(conn: Connection, election_id: int, limit: int = 100) -> list[dict]:
    rows = conn.execute(text("""
        SELECT m.*, kt.nama AS to_nama, kf.nama AS from_nama FROM personnel_move m
        JOIN kelurahan kt ON kt.kode = m.to_kelurahan_kode
        LEFT JOIN kelurahan kf ON kf.kode = m.from_kelurahan_kode
        WHERE m.election_id = :e ORDER BY m.moved_at DESC, m.id DESC LIMIT :n"""),
        {"e": election_id, "n": limit}).mappings().all()
    return [dict(r) for r in rows]
