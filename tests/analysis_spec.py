"""The analysis rules run as their Python specification, stored like refresh() stores them.

The pure rules (risk.effective_classes, requirement, gap.gaps, suggest.suggest) are the
readable specification; ``refresh`` (set-based SQL, per-kab/kota plan) is the one
implementation the app runs. ``spec_recompute`` loads the inputs with plain queries, runs the
specification per TPS in Python, plans per kab/kota, and writes tps_risk / kelurahan_gap /
suggestion / analysis_run in the caller's transaction, so tests compare the two row by row.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pandas as pd
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB

from gisdesk.analysis import (Assignment, NearbyIncident, Rating, Rules, SuggestContext,
                              TpsInput, effective_classes, gaps, load_rules, pattern_in_force,
                              requirement, suggest)
from gisdesk.analysis.election import (AnalysisResult, active_election, as_of_for,
                                       election_row, pattern_sets)
from gisdesk.analysis.gap import GapTable
from gisdesk.analysis.plan import DONOR_RADIUS_M, write_suggestions
from gisdesk.analysis.risk import highest, latest_per_source


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
    """kelurahan_kode -> the highest class its own ratings give at as_of (kelas_kelurahan)."""
    out = {}
    for kode, given in ratings.items():
        classes = [k for k, _ in latest_per_source(given, rules, as_of).values()
                   if k not in rules.special_classes]
        if classes:
            out[kode] = highest(classes, rules)
    return out


def _incidents_near(conn: Connection, election_id: int, rules: Rules,
                    as_of: dt.datetime) -> dict[str, list[NearbyIncident]]:
    """Incidents within the radius of each TPS by a plain ST_DWithin (the rules re-check)."""
    esc = rules.escalation
    if not esc.enabled:
        return {}
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


def _assignments(conn: Connection, election_id: int) -> list[Assignment]:
    rows = conn.execute(text("""
        SELECT a.agency, a.count, a.target,
               CASE a.target WHEN 'tps' THEN t.kode WHEN 'kelurahan' THEN a.kelurahan_kode
                             ELSE a.kecamatan_kode END AS kode
        FROM personnel_assignment a LEFT JOIN tps t ON t.id = a.tps_id
        WHERE a.election_id = :e"""), {"e": election_id})
    return [Assignment(r.agency, int(r.count), r.target, r.kode) for r in rows]


def _distances(conn: Connection, election_id: int) -> pd.DataFrame:
    """Every pair of kelurahan with TPS within the donor radius (no index, no pruning)."""
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


def spec_recompute(conn: Connection, election_id: int | None = None, *,
                   as_of: dt.datetime | None = None, rules: Rules | None = None) -> AnalysisResult:
    """The whole election by the Python specification, stored as refresh() stores it."""
    election = active_election(conn) if election_id is None else election_row(conn, election_id)
    eid = election["id"]
    rules = rules or load_rules()
    as_of = as_of_for(election, as_of)
    tps = _tps_inputs(conn, eid)
    kel_ratings = _kelurahan_ratings(conn, eid)
    risks = effective_classes(tps, kel_ratings, _incidents_near(conn, eid, rules, as_of),
                              rules, as_of)
    sets = pattern_sets(conn, eid, rules)
    in_force = pattern_in_force([ps for _, ps in sets], as_of)
    set_id = next((sid for sid, ps in sets if ps is in_force), None)
    table = gaps(requirement(risks, in_force), _assignments(conn, eid), rules)
    not_ready = _not_ready(conn, eid)
    plans = plan_per_kabkota(conn, eid, table, _distances(conn, eid), rules,
                             SuggestContext(risks, not_ready))
    _write(conn, eid, as_of, set_id, risks, table, plans, not_ready,
           _kelurahan_classes(kel_ratings, rules, as_of))
    return AnalysisResult(eid, as_of, in_force.name, len(risks),
                          sum(len(a) for _, a in plans))


def plan_per_kabkota(conn, eid, table: GapTable, distances: pd.DataFrame, rules: Rules,
                     context: SuggestContext) -> list[tuple[str, list]]:
    """suggest() once per kab/kota over its kelurahan, its Polsek reserves and its Polresta."""
    kel = table.kelurahan
    polresta = _polresta(conn, eid, set(kel["kelurahan_kode"].str[:5]))
    plans = []
    for kab in sorted({k[:5] for k in kel["kelurahan_kode"]}):
        mine = kel[kel["kelurahan_kode"].str[:5] == kab].reset_index(drop=True)
        res = table.reserves
        keep = pd.Series([(k[:5] == kab) if isinstance(k, str) else (polresta == kab)
                          for k in res["kecamatan_kode"]], index=res.index, dtype=bool)
        near = distances[(distances["from"].str[:5] == kab) & (distances["to"].str[:5] == kab)]
        sub = GapTable(table.classes, mine, table.kecamatan, table.city,
                       res[keep].reset_index(drop=True))
        advice = suggest(sub, near, rules, context)
        if advice:
            plans.append((kab, advice))
    return plans


def _polresta(conn, eid, kabs: set[str]) -> str | None:
    """The Polresta reserve (no kecamatan) is the kab/kota's the election names, else the
    only kab/kota's; with several and none named it goes to no plan."""
    wilayah = election_row(conn, eid)["wilayah_kode"]
    if wilayah and len(wilayah) >= 5:
        return wilayah[:5]
    return next(iter(kabs)) if len(kabs) == 1 else None


