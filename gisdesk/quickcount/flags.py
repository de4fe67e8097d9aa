"""Double entry: the same TPS+contest from several agencies is compared; disagreement is a
flag a supervisor resolves (choose one agency's entry or enter corrected numbers).

Flag states: ``open`` (agencies disagree; the TPS does not count), ``resolved`` (a supervisor
chose the numbers that count), ``agreed`` (the agencies agree again after corrections).
Every change goes to result_flag_history; resolutions also to the audit log.
"""
from __future__ import annotations

import uuid
from typing import Mapping

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB

from gisdesk import audit
from gisdesk.errors import Conflict, InputRejected, NotFound
from gisdesk.quickcount import contests, store
from gisdesk.quickcount.rules import QuickCountRules, ResultNumbers, validate_numbers


def compare(numbers_by_agency: Mapping[str, ResultNumbers]) -> list[dict]:
    """Fields on which the agencies differ, each with every agency's value."""
    flats = {agency: n.comparable() for agency, n in sorted(numbers_by_agency.items())}
    fields = sorted({f for flat in flats.values() for f in flat},
                    key=lambda f: (not f.startswith("votes."), f))
    differences = []
    for field in fields:
        values = {agency: flat.get(field) for agency, flat in flats.items()}
        if len(set(values.values())) > 1:
            differences.append({"field": field, "values": values})
    return differences


def _history(conn: Connection, flag_id: int, action: str, status: str, actor: str, *,
             chosen: uuid.UUID | None = None, detail: list | None = None,
             note: str | None = None) -> None:
    conn.execute(text("""
        INSERT INTO result_flag_history (flag_id, action, status, chosen_entry_id, detail,
                                         note, actor)
        VALUES (:f, :action, :status, :chosen, :detail, :note, :actor)""")
                 .bindparams(bindparam("detail", type_=JSONB)),
                 {"f": flag_id, "action": action, "status": status, "chosen": chosen,
                  "detail": detail or [], "note": note, "actor": actor})


def refresh(conn: Connection, *, election_id: int, contest_id: int, tps_id: int,
            new_entry: store.StoredEntry, actor: str) -> str | None:
    """Re-compare a TPS+contest after ``new_entry`` arrived; returns the flag's status."""
    flag = conn.execute(text("""
        SELECT id, status, chosen_entry_id FROM result_flag
        WHERE tps_id = :t AND contest_id = :c FOR UPDATE"""),
                        {"t": tps_id, "c": contest_id}).first()
    if flag is not None and flag.status == "resolved":
        chosen = store.get_entry(conn, flag.chosen_entry_id)
        if chosen is not None and chosen.numbers.comparable() == new_entry.numbers.comparable():
            return "resolved"  # the new entry confirms the supervisor's decision
    actives = store.active_entries(conn, contest_id, tps_id)
    differences = compare({e.agency: e.numbers for e in actives})
    agencies = sorted(e.agency for e in actives)
    if differences:
        params = {"t": tps_id, "c": contest_id, "e": election_id, "ag": agencies,
                  "d": differences}
        if flag is None:
            flag_id = conn.execute(text("""
                INSERT INTO result_flag (election_id, contest_id, tps_id, status, agencies,
                                         detail)
                VALUES (:e, :c, :t, 'open', :ag, :d) RETURNING id""")
                .bindparams(bindparam("ag", type_=JSONB), bindparam("d", type_=JSONB)),
                params).scalar_one()
            action = "opened"
        else:
            flag_id = flag.id
            conn.execute(text("""
                UPDATE result_flag SET status = 'open', agencies = :ag, detail = :d,
                       updated_at = now() WHERE id = :id""")
                         .bindparams(bindparam("ag", type_=JSONB), bindparam("d", type_=JSONB)),
                         {**params, "id": flag_id})
            action = "updated" if flag.status == "open" else "reopened"
        _history(conn, flag_id, action, "open", actor, detail=differences)
        return "open"
    if flag is not None and flag.status != "agreed":
        conn.execute(text("""
            UPDATE result_flag SET status = 'agreed', agencies = :ag, detail = '[]'::jsonb,
                   updated_at = now() WHERE id = :id""")
                     .bindparams(bindparam("ag", type_=JSONB)), {"ag": agencies, "id": flag.id})
        _history(conn, flag.id, "agreed", "agreed", actor,
                 note="angka semua instansi kini sama")
        return "agreed"
    return flag.status if flag is not None else None


