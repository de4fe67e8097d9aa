"""Effective class of every TPS as set-based SQL: the rules of ``risk.py`` run in PostgreSQL.

What stays in Python is small and keyed by *values*, not rows: the distinct rating values
(source, class word, indicator list) are classified with the rules' own ``map_rating`` (so
words, indicators and their descriptions are exactly the specification's). Everything per TPS
runs in PostgreSQL, in the caller's transaction, for the whole election or for the TPS of
some kelurahan (``p["kels"]``, see ``scope``):

1. latest rating per (TPS, source) and per (kelurahan, source) with DISTINCT ON (a plain date
   is the start of that day in rules.timezone; same day: the higher class wins);
2. counted incidents per TPS: status, severity, window [as_of - window_hours, as_of] and
   ST_Distance(geography) <= radius_m (inclusive), found through the GiST index on tps.geom;
3. effective class = highest of the TPS's sources and its kelurahan's (special classes such
   as khusus outrank the scale, are ignored at kelurahan level and never escalated), raised
   ``steps`` classes (at most max_class) when an incident counts; reasons as in risk.py,
   with absolute times;
4. an upsert into tps_risk that skips unchanged rows, and ``_gd_kc``: TPS per kelurahan and
   class (with escalated / disagreeing counts) for the gap step.

The working tables are temporary (ON COMMIT DROP): nothing a reader sees is locked. The
small rule tables (sources, severities, patterns, the classified rating values: tens of rows)
are no tables at all but jsonb parameters read where they are used (``SOURCES``,
``SEVERITIES``, ``PATTERNS``, ``_RATED``): a temporary table costs catalog writes on create
and drop, about a millisecond each, at every refresh.
"""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import String

from gisdesk.analysis.risk import Rating, map_rating, zone_label
from gisdesk.analysis.rules import Rules
from gisdesk.errors import InputRejected

TEMP_TABLES = ("_gd_kel", "_gd_near", "_gd_inc", "_gd_kc", "_gd_pts")
# the rule rows as a FROM item (filled by rule_tables into p["src"], p["sev"], p["pat"])
SOURCES = "jsonb_to_recordset(CAST(:src AS jsonb)) AS s(source text, ord int, label text)"
SEVERITIES = "jsonb_to_recordset(CAST(:sev AS jsonb)) AS s(severity text, rk int, name text)"
PATTERNS = "jsonb_to_recordset(CAST(:pat AS jsonb)) AS pt(rk int, a int, b int, c int)"
# ANALYZE a working table only from this many rows: below it the planner's guess from the
# table's size picks the same plans, and each ANALYZE is a round trip of ~0.3-0.5 ms
ANALYZE_ROWS = 2000


def params(rules: Rules, eid: int, as_of: dt.datetime, kels: list[str] | None) -> dict:
    """The query parameters every step shares; ``kels`` None means the whole election."""
    esc = rules.escalation
    names = list(rules.classes)                      # index = rank (special classes last)
    return {
        "e": eid, "as_of": as_of, "kels": kels,
        # a rating dated d counts from 00:00 of d in rules.timezone: d <= local date of as_of
        "cutoff": as_of.astimezone(rules.timezone).date(),
        "tz": str(rules.timezone), "zone": zone_label(rules),
        "since": as_of - dt.timedelta(hours=esc.window_hours),
        "radius": float(esc.radius_m), "statuses": sorted(esc.statuses),
        "min_sev": rules.severity_rank(esc.min_severity),
        "steps": int(esc.steps), "top": rules.rank(esc.max_class),
        "n_order": len(rules.class_order), "default_rk": rules.rank(rules.default_class),
        "names": names, "labels": [rules.label(k) for k in names],
        "escalation": bool(esc.enabled),
    }


def scope(p: dict, column: str) -> str:
    """A WHERE fragment keeping the rows of the kelurahan being refreshed ('' for all)."""
    return "" if p["kels"] is None else f" AND {column} = ANY(:kels)"


def sql(statement: str):
    """text() with the list-valued parameters typed as text arrays."""
    arrays = [bindparam(n, type_=ARRAY(String))
              for n in ("names", "labels", "statuses", "kels", "kabs", "kecs")
              if f":{n}" in statement]
    return text(statement).bindparams(*arrays)


def drop_temp(conn: Connection) -> None:
    conn.execute(text(f"DROP TABLE IF EXISTS {', '.join(TEMP_TABLES)}"))


