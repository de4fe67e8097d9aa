"""The analysis recompute as set-based SQL: the same tps_risk / kelurahan_gap / suggestion
rows as ``store.recompute``'s Python path, without a Python loop over TPS.

What stays in Python is small and keyed by *values*, not rows: the distinct rating values
(source, class word, indicator list) are classified with the rules' own ``map_rating``
(so words, indicators and their descriptions are exactly the Python ones), the pattern set
in force is chosen with ``store.pattern_sets`` / ``pattern_in_force``, and the suggestions are
made from the kelurahan with a non-zero gap by ``_suggest``: suggest.suggest's greedy walk
(same order, same results, its own reason helpers) over per-kelurahan donor lists.

Everything per TPS runs in PostgreSQL, in the caller's transaction:

1. latest rating per (TPS, source) and per (kelurahan, source) with DISTINCT ON (a plain date
   is the start of that day in rules.timezone; same day: the higher class wins);
2. counted incidents per TPS: status, severity, window [as_of - window_hours, as_of] and
   ST_Distance(geography) <= radius_m, found through the GiST index on tps.geom with a
   bounding box a little wider than the radius (both ends inclusive, as rules.toml says;
   see _incidents for the one place this differs from store._incidents_near);
3. effective class = highest of the TPS's sources and its kelurahan's (special classes such
   as khusus outrank the scale, are ignored at kelurahan level and never escalated), raised
   ``steps`` classes (at most max_class) when an incident counts; reasons as in risk.py;
4. INSERT ... SELECT into tps_risk, and in the same statement the counts per kelurahan and
   class; requirement a*ceil(n/b), ceil(c*n/b) per kelurahan and class; assigned from
   personnel_assignment (TPS targets count toward their kelurahan, reserves excluded);
   INSERT ... SELECT into kelurahan_gap.

tps_risk and kelurahan_gap are written as upserts that skip unchanged rows (a recompute
mostly changes the rows a moving window touches; fresh rows cost foreign-key checks).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import String

from gisdesk.analysis.gap import GapTable
from gisdesk.analysis.risk import Rating, map_rating
from gisdesk.analysis.rules import Rules, load_rules, pattern_in_force
from gisdesk.analysis.suggest import SuggestContext, suggest
from gisdesk.errors import InputRejected

LOGGER = logging.getLogger(__name__)
# the per-TPS sorts and hashes (1-2 rows per TPS and source) fit in memory at national scale
WORK_MEM = "256MB"
_TEMP = ("_gd_map", "_gd_src", "_gd_pat", "_gd_sev", "_gd_kel", "_gd_near", "_gd_inc",
         "_gd_kc")


@dataclass(frozen=True)
class _KelurahanFacts:
    """What ``suggest`` reads from tps_risks for its reasons, summed per kelurahan (duck-types
    TpsRisk there: incident ids, and escalated / disagree as counts of TPS)."""

    kelurahan_kode: str
    incident_ids: tuple[str, ...]
    escalated: int
    disagree: int


def recompute_sql(conn: Connection, election_id: int | None = None,
                  as_of: dt.datetime | None = None, rules: Rules | None = None, *,
                  timings: dict | None = None):
    """Recompute tps_risk, kelurahan_gap, suggestion and analysis_run for one election with
    set-based SQL, in the caller's transaction. Same arguments and result as
    ``store.recompute`` (``store.AnalysisResult``). ``timings``, when given, receives the
    seconds spent per stage."""
    from gisdesk.analysis import store          # store dispatches here: import late

    clock = _Clock(timings)
    election = (store.active_election(conn) if election_id is None
                else store._election(conn, election_id))
    eid = election["id"]
    rules = rules or load_rules()
    as_of = store.as_of_for(election, as_of)
    if as_of.tzinfo is None:
        raise InputRejected("as_of harus waktu dengan zona waktu", field="as_of")
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('gisdesk.analysis'), :e)"), {"e": eid})
    sets = store.pattern_sets(conn, eid, rules)
    in_force = pattern_in_force([ps for _, ps in sets], as_of)
    set_id = next((sid for sid, ps in sets if ps is in_force), None)

    old = conn.execute(text("SELECT current_setting('work_mem'), current_setting('jit')")).one()
    conn.execute(text("SELECT set_config('work_mem', :w, true), set_config('jit', 'off', true)"),
                 {"w": WORK_MEM})
    _drop_temp(conn)
    p = _params(rules, eid, as_of)
    _rule_tables(conn, rules, in_force, p)
    clock("rules")
    _incidents(conn, p)
    clock("incidents")
    _kelurahan_ratings(conn, p)
    clock("kelurahan_ratings")
    # as the Python path: a rule that fails (a class without a pattern) leaves the old results
    with conn.begin_nested():
        # tps_risk and kelurahan_gap are upserted: a row that did not change is not written
        # (and a fresh row pays the foreign-key checks only once); suggestions are replaced
        conn.execute(text("DELETE FROM suggestion WHERE election_id = :e"), {"e": eid})
        clock("delete")
        n_tps = _tps_risk(conn, p)
        clock("tps_risk")
        _check_patterns(conn, rules, in_force)
        _kelurahan_gap(conn, rules, p)
        clock("kelurahan_gap")
        n_advice = _suggestions(conn, rules, in_force, p)
        clock("suggestions")
        conn.execute(text("""
            INSERT INTO analysis_run (election_id, as_of, pattern_set_id, computed_at)
            VALUES (:e, :a, :s, clock_timestamp())
            ON CONFLICT (election_id) DO UPDATE SET as_of = EXCLUDED.as_of,
              pattern_set_id = EXCLUDED.pattern_set_id, computed_at = EXCLUDED.computed_at,
          version = nextval('analysis_version_seq')"""),
            {"e": eid, "a": as_of, "s": set_id})
    _drop_temp(conn)
    conn.execute(text("SELECT set_config('work_mem', :w, true), set_config('jit', :j, true)"),
                 {"w": old[0], "j": old[1]})
    return store.AnalysisResult(eid, as_of, in_force.name, n_tps, n_advice)


class _Clock:
    def __init__(self, out: dict | None):
        self.out, self.t = out, time.perf_counter()

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        if self.out is not None:
            self.out[stage] = self.out.get(stage, 0.0) + now - self.t
        self.t = now


def _drop_temp(conn: Connection) -> None:
    conn.execute(text(f"DROP TABLE IF EXISTS {', '.join(_TEMP)}"))


def _params(rules: Rules, eid: int, as_of: dt.datetime) -> dict:
    esc = rules.escalation
    names = list(rules.classes)                      # index = rank (special classes last)
    return {
        "e": eid, "as_of": as_of,
        # a rating dated d counts from 00:00 of d in rules.timezone: d <= local date of as_of
        "cutoff": as_of.astimezone(rules.timezone).date(),
        "since": as_of - dt.timedelta(hours=esc.window_hours),
        "radius": float(esc.radius_m), "statuses": sorted(esc.statuses),
        "min_sev": rules.severity_rank(esc.min_severity),
        "steps": int(esc.steps), "top": rules.rank(esc.max_class),
        "n_order": len(rules.class_order), "default_rk": rules.rank(rules.default_class),
        "names": names, "labels": [rules.label(k) for k in names],
        "escalation": bool(esc.enabled),
    }


def _temp_from_rows(conn: Connection, name: str, columns: str, rows: list[dict]) -> None:
    """A small temporary table from Python rows (one round trip, typed by ``columns``)."""
    conn.execute(text(f"CREATE TEMP TABLE {name} ON COMMIT DROP AS "
                      f"SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x({columns})"),
                 {"rows": json.dumps(rows)})
    conn.execute(text(f"ANALYZE {name}"))


def _rule_tables(conn: Connection, rules: Rules, in_force, p: dict) -> None:
    """Sources, patterns, severities and the distinct rating values, classified by the rules."""
    order = list(rules.sources)
    _temp_from_rows(conn, "_gd_src", "source text, ord int, label text",
                    [{"source": s, "ord": i, "label": rules.sources[s].label}
                     for i, s in enumerate(order)])
    _temp_from_rows(conn, "_gd_pat", "rk int, a int, b int, c int",
                    [{"rk": rules.rank(k), "a": pt.polri, "b": pt.tps, "c": pt.linmas}
                     for k, pt in in_force.patterns.items() if k in rules.classes])
    # Every distinct (source, class word, indicator list) given at or before as_of, mapped
    # with the rules' own map_rating: class rank and the description used in the reasons.
    values = conn.execute(text("""
        SELECT DISTINCT source, kelas, indicators FROM rating
        WHERE election_id = :e AND rated_on <= :cutoff"""), p).all()
    mapped = []
    for source, kelas, indicators in values:
        k, desc = map_rating(Rating(source, p["cutoff"], kelas, tuple(indicators) or None), rules)
        mapped.append({"source": source, "kelas": kelas or "", "indicators": indicators,
                       "rk": rules.rank(k), "txt": desc})
    _temp_from_rows(conn, "_gd_map", "source text, kelas text, indicators jsonb, rk int, txt text",
                    mapped)
    sev = []
    for (s,) in conn.execute(text("SELECT DISTINCT severity FROM incident WHERE election_id = :e"),
                             p):
        rank = rules.severity_rank(s)
        if rank is None and p["escalation"]:
            raise InputRejected(f"tingkat kejadian tidak dikenal: {s!r}", field="severity")
        sev.append({"severity": s, "rk": rank, "name": rules.severity_name(s)})
    _temp_from_rows(conn, "_gd_sev", "severity text, rk int, name text", sev)


# A rating row joined to its classification.
_RATED = """
    rating r JOIN _gd_map m ON m.source = r.source AND m.kelas = coalesce(r.kelas, '')
                           AND m.indicators = r.indicators"""


def _kelurahan_ratings(conn: Connection, p: dict) -> None:
    """Per kelurahan: the highest non-special class of its sources' latest ratings (rk) and
    the reasons every TPS of the kelurahan inherits (risk._kelurahan_reasons)."""
    conn.execute(_sql(f"""
        CREATE TEMP TABLE _gd_kel ON COMMIT DROP AS
        SELECT o.kelurahan_kode,
               max(o.rk) FILTER (WHERE o.rk < :n_order) AS rk,
               array_agg('Kelurahan dinilai ' || (:labels)[o.rk + 1] || ' oleh ' || s.label
                         || CASE WHEN o.rk >= :n_order
                                 THEN ': kelas ini hanya berlaku per TPS, diabaikan'
                                 WHEN strpos(o.txt, 'indikator') > 0 THEN ' (' || o.txt || ')'
                                 ELSE '' END
                         ORDER BY s.ord) AS reasons
        FROM (SELECT DISTINCT ON (r.kelurahan_kode, r.source)
                     r.kelurahan_kode, r.source, m.rk, m.txt
              FROM {_RATED}
              WHERE r.election_id = :e AND r.kelurahan_kode IS NOT NULL
                AND r.rated_on <= :cutoff
              ORDER BY r.kelurahan_kode, r.source, r.rated_on DESC, m.rk DESC, r.id) o
        JOIN _gd_src s ON s.source = o.source
        GROUP BY o.kelurahan_kode"""), p)
    conn.execute(text("ANALYZE _gd_kel"))


def _sql(statement: str):
    """text() with the list-valued parameters typed as text arrays."""
    arrays = [bindparam(n, type_=ARRAY(String)) for n in ("names", "labels", "statuses")
              if f":{n}" in statement]
    return text(statement).bindparams(*arrays)


def _incidents(conn: Connection, p: dict) -> None:
    """Counted incidents per TPS (_gd_near: one row per TPS and incident; _gd_inc: per TPS,
    ordered most severe, nearest, then by id, with both wordings of the reason)."""
    # metres per degree: >= 110,574 along a meridian, >= 111,319 cos(lat) along a parallel;
    # the box is a little wider than the radius, ST_DWithin on geography decides.
    conn.execute(_sql("""
        CREATE TEMP TABLE _gd_near ON COMMIT DROP AS
        SELECT t.id AS tps_id, t.kelurahan_kode, i.id::text AS incident_id, s.rk AS sev_rk,
               d.m,
               'kejadian ' || s.name
               || CASE WHEN i.category <> '' THEN ' ''' || replace(i.category, '_', ' ') || ''''
                       ELSE '' END
               || ' ' || to_char(d.m, 'FM9999999999990') || ' m, '
               || CASE WHEN a.mins < 60 THEN a.mins || ' menit lalu'
                       ELSE (a.mins / 60) || ' jam lalu' END AS txt
        FROM incident i
        JOIN _gd_sev s ON s.severity = i.severity
        CROSS JOIN LATERAL (
          SELECT :radius / 110000.0 AS dy,
                 :radius / (110000.0 * cos(radians(least(abs(ST_Y(i.geom)) + :radius / 110000.0 + 0.01,
                                                         89.9)))) AS dx) b
        JOIN tps t ON t.election_id = i.election_id
              AND t.geom && ST_Expand(i.geom, b.dx, b.dy)
              -- PostGIS 3.3: ST_DWithin(geography) is false where ST_Distance is exactly the
              -- radius; the rule is inclusive, so prefilter 1 mm wider and decide on d.m
              AND ST_DWithin(i.geom::geography, t.geom::geography, :radius + 0.001)
        CROSS JOIN LATERAL (SELECT ST_Distance(i.geom::geography, t.geom::geography) AS m) d
        CROSS JOIN LATERAL (
          SELECT floor(extract(epoch FROM (CAST(:as_of AS timestamptz) - i.occurred_at)) / 60)::bigint
                 AS mins) a
        WHERE :escalation AND i.election_id = :e AND i.status = ANY(:statuses)
          AND i.occurred_at >= :since AND i.occurred_at <= :as_of
          AND s.rk >= :min_sev AND d.m <= :radius"""), p)
    conn.execute(text("""
        CREATE TEMP TABLE _gd_inc ON COMMIT DROP AS
        SELECT tps_id,
               array_agg('Eskalasi: ' || txt ORDER BY sev_rk DESC, m, incident_id COLLATE "C") AS up,
               array_agg('Ada ' || txt || ' (kelas tidak dinaikkan)'
                         ORDER BY sev_rk DESC, m, incident_id COLLATE "C") AS same
        FROM _gd_near GROUP BY tps_id"""))
    conn.execute(text("ANALYZE _gd_near"))
    conn.execute(text("ANALYZE _gd_inc"))


def _tps_risk(conn: Connection, p: dict) -> int:
    """tps_risk for every TPS of the election, and _gd_kc: TPS per kelurahan and class."""
    conn.execute(text("""
        CREATE TEMP TABLE _gd_kc (kelurahan_kode text, kecamatan_kode text, rk int, n int,
                                  n_escalated int, n_disagree int) ON COMMIT DROP"""))
    conn.execute(_sql(f"""
        WITH own AS (
          SELECT o.tps_id, max(o.rk) AS rk, min(o.rk) <> max(o.rk) AS disagree,
                 max(o.rk) FILTER (WHERE o.source = 'polri') AS polri,
                 max(o.rk) FILTER (WHERE o.source = 'kpu') AS kpu,
                 max(o.rk) FILTER (WHERE o.source = 'bawaslu') AS bawaslu,
                 array_agg(s.label || ': ' || o.txt ORDER BY s.ord) AS reasons,
                 string_agg(s.label || ' ' || (:labels)[o.rk + 1], ', ' ORDER BY s.ord) AS said
          FROM (SELECT DISTINCT ON (r.tps_id, r.source) r.tps_id, r.source, m.rk, m.txt
                FROM {_RATED}
                WHERE r.election_id = :e AND r.tps_id IS NOT NULL AND r.rated_on <= :cutoff
                ORDER BY r.tps_id, r.source, r.rated_on DESC, m.rk DESC, r.id) o
          JOIN _gd_src s ON s.source = o.source
          GROUP BY o.tps_id),
        risk AS MATERIALIZED (
          SELECT t.id AS tps_id, t.kelurahan_kode, k.kecamatan_kode, c.rk, c.rk <> b.base AS escalated,
                 coalesce(own.disagree, false) AS disagree, own.polri, own.kpu, own.bawaslu,
                 kl.rk AS kel_rk,
                 own.reasons || kl.reasons
                 || CASE WHEN b.rated THEN NULL
                         ELSE ARRAY['Tidak ada penilaian: dianggap ' || (:labels)[:default_rk + 1]]
                    END
                 || CASE WHEN i.tps_id IS NULL THEN NULL WHEN c.rk <> b.base THEN i.up
                         ELSE i.same END
                 || CASE WHEN c.rk <> b.base
                         THEN ARRAY['Naik dari ' || (:labels)[b.base + 1] || ' ke '
                                    || (:labels)[c.rk + 1]] END
                 || CASE WHEN own.disagree THEN ARRAY['Beda penilaian: ' || own.said] END
                 AS reasons
          FROM tps t
          JOIN kelurahan k ON k.kode = t.kelurahan_kode
          LEFT JOIN own ON own.tps_id = t.id
          LEFT JOIN _gd_kel kl ON kl.kelurahan_kode = t.kelurahan_kode
          LEFT JOIN _gd_inc i ON i.tps_id = t.id
          CROSS JOIN LATERAL (
            SELECT coalesce(greatest(own.rk, kl.rk), :default_rk) AS base,
                   own.rk IS NOT NULL OR kl.rk IS NOT NULL AS rated) b
          CROSS JOIN LATERAL (
            SELECT CASE WHEN i.tps_id IS NOT NULL AND b.base < :n_order AND :steps > 0
                        THEN greatest(b.base, least(b.base + :steps, :top))
                        ELSE b.base END AS rk) c
          WHERE t.election_id = :e),
        ins AS (
          INSERT INTO tps_risk (tps_id, election_id, kelas, kelas_polri, kelas_kpu,
                                kelas_bawaslu, kelas_kelurahan, escalated, disagree, reasons)
          SELECT tps_id, :e, (:names)[rk + 1], (:names)[polri + 1], (:names)[kpu + 1],
                 (:names)[bawaslu + 1], (:names)[kel_rk + 1], escalated, disagree,
                 coalesce(to_jsonb(reasons), '[]'::jsonb)
          FROM risk
          ON CONFLICT (tps_id) DO UPDATE SET
            election_id = EXCLUDED.election_id, kelas = EXCLUDED.kelas,
            kelas_polri = EXCLUDED.kelas_polri, kelas_kpu = EXCLUDED.kelas_kpu,
            kelas_bawaslu = EXCLUDED.kelas_bawaslu, kelas_kelurahan = EXCLUDED.kelas_kelurahan,
            escalated = EXCLUDED.escalated, disagree = EXCLUDED.disagree,
            reasons = EXCLUDED.reasons
          WHERE (tps_risk.election_id, tps_risk.kelas, tps_risk.kelas_polri, tps_risk.kelas_kpu,
                 tps_risk.kelas_bawaslu, tps_risk.kelas_kelurahan, tps_risk.escalated,
                 tps_risk.disagree, tps_risk.reasons)
                IS DISTINCT FROM
                (EXCLUDED.election_id, EXCLUDED.kelas, EXCLUDED.kelas_polri, EXCLUDED.kelas_kpu,
                 EXCLUDED.kelas_bawaslu, EXCLUDED.kelas_kelurahan, EXCLUDED.escalated,
                 EXCLUDED.disagree, EXCLUDED.reasons))
        INSERT INTO _gd_kc
        SELECT kelurahan_kode, kecamatan_kode, rk, count(*),
               count(*) FILTER (WHERE escalated), count(*) FILTER (WHERE disagree)
        FROM risk GROUP BY 1, 2, 3"""), p)
    conn.execute(text("""
        DELETE FROM tps_risk r WHERE r.election_id = :e
          AND NOT EXISTS (SELECT 1 FROM tps t WHERE t.id = r.tps_id AND t.election_id = :e)"""), p)
    conn.execute(text("ANALYZE _gd_kc"))
    return int(conn.execute(text("SELECT coalesce(sum(n), 0) FROM _gd_kc")).scalar())


def _check_patterns(conn: Connection, rules: Rules, in_force) -> None:
    """A class in use without a pattern: the same ConfigError as requirement()."""
    for (rk,) in conn.execute(text("SELECT DISTINCT rk FROM _gd_kc ORDER BY 1")):
        in_force.pattern(rules.classes[rk])


def _kelurahan_gap(conn: Connection, rules: Rules, p: dict) -> None:
    tni = "+ coalesce(asg.tni, 0)" if rules.tni_counts_as_polri else ""
    conn.execute(_sql(f"""
        WITH req AS (
          SELECT kc.kelurahan_kode, min(kc.kecamatan_kode) AS kecamatan_kode, sum(kc.n) AS n_tps,
                 jsonb_object_agg((:names)[kc.rk + 1], kc.n) FILTER (WHERE kc.n > 0) AS n_by,
                 sum(pt.a * ((kc.n + pt.b - 1) / pt.b)) AS polri,
                 sum((pt.c * kc.n + pt.b - 1) / pt.b) AS linmas
          FROM _gd_kc kc JOIN _gd_pat pt ON pt.rk = kc.rk
          GROUP BY kc.kelurahan_kode),
        asg AS (
          SELECT CASE a.target WHEN 'tps' THEN t.kelurahan_kode ELSE a.kelurahan_kode END AS kel,
                 sum(a.count) FILTER (WHERE a.agency = 'polri') AS polri,
                 sum(a.count) FILTER (WHERE a.agency = 'linmas') AS linmas,
                 sum(a.count) FILTER (WHERE a.agency = 'tni') AS tni
          FROM personnel_assignment a LEFT JOIN tps t ON t.id = a.tps_id
          WHERE a.election_id = :e AND a.target IN ('tps', 'kelurahan')
          GROUP BY 1),
        nr AS (
          SELECT t.kelurahan_kode, count(*) AS n
          FROM tps t JOIN tps_readiness r ON r.tps_id = t.id
          WHERE t.election_id = :e AND r.state <> 'siap' GROUP BY 1),
        inc AS (SELECT kelurahan_kode, count(DISTINCT incident_id) AS n FROM _gd_near GROUP BY 1),
        g AS (
          SELECT coalesce(req.kelurahan_kode, asg.kel) AS kel,
                 coalesce(req.kecamatan_kode, regexp_replace(asg.kel, '\\.[^.]*$', '')) AS kec,
                 coalesce(req.n_tps, 0) AS n_tps, coalesce(req.n_by, '{{}}'::jsonb) AS n_by,
                 coalesce(req.polri, 0) AS pr, coalesce(req.linmas, 0) AS lr,
                 coalesce(asg.polri, 0) {tni} AS pa, coalesce(asg.linmas, 0) AS la,
                 coalesce(asg.tni, 0) AS ta
          FROM req FULL JOIN asg ON asg.kel = req.kelurahan_kode),
        up AS (
          INSERT INTO kelurahan_gap AS x (election_id, kelurahan_kode, kecamatan_kode, n_tps,
            n_by_class, polri_required, linmas_required, polri_assigned, linmas_assigned,
            tni_assigned, polri_gap, linmas_gap, not_ready, incidents_recent, reasons)
          SELECT :e, g.kel, g.kec, g.n_tps, g.n_by, g.pr, g.lr, g.pa, g.la, g.ta,
                 g.pr - g.pa, g.lr - g.la, coalesce(nr.n, 0), coalesce(inc.n, 0), '[]'::jsonb
          FROM g LEFT JOIN nr ON nr.kelurahan_kode = g.kel
                 LEFT JOIN inc ON inc.kelurahan_kode = g.kel
          ON CONFLICT (election_id, kelurahan_kode) DO UPDATE SET
            kecamatan_kode = EXCLUDED.kecamatan_kode, n_tps = EXCLUDED.n_tps,
            n_by_class = EXCLUDED.n_by_class, polri_required = EXCLUDED.polri_required,
            linmas_required = EXCLUDED.linmas_required, polri_assigned = EXCLUDED.polri_assigned,
            linmas_assigned = EXCLUDED.linmas_assigned, tni_assigned = EXCLUDED.tni_assigned,
            polri_gap = EXCLUDED.polri_gap, linmas_gap = EXCLUDED.linmas_gap,
            not_ready = EXCLUDED.not_ready, incidents_recent = EXCLUDED.incidents_recent
          WHERE (x.kecamatan_kode, x.n_tps, x.n_by_class, x.polri_required, x.linmas_required,
                 x.polri_assigned, x.linmas_assigned, x.tni_assigned, x.polri_gap,
                 x.linmas_gap, x.not_ready, x.incidents_recent)
                IS DISTINCT FROM
                (EXCLUDED.kecamatan_kode, EXCLUDED.n_tps, EXCLUDED.n_by_class,
                 EXCLUDED.polri_required, EXCLUDED.linmas_required, EXCLUDED.polri_assigned,
                 EXCLUDED.linmas_assigned, EXCLUDED.tni_assigned, EXCLUDED.polri_gap,
                 EXCLUDED.linmas_gap, EXCLUDED.not_ready, EXCLUDED.incidents_recent))
        DELETE FROM kelurahan_gap x WHERE x.election_id = :e
          AND NOT EXISTS (SELECT 1 FROM g WHERE g.kel = x.kelurahan_kode)"""), p)


def _suggestions(conn: Connection, rules: Rules, in_force, p: dict) -> int:
    """Suggestions by gisdesk.analysis.suggest from the kelurahan with a non-zero gap (the
    others neither need nor give), stored as store.recompute stores them."""
    eid = p["e"]
    classes = tuple(in_force.patterns)
    rows = conn.execute(text("""
        SELECT kecamatan_kode, kelurahan_kode, n_tps, n_by_class, polri_required,
               polri_assigned, polri_gap, linmas_required, linmas_assigned, linmas_gap,
               tni_assigned, not_ready
        FROM kelurahan_gap WHERE election_id = :e AND (polri_gap <> 0 OR linmas_gap <> 0)
        ORDER BY kelurahan_kode"""), p).mappings().all()
    n_cols = [f"n_{k}" for k in classes]
    cols = ["kecamatan_kode", "kelurahan_kode", "n_tps", *n_cols, "polri_required",
            "polri_assigned", "polri_gap", "linmas_required", "linmas_assigned", "linmas_gap",
            "tni_assigned"]
    kel = pd.DataFrame([{**{c: r[c] for c in cols if not c.startswith("n_") or c == "n_tps"},
                         **{f"n_{k}": int(r["n_by_class"].get(k, 0)) for k in classes}}
                        for r in rows], columns=cols)
    kel = kel.astype({c: "int64" for c in cols[2:]})
    if not (kel["polri_gap"] > 0).any() and not (kel["linmas_gap"] > 0).any():
        _gap_reasons(conn, eid, {})
        return 0
    tni = rules.tni_counts_as_polri
    reserves = pd.DataFrame([
        {"kecamatan_kode": r.kecamatan_kode, "polri": int(r.polri) + (int(r.tni) if tni else 0),
         "linmas": int(r.linmas), "tni": int(r.tni)}
        for r in conn.execute(text("""
            SELECT kecamatan_kode, coalesce(sum(count) FILTER (WHERE agency = 'polri'), 0) AS polri,
                   coalesce(sum(count) FILTER (WHERE agency = 'linmas'), 0) AS linmas,
                   coalesce(sum(count) FILTER (WHERE agency = 'tni'), 0) AS tni
            FROM personnel_assignment WHERE election_id = :e AND target = 'reserve'
            GROUP BY 1 ORDER BY 1 NULLS LAST"""), p)],
        columns=["kecamatan_kode", "polri", "linmas", "tni"])
    table = GapTable(classes, kel, pd.DataFrame(), pd.DataFrame(), reserves)
    facts = [_KelurahanFacts(r.kelurahan_kode, tuple(r.ids or ()), int(r.esc), int(r.dis))
             for r in conn.execute(text("""
                 SELECT kc.kelurahan_kode, sum(kc.n_escalated) AS esc, sum(kc.n_disagree) AS dis,
                        (SELECT array_agg(DISTINCT n.incident_id) FROM _gd_near n
                         WHERE n.kelurahan_kode = kc.kelurahan_kode) AS ids
                 FROM _gd_kc kc
                 WHERE kc.n_escalated > 0 OR kc.n_disagree > 0
                    OR kc.kelurahan_kode IN (SELECT kelurahan_kode FROM _gd_near)
                 GROUP BY 1"""))]
    not_ready = {r["kelurahan_kode"]: int(r["not_ready"]) for r in rows if r["not_ready"]}
    advice = suggest(table, _distances(conn, kel, eid), rules, SuggestContext(facts, not_ready))
    _write_suggestions(conn, eid, advice)
    return len(advice)


def _distances(conn: Connection, kel: pd.DataFrame, eid: int) -> list[tuple[str, str, float]]:
    """Kelurahan-to-kelurahan metres as store._distances gives them, for the pairs suggest can
    use: a kelurahan short of an agency and one with a surplus of it (both with TPS)."""
    from gisdesk.analysis.store import DONOR_RADIUS_M
    has_tps = kel[kel["n_tps"] > 0]
    pts = [{"kode": r.kelurahan_kode, "sp": bool(r.polri_gap > 0), "dp": bool(r.polri_gap < 0),
            "sl": bool(r.linmas_gap > 0), "dl": bool(r.linmas_gap < 0)}
           for r in has_tps.itertuples(index=False)]
    if not pts:
        return []
    conn.execute(text("DROP TABLE IF EXISTS _gd_pts"))
    conn.execute(text("""
        CREATE TEMP TABLE _gd_pts ON COMMIT DROP AS
        SELECT x.*, p.pt, p.pt::geography AS g, ST_Y(p.pt) AS lat
        FROM jsonb_to_recordset(CAST(:pts AS jsonb))
             AS x(kode text, sp bool, dp bool, sl bool, dl bool)
        JOIN kelurahan k ON k.kode = x.kode
        CROSS JOIN LATERAL (SELECT ST_PointOnSurface(k.geom) AS pt) p"""),
        {"pts": json.dumps(pts)})
    conn.execute(text("CREATE INDEX ON _gd_pts USING gist (pt)"))
    conn.execute(text("ANALYZE _gd_pts"))
    # from each short kelurahan to the donors of the same agency within the radius (index),
    # ST_Distance taken in code order as store._distances takes it
    rows = conn.execute(text("""
        SELECT DISTINCT least(a.kode, b.kode), greatest(a.kode, b.kode),
               CASE WHEN a.kode < b.kode THEN ST_Distance(a.g, b.g) ELSE ST_Distance(b.g, a.g) END
        FROM _gd_pts a JOIN _gd_pts b
          ON b.pt && ST_Expand(a.pt, :r / (110000.0 * cos(radians(least(abs(a.lat) + :r / 110000.0
                                                                    + 0.01, 89.9)))),
                               :r / 110000.0)
         AND ((a.sp AND b.dp) OR (a.sl AND b.dl)) AND a.kode <> b.kode
         AND ST_DWithin(a.g, b.g, :r)"""), {"r": DONOR_RADIUS_M}).all()
    conn.execute(text("DROP TABLE _gd_pts"))
    return [tuple(r) for r in rows]


def _write_suggestions(conn: Connection, eid: int, advice) -> None:
    from gisdesk.analysis.store import write_suggestions  # store imports this module
    write_suggestions(conn, eid, advice)
    polri = {}
    for s in advice:
        if s.agency == "polri":
            polri.setdefault(s.kelurahan_kode, list(s.reasons))
    _gap_reasons(conn, eid, polri)


def _gap_reasons(conn: Connection, eid: int, polri: dict[str, list[str]]) -> None:
    """kelurahan_gap.reasons = the reasons of its Polri suggestion, [] without one."""
    conn.execute(text("""
        UPDATE kelurahan_gap g SET reasons = coalesce(x.reasons, '[]'::jsonb)
        FROM kelurahan_gap g2 LEFT JOIN jsonb_each(CAST(:r AS jsonb)) AS x(kode, reasons)
             ON x.kode = g2.kelurahan_kode
        WHERE g2.election_id = :e AND g.election_id = :e AND g.kelurahan_kode = g2.kelurahan_kode
          AND g.reasons IS DISTINCT FROM coalesce(x.reasons, '[]'::jsonb)"""),
        {"r": json.dumps(polri), "e": eid})
