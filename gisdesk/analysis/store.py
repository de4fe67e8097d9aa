"""Analysis against the database: load inputs with PostGIS, run the rules, store the results.

The map, tables, API, exports and `gisdesk suggest` all read tps_risk / kelurahan_gap /
suggestion, so they always show the same numbers. Only the analysis worker and commands
recompute them (through gisdesk.analysis.refresh, after writes queued by
gisdesk.analysis.changes); readers never do.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB

from gisdesk.analysis import (Assignment, NearbyIncident, PatternSet, Rating, Rules, SuggestContext,
                              TpsInput, effective_classes, gaps, load_rules, pattern_in_force,
                              requirement, suggest)
from gisdesk.analysis.risk import highest, latest_per_source
from gisdesk.analysis.suggest import move_text
from gisdesk.errors import NotFound

LOGGER = logging.getLogger(__name__)
# kelurahan further apart than this are not considered as donors of each other
DONOR_RADIUS_M = 25_000
# recompute(method="auto") uses the set-based SQL path above this many TPS
SQL_MIN_TPS = 20_000


@dataclass(frozen=True)
class AnalysisResult:
    election_id: int
    as_of: dt.datetime
    pattern_set: str
    n_tps: int
    n_suggestions: int


def active_election(conn: Connection) -> dict:
    row = conn.execute(text("SELECT * FROM election WHERE active")).mappings().first()
    if row is None:
        raise NotFound("Belum ada pemilu aktif. Jalankan `gisdesk demo` atau impor data TPS.")
    return dict(row)


def _election(conn: Connection, election_id: int) -> dict:
    row = conn.execute(text("SELECT * FROM election WHERE id = :e"),
                       {"e": election_id}).mappings().first()
    if row is None:
        raise NotFound(f"Pemilu {election_id} tidak ada.")
    return dict(row)


def as_of_for(election: dict, as_of: dt.datetime | None = None) -> dt.datetime:
    if as_of is not None:
        return as_of
    return election.get("pinned_as_of") or dt.datetime.now(dt.timezone.utc)


def _tps_inputs(conn: Connection, election_id: int) -> list[TpsInput]:
    ratings: dict[str, list[Rating]] = {}
    for r in conn.execute(text("""
            SELECT t.kode, r.source, r.kelas, r.indicators, r.rated_on
            FROM rating r JOIN tps t ON t.id = r.tps_id
            WHERE r.election_id = :e"""), {"e": election_id}):
        ratings.setdefault(r.kode, []).append(
            Rating(r.source, r.rated_on, r.kelas, tuple(r.indicators) or None))
    rows = conn.execute(text("""
        SELECT t.kode, t.kelurahan_kode, k.kecamatan_kode
        FROM tps t JOIN kelurahan k ON k.kode = t.kelurahan_kode
        WHERE t.election_id = :e ORDER BY t.kode"""), {"e": election_id})
    return [TpsInput(r.kode, r.kelurahan_kode, r.kecamatan_kode, tuple(ratings.get(r.kode, ())))
            for r in rows]


def _kelurahan_ratings(conn: Connection, election_id: int) -> dict[str, list[Rating]]:
    out: dict[str, list[Rating]] = {}
    for r in conn.execute(text("""
            SELECT kelurahan_kode, source, kelas, indicators, rated_on FROM rating
            WHERE election_id = :e AND kelurahan_kode IS NOT NULL"""), {"e": election_id}):
        out.setdefault(r.kelurahan_kode, []).append(
            Rating(r.source, r.rated_on, r.kelas, tuple(r.indicators) or None))
    return out


def _kelurahan_classes(ratings: dict[str, list[Rating]], rules: Rules,
                       as_of: dt.datetime) -> dict[str, str]:
    """kelurahan_kode -> the highest class its own ratings give at as_of (kelas_kelurahan).
    A special class (khusus) names a TPS location, not an area: ignored here as in the rules."""
    out = {}
    for kode, given in ratings.items():
        classes = [k for k, _ in latest_per_source(given, rules, as_of).values()
                   if k not in rules.special_classes]
        if classes:
            out[kode] = highest(classes, rules)
    return out


def _incidents_near(conn: Connection, election_id: int, rules: Rules,
                    as_of: dt.datetime) -> dict[str, list[NearbyIncident]]:
    esc = rules.escalation
    if not esc.enabled:
        return {}
    # The window and radius are applied here with an index (1 mm wider: ST_DWithin on
    # geography is false at exactly the radius, which the rules count); the rules re-check.
    rows = conn.execute(text("""
        SELECT t.kode, i.id, i.occurred_at, i.severity, i.category, i.status,
               ST_Distance(i.geom::geography, t.geom::geography) AS distance_m
        FROM incident i
        JOIN tps t ON t.election_id = i.election_id
              AND ST_DWithin(i.geom::geography, t.geom::geography, :radius + 0.001)
        WHERE i.election_id = :e AND i.status IN :statuses
          AND i.occurred_at <= :as_of AND i.occurred_at >= :since""")
        .bindparams(bindparam("statuses", expanding=True)),
        {"e": election_id, "radius": esc.radius_m, "statuses": sorted(esc.statuses),
         "as_of": as_of, "since": as_of - dt.timedelta(hours=esc.window_hours)})
    out: dict[str, list[NearbyIncident]] = {}
    for r in rows:
        out.setdefault(r.kode, []).append(NearbyIncident(
            str(r.id), r.occurred_at, r.severity, float(r.distance_m),
            r.category.replace("_", " "), r.status))
    return out


def pattern_sets(conn: Connection, election_id: int, rules: Rules) -> list[tuple[int | None, PatternSet]]:
    """Versioned patterns from the database (election's own first, then global ones)."""
    rows = conn.execute(text("""
        SELECT s.id, s.nama, s.effective_from, p.kelas, p.polri, p.per_tps, p.linmas
        FROM security_pattern_set s JOIN security_pattern p ON p.set_id = s.id
        WHERE s.election_id = :e OR s.election_id IS NULL
        ORDER BY s.election_id NULLS LAST, s.effective_from"""), {"e": election_id}).all()
    sets: dict[int, tuple[str, dt.datetime, dict]] = {}
    for r in rows:
        sets.setdefault(r.id, (r.nama, r.effective_from, {}))[2][r.kelas] = (r.polri, r.per_tps, r.linmas)
    found = [(sid, PatternSet.build(n, eff, pats)) for sid, (n, eff, pats) in sets.items()]
    return found or [(None, ps) for ps in getattr(rules, "pattern_sets", ())]


def _assignments(conn: Connection, election_id: int) -> list[Assignment]:
    rows = conn.execute(text("""
        SELECT a.agency, a.count, a.target,
               CASE a.target WHEN 'tps' THEN t.kode WHEN 'kelurahan' THEN a.kelurahan_kode
                             ELSE a.kecamatan_kode END AS kode
        FROM personnel_assignment a LEFT JOIN tps t ON t.id = a.tps_id
        WHERE a.election_id = :e"""), {"e": election_id})
    return [Assignment(r.agency, int(r.count), r.target, r.kode) for r in rows]


def _distances(conn: Connection, election_id: int) -> pd.DataFrame:
    rows = conn.execute(text("""
        WITH kel AS (
          SELECT DISTINCT k.kode, ST_PointOnSurface(k.geom)::geography AS g
          FROM kelurahan k JOIN tps t ON t.kelurahan_kode = k.kode AND t.election_id = :e)
        SELECT a.kode, b.kode, ST_Distance(a.g, b.g)
        FROM kel a JOIN kel b ON a.kode < b.kode AND ST_DWithin(a.g, b.g, :r)"""),
        {"e": election_id, "r": DONOR_RADIUS_M}).all()
    return pd.DataFrame(rows, columns=["from", "to", "metres"])


def _not_ready(conn: Connection, election_id: int) -> dict[str, int]:
    return {r[0]: int(r[1]) for r in conn.execute(text("""
        SELECT t.kelurahan_kode, count(*) FROM tps t JOIN tps_readiness r ON r.tps_id = t.id
        WHERE t.election_id = :e AND r.state <> 'siap' GROUP BY 1"""), {"e": election_id})}


def recompute(conn: Connection, election_id: int | None = None, *,
              as_of: dt.datetime | None = None, rules: Rules | None = None,
              method: str = "auto") -> AnalysisResult:
    """Recompute effective classes, gaps and suggestions for one election, in the caller's
    transaction (readers see the old results until it commits).

    ``method``: "python" (the rules in Python, per TPS), "sql" (the same results with
    set-based SQL, gisdesk.analysis.sql_recompute) or "auto" (SQL above SQL_MIN_TPS TPS)."""
    if method not in ("auto", "python", "sql"):
        raise ValueError(f"method must be auto, python or sql, not {method!r}")
    election = active_election(conn) if election_id is None else _election(conn, election_id)
    eid = election["id"]
    if method == "sql" or (method == "auto" and conn.execute(
            text("SELECT count(*) FROM tps WHERE election_id = :e"), {"e": eid}).scalar()
            > SQL_MIN_TPS):
        from gisdesk.analysis.sql_recompute import recompute_sql
        return recompute_sql(conn, eid, as_of, rules)
    rules = rules or load_rules()
    as_of = as_of_for(election, as_of)
    # one recompute at a time per election; others wait and then find fresh results
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('gisdesk.analysis'), :e)"), {"e": eid})

    tps = _tps_inputs(conn, eid)
    near = _incidents_near(conn, eid, rules, as_of)
    kel_ratings = _kelurahan_ratings(conn, eid)
    risks = effective_classes(tps, kel_ratings, near, rules, as_of)
    kel_classes = _kelurahan_classes(kel_ratings, rules, as_of)
    sets = pattern_sets(conn, eid, rules)
    in_force = pattern_in_force([ps for _, ps in sets], as_of)
    set_id = next((sid for sid, ps in sets if ps is in_force), None)
    req = requirement(risks, in_force)
    table = gaps(req, _assignments(conn, eid), rules)
    not_ready = _not_ready(conn, eid)
    advice = suggest(table, _distances(conn, eid), rules, SuggestContext(risks, not_ready))
    _write(conn, eid, as_of, set_id, risks, table, advice, not_ready, kel_classes)
    return AnalysisResult(eid, as_of, in_force.name, len(risks), len(advice))