def _write(conn, eid, as_of, set_id, risks, table, plans, not_ready, kel_classes) -> None:
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
    incidents_by_kel: dict[str, set[str]] = defaultdict(set)
    escalated: dict[str, int] = defaultdict(int)
    disagree: dict[str, int] = defaultdict(int)
    for r in risks:
        incidents_by_kel[r.kelurahan_kode].update(r.incident_ids)
        escalated[r.kelurahan_kode] += r.escalated
        disagree[r.kelurahan_kode] += r.disagree
    advice = [s for _, plan in plans for s in plan]
    rows = []
    for row in table.kelurahan.to_dict("records"):
        code = row["kelurahan_kode"]
        n_by = {c: int(row.get(f"n_{c}", 0)) for c in table.classes if int(row.get(f"n_{c}", 0))}
        rows.append({
            "e": eid, "kel": code, "kec": row["kecamatan_kode"], "n": int(row["n_tps"]),
            "n_by": n_by, "pr": int(row["polri_required"]), "lr": int(row["linmas_required"]),
            "pa": int(row["polri_assigned"]), "la": int(row["linmas_assigned"]),
            "ta": int(row.get("tni_assigned", 0)), "pg": int(row["polri_gap"]),
            "lg": int(row["linmas_gap"]), "nr": int(not_ready.get(code, 0)),
            "ir": len(incidents_by_kel.get(code, ())), "ne": escalated.get(code, 0),
            "nd": disagree.get(code, 0),
            "reasons": next((list(s.reasons) for s in advice
                             if s.kelurahan_kode == code and s.agency == "polri"), [])})
    if rows:
        conn.execute(json_params(text("""
            INSERT INTO kelurahan_gap (election_id, kelurahan_kode, kecamatan_kode, n_tps,
              n_by_class, polri_required, linmas_required, polri_assigned, linmas_assigned,
              tni_assigned, polri_gap, linmas_gap, not_ready, incidents_recent, reasons,
              n_escalated, n_disagree)
            VALUES (:e, :kel, :kec, :n, :n_by, :pr, :lr, :pa, :la, :ta, :pg, :lg, :nr, :ir,
                    :reasons, :ne, :nd)"""), "n_by", "reasons"), rows)
    write_suggestions(conn, eid, plans)
    conn.execute(text("""
        INSERT INTO analysis_run (election_id, as_of, pattern_set_id, computed_at)
        VALUES (:e, :a, :s, clock_timestamp())
        ON CONFLICT (election_id) DO UPDATE SET as_of = EXCLUDED.as_of,
          pattern_set_id = EXCLUDED.pattern_set_id, computed_at = EXCLUDED.computed_at,
          version = nextval('analysis_version_seq')"""),
        {"e": eid, "a": as_of, "s": set_id})