def create_temp(conn: Connection, name: str, statement, params: dict) -> int:
    """Run a CREATE TEMP TABLE ... AS / INSERT filling ``name``, ANALYZE it when it is large
    enough for the planner to care (ANALYZE_ROWS); returns its row count."""
    n = conn.execute(statement, params).rowcount
    if n >= ANALYZE_ROWS:
        conn.execute(text(f"ANALYZE {name}"))
    return n


def rule_tables(conn: Connection, rules: Rules, in_force, p: dict) -> None:
    """Sources, patterns, severities and the distinct rating values, classified by the rules."""
    order = list(rules.sources)
    p["src"] = json.dumps([{"source": s, "ord": i, "label": rules.sources[s].label}
                           for i, s in enumerate(order)])
    p["pat"] = json.dumps([{"rk": rules.rank(k), "a": pt.polri, "b": pt.tps, "c": pt.linmas}
                           for k, pt in in_force.patterns.items() if k in rules.classes])
    # Every distinct (source, class word, indicator list) given at or before as_of, mapped
    # with the rules' own map_rating: class rank and the description used in the reasons.
    # (a scoped refresh needs only the values its kelurahan and their TPS were given)
    rated = "rating" if p["kels"] is None else """(
          SELECT r.* FROM rating r WHERE r.kelurahan_kode = ANY(:kels)
          UNION ALL
          SELECT r.* FROM tps t JOIN rating r ON r.tps_id = t.id
          WHERE t.election_id = :e AND t.kelurahan_kode = ANY(:kels)) r"""
    values = conn.execute(sql(f"""
        SELECT DISTINCT source, kelas, indicators FROM {rated}
        WHERE election_id = :e AND rated_on <= :cutoff"""), p).all()
    mapped = []
    for source, kelas, indicators in values:
        k, desc = map_rating(Rating(source, p["cutoff"], kelas, tuple(indicators) or None), rules)
        mapped.append({"source": source, "kelas": kelas or "", "indicators": indicators,
                       "rk": rules.rank(k), "txt": desc})
    p["map"] = json.dumps(mapped)
    sev = []
    for (s,) in conn.execute(text("SELECT DISTINCT severity FROM incident WHERE election_id = :e"),
                             p):
        rank = rules.severity_rank(s)
        if rank is None and p["escalation"]:
            raise InputRejected(f"tingkat kejadian tidak dikenal: {s!r}", field="severity")
        sev.append({"severity": s, "rk": rank, "name": rules.severity_name(s)})
    p["sev"] = json.dumps(sev)


# A rating row joined to its classification.
_RATED = """
    rating r JOIN jsonb_to_recordset(CAST(:map AS jsonb))
                  AS m(source text, kelas text, indicators jsonb, rk int, txt text)
              ON m.source = r.source AND m.kelas = coalesce(r.kelas, '')
                 AND m.indicators = r.indicators"""


def kelurahan_ratings(conn: Connection, p: dict) -> None:
    """Per kelurahan: the highest non-special class of its sources' latest ratings (rk) and
    the reasons every TPS of the kelurahan inherits (risk._kelurahan_reasons)."""
    create_temp(conn, "_gd_kel", sql(f"""
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
                AND r.rated_on <= :cutoff {scope(p, "r.kelurahan_kode")}
              ORDER BY r.kelurahan_kode, r.source, r.rated_on DESC, m.rk DESC, r.id) o
        JOIN {SOURCES} ON s.source = o.source
        GROUP BY o.kelurahan_kode"""), p)