def _write(conn, eid, as_of, set_id, risks, table, advice, not_ready, kel_classes) -> None:
    ids = dict(conn.execute(text("SELECT kode, id FROM tps WHERE election_id = :e"), {"e": eid}).all())
    for t in ("tps_risk", "kelurahan_gap", "suggestion"):
        conn.execute(text(f"DELETE FROM {t} WHERE election_id = :e"), {"e": eid})
    json_params = lambda stmt, *names: stmt.bindparams(*(bindparam(n, type_=JSONB) for n in names))
    if risks:
        conn.execute(json_params(text("""
            INSERT INTO tps_risk (tps_id, election_id, kelas, kelas_polri, kelas_kpu,
                                  kelas_bawaslu, kelas_kelurahan, escalated, disagree, reasons)
            VALUES (:tps_id, :e, :kelas, :polri, :kpu, :bawaslu, :kel, :escalated, :disagree,
                    :reasons)"""), "reasons"),
            [{"tps_id": ids[r.tps_kode], "e": eid, "kelas": r.kelas,
              "polri": r.source_classes.get("polri"), "kpu": r.source_classes.get("kpu"),
              "bawaslu": r.source_classes.get("bawaslu"),
              "kel": kel_classes.get(r.kelurahan_kode),
              "escalated": r.escalated, "disagree": r.disagree, "reasons": list(r.reasons)}
             for r in risks])
    incidents_by_kel: dict[str, set[str]] = {}
    for r in risks:
        incidents_by_kel.setdefault(r.kelurahan_kode, set()).update(r.incident_ids)
    kel = table.kelurahan
    classes = list(table.classes)
    rows = []
    for row in kel.to_dict("records"):
        code = row["kelurahan_kode"]
        n_by = {c: int(row.get(f"n_{c}", 0)) for c in classes if int(row.get(f"n_{c}", 0))}
        rows.append({
            "e": eid, "kel": code, "kec": row["kecamatan_kode"], "n": int(row["n_tps"]),
            "n_by": n_by, "pr": int(row["polri_required"]), "lr": int(row["linmas_required"]),
            "pa": int(row["polri_assigned"]), "la": int(row["linmas_assigned"]),
            "ta": int(row.get("tni_assigned", 0)), "pg": int(row["polri_gap"]),
            "lg": int(row["linmas_gap"]), "nr": int(not_ready.get(code, 0)),
            "ir": len(incidents_by_kel.get(code, ())),
            "reasons": next((list(s.reasons) for s in advice
                             if s.kelurahan_kode == code and s.agency == "polri"), [])})
    if rows:
        conn.execute(json_params(text("""
            INSERT INTO kelurahan_gap (election_id, kelurahan_kode, kecamatan_kode, n_tps,
              n_by_class, polri_required, linmas_required, polri_assigned, linmas_assigned,
              tni_assigned, polri_gap, linmas_gap, not_ready, incidents_recent, reasons)
            VALUES (:e, :kel, :kec, :n, :n_by, :pr, :lr, :pa, :la, :ta, :pg, :lg, :nr, :ir,
                    :reasons)"""), "n_by", "reasons"), rows)
    write_suggestions(conn, eid, advice)
    conn.execute(text("""
        INSERT INTO analysis_run (election_id, as_of, pattern_set_id, computed_at)
        VALUES (:e, :a, :s, clock_timestamp())
        ON CONFLICT (election_id) DO UPDATE SET as_of = EXCLUDED.as_of,
          pattern_set_id = EXCLUDED.pattern_set_id, computed_at = EXCLUDED.computed_at,
          version = nextval('analysis_version_seq')"""),
        {"e": eid, "a": as_of, "s": set_id})


