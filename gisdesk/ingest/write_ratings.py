"""`gisdesk import ratings FILE --source S`: vulnerability ratings of TPS or kelurahan.

Classes and indicators are checked against the analysis rules (``rules.toml``: each source's
``class_map``; Bawaslu rates by indicators). The whole file is checked first; then all rows
go in, in one transaction, or none does.

Idempotency: a rating is identified by (election, source, target TPS or kelurahan, rated_on).
A file row for a key already stored with the same class, indicators, score and note changes
nothing; with different values it replaces the stored rating(s) of that key; a new key is
inserted. Ratings not named in the file are kept (a source's older dates stay as history).
The analysis recomputes the kelurahan of the rows that changed (a TPS's, or the rated
kelurahan with all its TPS), as after a single rating.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from sqlalchemy import Connection, Engine, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB

from gisdesk.analysis import Rules, changes, load_rules
from gisdesk.errors import Problem
from gisdesk.ingest.tabular import read_ratings, target_column
from gisdesk.ingest.write_bulk_entry import run_bulk
from gisdesk.ingest.write_common import ImportResult


def _values(kelas, indicators, score, note) -> tuple:
    return (kelas, tuple(sorted(indicators or ())),
            None if score is None else round(float(score), 6), note)


def _targets(conn: Connection, election_id: int, rows) -> tuple[dict, set]:
    tps_codes = sorted({r.values["kode"] for r in rows if r.values["target"] == "tps"})
    tps = dict(conn.execute(text(
        "SELECT kode, id FROM tps WHERE election_id = :e AND kode IN :k").bindparams(
        bindparam("k", expanding=True)), {"e": election_id, "k": tps_codes or [""]}).all())
    kel = set(conn.execute(text("SELECT kode FROM kelurahan")).scalars())
    return tps, kel


def _check(conn: Connection, election: dict, read, path_name: str):
    problems = list(read.problems)
    tps_ids, kelurahan = _targets(conn, election["id"], read.rows)
    col = target_column(read.columns)
    plan, seen = [], {}
    for row in read.rows:
        v = row.values
        if v["target"] == "tps":
            tps_id, kel = tps_ids.get(v["kode"]), None
            if tps_id is None:
                problems.append(Problem(row.row, col, "TPS tidak ada di pemilu aktif",
                                        value=v["kode"]))
                continue
        else:
            tps_id, kel = None, v["kode"]
            if kel not in kelurahan:
                problems.append(Problem(row.row, col, "kode kelurahan belum dimuat", value=kel))
                continue
        key = (v["source"], tps_id, kel, v["rated_on"])
        if key in seen:
            problems.append(Problem(row.row, col, f"sasaran, sumber dan tanggal sama dengan baris "
                                    f"{seen[key]}", value=v["kode"]))
            continue
        seen[key] = row.row
        plan.append((key, v))
    return plan, problems


def _write(conn: Connection, election: dict, plan, batch: int) -> dict:
    sources = sorted({key[0] for key, _ in plan})
    stored = defaultdict(list)
    for r in conn.execute(text("""
            SELECT id, source, tps_id, kelurahan_kode, rated_on, kelas, indicators, score, note
            FROM rating WHERE election_id = :e AND source IN :s ORDER BY id""").bindparams(
            bindparam("s", expanding=True)), {"e": election["id"], "s": sources or [""]}):
        stored[(r.source, r.tps_id, r.kelurahan_kode, r.rated_on)].append(r)
    inserts, delete, counts = [], [], {"inserted": 0, "updated": 0, "unchanged": 0}
    for key, v in plan:
        new = _values(v["kelas"], v["indicators"], v["score"], v["note"])
        old = stored.get(key, [])
        if len(old) == 1 and _values(old[0].kelas, old[0].indicators, old[0].score,
                                     old[0].note) == new:
            counts["unchanged"] += 1
            continue
        counts["updated" if old else "inserted"] += 1
        delete += [r.id for r in old]
        inserts.append({"e": election["id"], "source": key[0], "tps": key[1], "kel": key[2],
                        "on": key[3], "kelas": v["kelas"], "ind": list(v["indicators"]),
                        "score": v["score"], "note": v["note"], "batch": batch})
    if delete:
        conn.execute(text("DELETE FROM rating WHERE id IN :ids").bindparams(
            bindparam("ids", expanding=True)), {"ids": delete})
    if inserts:
        conn.execute(text("""
            INSERT INTO rating (election_id, source, tps_id, kelurahan_kode, kelas, indicators,
                                score, rated_on, note, import_id)
            VALUES (:e, :source, :tps, :kel, :kelas, :ind, :score, :on, :note, :batch)""")
            .bindparams(bindparam("ind", type_=JSONB)), inserts)
    changes.tps(conn, [r["tps"] for r in inserts if r["tps"] is not None], "import.ratings")
    changes.kelurahan(conn, election["id"], [r["kel"] for r in inserts if r["kel"]],
                      "import.ratings")
    return counts


def import_ratings(engine: Engine, path: str | Path, *, actor: str, source: str | None = None,
                   rules: Rules | None = None, dry_run: bool = False,
                   progress=lambda message: None) -> ImportResult:
    """Ratings of one source (``source``) or of the sources named in a 'sumber' column."""
    rules = rules or load_rules()
    path = Path(path)
    read = read_ratings(path, rules, source)
    return run_bulk(engine, path, kind="ratings", actor=actor,
                    check=lambda conn, e: _check(conn, e, read, path.name), write=_write,
                    options={"source": source}, dry_run=dry_run, queues_itself=True,
                    progress=progress)