def incidents(conn: Connection, p: dict) -> None:
    """Counted incidents per TPS (_gd_near: one row per TPS and incident; _gd_inc: per TPS,
    ordered most severe, nearest, then by id, with both wordings of the reason)."""
    # metres per degree: >= 110,574 along a meridian, >= 111,319 cos(lat) along a parallel;
    # the box is a little wider than the radius, ST_DWithin on geography decides. The counted
    # incidents and their boxes come first (a few hundred at most), so the TPS are probed
    # through the GiST index once per incident (a scoped refresh once saw the planner scan
    # every TPS of a national election, or test every pair of incident and TPS in scope).
    create_temp(conn, "_gd_near", sql(f"""
        CREATE TEMP TABLE _gd_near ON COMMIT DROP AS
        WITH i AS MATERIALIZED (
          SELECT i.id, i.election_id, i.category, i.occurred_at, i.geom, s.rk, s.name,
                 ST_Expand(i.geom, b.dx, b.dy) AS box
          FROM incident i
          JOIN {SEVERITIES} ON s.severity = i.severity
          CROSS JOIN LATERAL (
            SELECT :radius / 110000.0 AS dy,
                   :radius / (110000.0 * cos(radians(least(abs(ST_Y(i.geom)) + :radius / 110000.0
                                                           + 0.01, 89.9)))) AS dx) b
          WHERE :escalation AND i.election_id = :e AND i.status = ANY(:statuses)
            AND i.occurred_at >= :since AND i.occurred_at <= :as_of AND s.rk >= :min_sev)
        SELECT t.id AS tps_id, t.kelurahan_kode, i.id::text AS incident_id, i.rk AS sev_rk,
               d.m,
               'kejadian ' || i.name
               || CASE WHEN i.category <> '' THEN ' ''' || replace(i.category, '_', ' ') || ''''
                       ELSE '' END
               || ' ' || to_char(d.m, 'FM9999999999990') || ' m, '
               || to_char(i.occurred_at AT TIME ZONE :tz, 'DD-MM-YYYY HH24:MI') || ' ' || :zone
               AS txt
        FROM i
        JOIN tps t ON t.election_id = i.election_id AND t.geom && i.box
              -- PostGIS 3.3: ST_DWithin(geography) is false where ST_Distance is exactly the
              -- radius; the rule is inclusive, so prefilter 1 mm wider and decide on d.m
              AND ST_DWithin(i.geom::geography, t.geom::geography, :radius + 0.001)
              {scope(p, "t.kelurahan_kode")}
        CROSS JOIN LATERAL (SELECT ST_Distance(i.geom::geography, t.geom::geography) AS m) d
        WHERE d.m <= :radius"""), p)
    create_temp(conn, "_gd_inc", text("""
        CREATE TEMP TABLE _gd_inc ON COMMIT DROP AS
        SELECT tps_id,
               array_agg('Eskalasi: ' || txt ORDER BY sev_rk DESC, m, incident_id COLLATE "C") AS up,
               array_agg('Ada ' || txt || ' (kelas tidak dinaikkan)'
                         ORDER BY sev_rk DESC, m, incident_id COLLATE "C") AS same
        FROM _gd_near GROUP BY tps_id"""), {})


def tps_risk(conn: Connection, p: dict) -> int:
    """Upsert tps_risk for the TPS in scope, and fill _gd_kc: TPS per kelurahan and class."""
    conn.execute(text("""
        CREATE TEMP TABLE _gd_kc (kelurahan_kode text, kecamatan_kode text, rk int, n int,
                                  n_escalated int, n_disagree int) ON COMMIT DROP"""))
    create_temp(conn, "_gd_kc", sql(f"""
        WITH own AS (
          SELECT o.tps_id, max(o.rk) AS rk, min(o.rk) <> max(o.rk) AS disagree,
                 max(o.rk) FILTER (WHERE o.source = 'polri') AS polri,
                 max(o.rk) FILTER (WHERE o.source = 'kpu') AS kpu,
                 max(o.rk) FILTER (WHERE o.source = 'bawaslu') AS bawaslu,
                 array_agg(s.label || ': ' || o.txt ORDER BY s.ord) AS reasons,
                 string_agg(s.label || ' ' || (:labels)[o.rk + 1], ', ' ORDER BY s.ord) AS said
          FROM (SELECT DISTINCT ON (r.tps_id, r.source) r.tps_id, r.source, m.rk, m.txt
                FROM {_RATED} {"" if p["kels"] is None else "JOIN tps rt ON rt.id = r.tps_id"}
                WHERE r.election_id = :e AND r.tps_id IS NOT NULL AND r.rated_on <= :cutoff
                      {scope(p, "rt.kelurahan_kode")}
                ORDER BY r.tps_id, r.source, r.rated_on DESC, m.rk DESC, r.id) o
          JOIN {SOURCES} ON s.source = o.source
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
          WHERE t.election_id = :e {scope(p, "t.kelurahan_kode")}),
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
    # a deleted TPS takes its tps_risk row with it (ON DELETE CASCADE): nothing to delete here
    return int(conn.execute(text("SELECT coalesce(sum(n), 0) FROM _gd_kc")).scalar())


def check_patterns(conn: Connection, rules: Rules, in_force) -> None:
    """A class in use without a pattern: the same ConfigError as requirement()."""
    for (rk,) in conn.execute(text("SELECT DISTINCT rk FROM _gd_kc ORDER BY 1")):
        in_force.pattern(rules.classes[rk])