def write_suggestions(conn: Connection, eid: int, advice) -> None:
    """Store suggestions one row per move, with the move said in words (names looked up once)."""
    codes = {s.kelurahan_kode for s in advice} | {m.kode for s in advice for m in s.moves if m.kode}
    names = dict(conn.execute(text("""
        SELECT kode, nama FROM kelurahan WHERE kode = ANY(:c)
        UNION ALL SELECT kode, nama FROM kecamatan WHERE kode = ANY(:c)"""),
        {"c": sorted(codes)}).all())
    kec_names = {k: v for k, v in names.items() if k.count(".") == 2}
    moves = []
    for rank, s in enumerate(advice, start=1):
        for m in s.moves:
            unit = (f"Polsek {kec_names.get(m.kode, m.kode)}" if m.source == "polsek_reserve"
                    else "Polresta" if m.source == "polresta_reserve" else None)
            moves.append({
                "e": eid, "rank": rank, "kel": s.kelurahan_kode, "agency": s.agency,
                "count": m.count, "kind": m.source,
                "from_kel": m.kode if m.source == "kelurahan" else None, "unit": unit,
                "d": m.distance_m, "req": s.required, "ass": s.assigned, "gap": s.gap,
                "text": move_text(m, s.agency, names), "reasons": list(s.reasons)})
    if moves:
        conn.execute(text("""
            INSERT INTO suggestion (election_id, rank, kelurahan_kode, agency, count, from_kind,
              from_kelurahan_kode, from_unit, distance_m, required, assigned, gap, move_text,
              reasons)
            VALUES (:e, :rank, :kel, :agency, :count, :kind, :from_kel, :unit, :d, :req, :ass,
                    :gap, :text, :reasons)""").bindparams(bindparam("reasons", type_=JSONB)),
            moves)

