"""`gisdesk import personnel FILE`: personnel assignments (Polri, Linmas, TNI).

A row puts ``count`` people of an agency on a TPS, on a kelurahan, or in reserve ('cadangan':
the Polsek of the kecamatan given in kode_kecamatan, or Polresta for the city when none).

Idempotency: an assignment is identified by (election, agency, target, the TPS / kelurahan /
reserve kecamatan, unit). A row with a unit updates the assignment with that unit (compared
case-insensitively) or adds it; a row without a unit updates the one assignment of that key
whatever its unit, adds one when there is none, and is refused when several units share the
key (name the unit). The count (and a note, when given) is set, never added: re-importing the
same file changes nothing. Assignments the file does not name are kept; send 0 to empty one.
The analysis recomputes what the changed rows touch, as after a single assignment: a TPS's
or kelurahan's kelurahan; a reserve's kecamatan, or the kab/kota for Polresta.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from gisdesk.analysis import changes
from gisdesk.errors import Problem
from gisdesk.ingest.tabular import read_personnel, target_column
from gisdesk.ingest.write_bulk_entry import run_bulk
from gisdesk.ingest.write_common import ImportResult


def _norm_unit(unit: str | None) -> str:
    return " ".join((unit or "").lower().split())


def _places(conn: Connection, election_id: int) -> tuple[dict, dict, dict]:
    tps = {r.kode: r for r in conn.execute(text(
        "SELECT t.kode, t.id, t.kelurahan_kode, k.kecamatan_kode FROM tps t "
        "JOIN kelurahan k ON k.kode = t.kelurahan_kode WHERE t.election_id = :e"),
        {"e": election_id})}
    kel = dict(conn.execute(text("SELECT kode, kecamatan_kode FROM kelurahan")).all())
    kec = dict(conn.execute(text("SELECT kode, nama FROM kecamatan")).all())
    return tps, kel, kec


def _check(conn: Connection, election: dict, read):
    problems = list(read.problems)
    tps, kel, kec = _places(conn, election["id"])
    stored = defaultdict(list)
    for r in conn.execute(text("""
            SELECT id, agency, target, tps_id, kelurahan_kode, kecamatan_kode, unit, count, note
            FROM personnel_assignment WHERE election_id = :e ORDER BY id"""),
            {"e": election["id"]}):
        place = r.tps_id if r.target == "tps" else (
            r.kelurahan_kode if r.target == "kelurahan" else r.kecamatan_kode)
        stored[(r.agency, r.target, place)].append(r)
    col = target_column(read.columns)
    plan, seen = [], {}
    for row in read.rows:
        v = row.values
        target, kode = v["target"], v["kode"]
        if target == "tps":
            if kode not in tps:
                problems.append(Problem(row.row, col, "TPS tidak ada di pemilu aktif",
                                        value=kode))
                continue
            t = tps[kode]
            place, kel_kode, kec_kode = t.id, t.kelurahan_kode, t.kecamatan_kode
        elif target == "kelurahan":
            if kode not in kel:
                problems.append(Problem(row.row, col, "kode kelurahan belum dimuat", value=kode))
                continue
            place, kel_kode, kec_kode = kode, kode, kel[kode]
        else:
            if kode is not None and kode not in kec:
                problems.append(Problem(row.row, read.columns.get("kecamatan_kode", col),
                                        "kode kecamatan belum dimuat", value=kode))
                continue
            place, kel_kode, kec_kode = kode, None, kode
        key = (v["agency"], target, place)
        unit = _norm_unit(v["unit"])
        dup = [r for (k, u), r in seen.items() if k == key and (u == unit or not u or not unit)]
        if dup:
            problems.append(Problem(row.row, col, f"penugasan sama dengan baris {dup[0]}",
                                    value=kode or "cadangan Polresta"))
            continue
        seen[(key, unit)] = row.row
        candidates = [r for r in stored.get(key, []) if not unit or _norm_unit(r.unit) == unit]
        if not unit and len({_norm_unit(r.unit) for r in candidates}) > 1:
            units = ", ".join(sorted({r.unit or "-" for r in candidates}))
            problems.append(Problem(row.row, read.columns.get("unit", "unit"),
                                    f"beberapa penugasan untuk sasaran ini (satuan: {units}); "
                                    "isi satuannya", value=kode))
            continue
        if target == "reserve" and not v["unit"]:
            v = {**v, "unit": f"Polsek {kec[kode]}" if kode else "Polresta"}
        plan.append({"v": v, "tps_id": place if target == "tps" else None, "kel": kel_kode,
                     "kec": kec_kode, "stored": candidates})
    return plan, problems


def _write(conn: Connection, election: dict, plan, batch: int, actor: str) -> dict:
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    kelurahan, reserves = set(), set()          # what the changed rows touch
    for p in plan:
        v, old = p["v"], p["stored"]
        if old:
            first = old[0]
            note = v["note"] if v["note"] is not None else first.note
            if len(old) == 1 and (first.count, first.note) == (v["count"], note):
                counts["unchanged"] += 1
                continue
        if v["target"] == "reserve":
            reserves.add(p["kec"])              # None: the Polresta reserve
        else:
            kelurahan.add(p["kel"])
        if old:
            conn.execute(text("UPDATE personnel_assignment SET count = :c, note = :n "
                              "WHERE id = :id"), {"c": v["count"], "n": note, "id": first.id})
            for extra in old[1:]:     # one assignment per key: the file states its count
                conn.execute(text("DELETE FROM personnel_assignment WHERE id = :id"),
                             {"id": extra.id})
            counts["updated"] += 1
            continue
        conn.execute(text("""
            INSERT INTO personnel_assignment (election_id, agency, target, tps_id,
                kelurahan_kode, kecamatan_kode, unit, count, note, created_by)
            VALUES (:e, :agency, :target, :tps, :kel, :kec, :unit, :count, :note, :actor)"""),
            {"e": election["id"], "agency": v["agency"], "target": v["target"],
             "tps": p["tps_id"], "kel": p["kel"], "kec": p["kec"], "unit": v["unit"],
             "count": v["count"], "note": v["note"], "actor": actor})
        counts["inserted"] += 1
    changes.kelurahan(conn, election["id"], kelurahan, "import.personnel")
    for kec in sorted(reserves, key=lambda k: k or ""):
        changes.personnel(conn, election["id"], target="reserve", kelurahan_kode=None,
                          kecamatan_kode=kec, tps_id=None, reason="import.personnel")
    return counts


def import_personnel(engine: Engine, path: str | Path, *, actor: str, dry_run: bool = False,
                     progress=lambda message: None) -> ImportResult:
    path = Path(path)
    read = read_personnel(path)
    return run_bulk(engine, path, kind="personnel", actor=actor,
                    check=lambda conn, e: _check(conn, e, read),
                    write=lambda conn, e, plan, batch: _write(conn, e, plan, batch, actor),
                    dry_run=dry_run, queues_itself=True, progress=progress)