def resolve(conn: Connection, flag_id: int, actor: store.Actor, rules: QuickCountRules, *,
            entry_id: str | None = None, corrected: Mapping | None = None,
            note: str | None = None) -> dict:
    """A supervisor decides which numbers count: one agency's entry or corrected numbers
    (checked by the same rules as any entry)."""
    election = contests.active_election(conn)
    election_id = election.id
    flag = conn.execute(text("""
        SELECT f.id, f.status, f.tps_id, f.contest_id, t.kode AS tps_kode
        FROM result_flag f JOIN tps t ON t.id = f.tps_id
        WHERE f.id = :id AND f.election_id = :e FOR UPDATE OF f"""),
                        {"id": flag_id, "e": election_id}).first()
    if flag is None:
        raise NotFound("Tanda beda angka tidak ditemukan.")
    if flag.status == "agreed":
        raise Conflict("Angka semua instansi sudah sama; tidak ada yang perlu diputuskan.",
                       field="flag")
    note = (note or "").strip()[:500] or None
    if (entry_id in (None, "")) == (corrected is None):
        raise InputRejected("Pilih salah satu: entri instansi yang dipakai, atau angka koreksi.",
                            field="entry_id")
    store.lock_tps_contest(conn, flag.contest_id, flag.tps_id)
    if entry_id not in (None, ""):
        chosen_id = _parse_uuid(entry_id, "entry_id")
        chosen = store.get_entry(conn, chosen_id)
        if (chosen is None or chosen.tps_id != flag.tps_id or chosen.status != "active"
                or chosen.contest_id != flag.contest_id):
            raise InputRejected("Entri yang dipilih bukan entri berlaku untuk TPS ini.",
                                field="entry_id")
        resolution = note or f"memakai angka {chosen.agency.upper()}"
    else:
        if not isinstance(corrected, Mapping):
            raise InputRejected("Angka koreksi harus berupa objek JSON.", field="corrected")
        found = [c for c in contests.list_contests(conn, election_id) if c.id == flag.contest_id]
        corrected = validate_numbers(corrected, found[0].nomors,
                                     rules.capacity(election.max_voters_per_tps))
        chosen_id = uuid.uuid4()
        digest = store.content_hash(agency=store.CORRECTION_AGENCY, contest_id=flag.contest_id,
                                    tps_id=flag.tps_id, numbers=corrected, photo_path=None)
        store.insert_entry(conn, entry_id=chosen_id, election_id=election_id,
                           contest_id=flag.contest_id, tps_id=flag.tps_id,
                           agency=store.CORRECTION_AGENCY, numbers=corrected, photo_path=None,
                           actor=actor, digest=digest, status="correction")
        resolution = note or "angka koreksi kepala desk"
    conn.execute(text("""
        UPDATE result_flag SET status = 'resolved', resolved_by = :by, resolved_at = now(),
               resolution = :res, chosen_entry_id = :chosen, updated_at = now()
        WHERE id = :id"""), {"by": actor.username, "res": resolution, "chosen": chosen_id,
                             "id": flag.id})
    _history(conn, flag.id, "resolved", "resolved", actor.username, chosen=chosen_id,
             note=resolution)
    audit.record(conn, actor.username, "quickcount.resolve", flag.tps_kode,
                 {"flag_id": flag.id, "chosen_entry_id": str(chosen_id),
                  "corrected": corrected is not None, "note": note})
    return {"flag_id": flag.id, "status": "resolved", "chosen_entry_id": str(chosen_id),
            "resolution": resolution}


def _parse_uuid(value, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InputRejected(f"{field} harus UUID", field=field) from None


def list_flags(conn: Connection, election_id: int, contest_id: int) -> list[dict]:
    """Flags with each agency's current entry, open ones first (for supervisors only)."""
    rows = conn.execute(text("""
        SELECT f.id, f.tps_id, t.kode AS tps_kode, t.kelurahan_kode, k.nama AS kelurahan_nama,
               f.status, f.agencies, f.detail, f.raised_at, f.updated_at, f.resolved_by,
               f.resolved_at, f.resolution, f.chosen_entry_id
        FROM result_flag f JOIN tps t ON t.id = f.tps_id
        JOIN kelurahan k ON k.kode = t.kelurahan_kode
        WHERE f.election_id = :e AND f.contest_id = :c
        ORDER BY f.status <> 'open', t.kode"""), {"e": election_id, "c": contest_id}).all()
    flags = []
    for r in rows:
        entries = store.active_entries(conn, contest_id, r.tps_id)
        chosen = store.get_entry(conn, r.chosen_entry_id) if r.chosen_entry_id else None
        history = conn.execute(text("""
            SELECT action, status, chosen_entry_id, note, actor, at FROM result_flag_history
            WHERE flag_id = :f ORDER BY id"""), {"f": r.id}).mappings().all()
        flags.append({
            "id": r.id, "tps_kode": r.tps_kode, "kelurahan_kode": r.kelurahan_kode,
            "kelurahan_nama": r.kelurahan_nama, "status": r.status, "agencies": r.agencies,
            "detail": r.detail, "raised_at": r.raised_at.isoformat(),
            "updated_at": r.updated_at.isoformat(), "resolved_by": r.resolved_by,
            "resolved_at": r.resolved_at.isoformat() if r.resolved_at else None,
            "resolution": r.resolution, "chosen": chosen.as_json() if chosen else None,
            "entries": [e.as_json() for e in entries],
            "history": [{**h, "chosen_entry_id": str(h["chosen_entry_id"])
                         if h["chosen_entry_id"] else None, "at": h["at"].isoformat()}
                        for h in history],
        })
    return flags
