"""Requirement, assignment and gap per kelurahan, and their sums per kecamatan and kab/kota, as
set-based SQL (the rules of ``requirement.py`` and ``gap.py``), stored with each results version.

kelurahan_gap: Polri a*ceil(n/b) and Linmas ceil(c*n/b) per kelurahan and class (from
``_gd_kc``), assigned from personnel_assignment (TPS targets count toward their kelurahan,
reserves excluded; TNI toward Polri only when rules.tni_counts_as_polri), gap = required -
assigned. kecamatan_gap / kabkota_gap: sums of their kelurahan rows, short = sum of positive
kelurahan gaps (a net sum hides them), surplus = of negative ones, the Polsek reserves inside
and, per kab/kota, its Polresta reserve. Every write is an upsert that skips unchanged rows,
limited to the kelurahan (and their kecamatan and kab/kota) being refreshed.
"""
from __future__ import annotations

from sqlalchemy import Connection, text

from gisdesk.analysis.rules import Rules
from gisdesk.analysis.sql_risk import PATTERNS, scope, sql

# kelurahan_gap columns summed into kecamatan_gap and kabkota_gap
# (incidents_recent: an incident near a border counts in each kelurahan it is near)
_PLAIN = ("n_tps", "polri_required", "polri_assigned", "polri_gap", "linmas_required",
          "linmas_assigned", "linmas_gap", "tni_assigned", "not_ready", "incidents_recent")
SUMS = ("n_kelurahan", "kelurahan_short", *_PLAIN, "polri_short", "polri_surplus",
        "linmas_short", "linmas_surplus", "polri_reserve", "linmas_reserve", "tni_reserve")
_FROM_KELURAHAN = {
    "n_kelurahan": "count(*)",
    "kelurahan_short": "count(*) FILTER (WHERE polri_gap > 0 OR linmas_gap > 0)",
    **{c: f"sum({c})" for c in _PLAIN},
    "polri_short": "sum(greatest(polri_gap, 0))", "polri_surplus": "sum(greatest(-polri_gap, 0))",
    "linmas_short": "sum(greatest(linmas_gap, 0))",
    "linmas_surplus": "sum(greatest(-linmas_gap, 0))",
}


def kelurahan_gap(conn: Connection, rules: Rules, p: dict) -> None:
    tni = "+ coalesce(asg.tni, 0)" if rules.tni_counts_as_polri else ""
    conn.execute(sql(f"""
        WITH req AS (
          SELECT kc.kelurahan_kode, min(kc.kecamatan_kode) AS kecamatan_kode, sum(kc.n) AS n_tps,
                 jsonb_object_agg((:names)[kc.rk + 1], kc.n) FILTER (WHERE kc.n > 0) AS n_by,
                 sum(pt.a * ((kc.n + pt.b - 1) / pt.b)) AS polri,
                 sum((pt.c * kc.n + pt.b - 1) / pt.b) AS linmas,
                 sum(kc.n_escalated) AS esc, sum(kc.n_disagree) AS dis
          FROM _gd_kc kc JOIN {PATTERNS} ON pt.rk = kc.rk
          GROUP BY kc.kelurahan_kode),
        asg AS (
          -- TPS targets (a TPS id, checked) and kelurahan targets apart, so that a scoped
          -- refresh reads them through the kelurahan indexes, not every assignment
          SELECT a.kel,
                 sum(a.count) FILTER (WHERE a.agency = 'polri') AS polri,
                 sum(a.count) FILTER (WHERE a.agency = 'linmas') AS linmas,
                 sum(a.count) FILTER (WHERE a.agency = 'tni') AS tni
          FROM (SELECT t.kelurahan_kode AS kel, a.agency, a.count
                FROM personnel_assignment a JOIN tps t ON t.id = a.tps_id
                WHERE a.election_id = :e AND a.target = 'tps' {scope(p, "t.kelurahan_kode")}
                UNION ALL
                SELECT a.kelurahan_kode, a.agency, a.count FROM personnel_assignment a
                WHERE a.election_id = :e AND a.target = 'kelurahan'
                      {scope(p, "a.kelurahan_kode")}) a
          GROUP BY 1),
        nr AS (
          SELECT t.kelurahan_kode, count(*) AS n
          FROM tps t JOIN tps_readiness r ON r.tps_id = t.id
          WHERE t.election_id = :e AND r.state <> 'siap' {scope(p, "t.kelurahan_kode")}
          GROUP BY 1),
        inc AS (SELECT kelurahan_kode, count(DISTINCT incident_id) AS n FROM _gd_near GROUP BY 1),
        g AS (
          SELECT coalesce(req.kelurahan_kode, asg.kel) AS kel,
                 coalesce(req.kecamatan_kode, regexp_replace(asg.kel, '\\.[^.]*$', '')) AS kec,
                 coalesce(req.n_tps, 0) AS n_tps, coalesce(req.n_by, '{{}}'::jsonb) AS n_by,
                 coalesce(req.polri, 0) AS pr, coalesce(req.linmas, 0) AS lr,
                 coalesce(asg.polri, 0) {tni} AS pa, coalesce(asg.linmas, 0) AS la,
                 coalesce(asg.tni, 0) AS ta, coalesce(req.esc, 0) AS esc,
                 coalesce(req.dis, 0) AS dis
          FROM req FULL JOIN asg ON asg.kel = req.kelurahan_kode),
        up AS (
          INSERT INTO kelurahan_gap AS x (election_id, kelurahan_kode, kecamatan_kode, n_tps,
            n_by_class, polri_required, linmas_required, polri_assigned, linmas_assigned,
            tni_assigned, polri_gap, linmas_gap, not_ready, incidents_recent, reasons,
            n_escalated, n_disagree)
          SELECT :e, g.kel, g.kec, g.n_tps, g.n_by, g.pr, g.lr, g.pa, g.la, g.ta,
                 g.pr - g.pa, g.lr - g.la, coalesce(nr.n, 0), coalesce(inc.n, 0), '[]'::jsonb,
                 g.esc, g.dis
          FROM g LEFT JOIN nr ON nr.kelurahan_kode = g.kel
                 LEFT JOIN inc ON inc.kelurahan_kode = g.kel
          ON CONFLICT (election_id, kelurahan_kode) DO UPDATE SET
            kecamatan_kode = EXCLUDED.kecamatan_kode, n_tps = EXCLUDED.n_tps,
            n_by_class = EXCLUDED.n_by_class, polri_required = EXCLUDED.polri_required,
            linmas_required = EXCLUDED.linmas_required, polri_assigned = EXCLUDED.polri_assigned,
            linmas_assigned = EXCLUDED.linmas_assigned, tni_assigned = EXCLUDED.tni_assigned,
            polri_gap = EXCLUDED.polri_gap, linmas_gap = EXCLUDED.linmas_gap,
            not_ready = EXCLUDED.not_ready, incidents_recent = EXCLUDED.incidents_recent,
            n_escalated = EXCLUDED.n_escalated, n_disagree = EXCLUDED.n_disagree
          WHERE (x.kecamatan_kode, x.n_tps, x.n_by_class, x.polri_required, x.linmas_required,
                 x.polri_assigned, x.linmas_assigned, x.tni_assigned, x.polri_gap,
                 x.linmas_gap, x.not_ready, x.incidents_recent, x.n_escalated, x.n_disagree)
                IS DISTINCT FROM
                (EXCLUDED.kecamatan_kode, EXCLUDED.n_tps, EXCLUDED.n_by_class,
                 EXCLUDED.polri_required, EXCLUDED.linmas_required, EXCLUDED.polri_assigned,
                 EXCLUDED.linmas_assigned, EXCLUDED.tni_assigned, EXCLUDED.polri_gap,
                 EXCLUDED.linmas_gap, EXCLUDED.not_ready, EXCLUDED.incidents_recent,
                 EXCLUDED.n_escalated, EXCLUDED.n_disagree))
        DELETE FROM kelurahan_gap x WHERE x.election_id = :e {scope(p, "x.kelurahan_kode")}
          AND NOT EXISTS (SELECT 1 FROM g WHERE g.kel = x.kelurahan_kode)"""), p)


def _upsert(table: str, key: str, extra: tuple[str, ...] = ()) -> str:
    cols = ("n_by_class", *SUMS, *extra)
    new = ", ".join(f"EXCLUDED.{c}" for c in cols)
    return f"""
        ON CONFLICT (election_id, {key}) DO UPDATE SET
          ({", ".join(cols)}) = ROW({new})
        WHERE ({", ".join(f"{table}.{c}" for c in cols)}) IS DISTINCT FROM ({new})"""


def _classes_sum(source: str, key: str, where: str) -> str:
    """n_by_class summed over rows: {"rawan": 12, ...} per ``key``."""
    return f"""
        SELECT {key} AS key, jsonb_object_agg(c.kelas, c.n) AS n_by_class
        FROM (SELECT {key}, e.key AS kelas, sum(e.value::int) AS n
              FROM {source}, jsonb_each_text(n_by_class) e WHERE {where}
              GROUP BY 1, 2) c GROUP BY 1"""


def aggregates(conn: Connection, rules: Rules, p: dict) -> None:
    """kecamatan_gap and kabkota_gap for the kecamatan and kab/kota of the kelurahan in scope
    (all of them for a whole refresh); ``p["polresta_kab"]``: see polresta_kabkota."""
    kecs = None if p["kels"] is None else sorted({k[:8] for k in p["kels"]})
    kabs = None if p["kels"] is None else sorted({k[:5] for k in p["kels"]})
    q = {**p, "kecs": kecs, "kabs": kabs}
    in_kec = "" if kecs is None else " AND {} = ANY(:kecs)"
    in_kab = "" if kabs is None else " AND {} = ANY(:kabs)"
    tni = " + coalesce(sum(count) FILTER (WHERE agency = 'tni'), 0)" \
        if rules.tni_counts_as_polri else ""
    reserve = f"""coalesce(sum(count) FILTER (WHERE agency = 'polri'), 0){tni} AS polri_reserve,
                  coalesce(sum(count) FILTER (WHERE agency = 'linmas'), 0) AS linmas_reserve,
                  coalesce(sum(count) FILTER (WHERE agency = 'tni'), 0) AS tni_reserve"""
    sums = ", ".join(f"coalesce(k.{c}, 0) AS {c}" for c in SUMS[:-3])
    conn.execute(sql(f"""
        WITH k AS (
          SELECT kecamatan_kode AS key,
                 {", ".join(f"{v} AS {c}" for c, v in _FROM_KELURAHAN.items())}
          FROM kelurahan_gap WHERE election_id = :e {in_kec.format("kecamatan_kode")}
          GROUP BY 1),
        cls AS ({_classes_sum("kelurahan_gap", "kecamatan_kode",
                              "election_id = :e" + in_kec.format("kecamatan_kode"))}),
        res AS (
          SELECT kecamatan_kode AS key, {reserve}
          FROM personnel_assignment
          WHERE election_id = :e AND target = 'reserve' AND kecamatan_kode IS NOT NULL
                {in_kec.format("kecamatan_kode")}
          GROUP BY 1),
        g AS (
          SELECT coalesce(k.key, res.key) AS key, coalesce(cls.n_by_class, '{{}}'::jsonb) AS n_by,
                 {sums}, coalesce(res.polri_reserve, 0) AS polri_reserve,
                 coalesce(res.linmas_reserve, 0) AS linmas_reserve,
                 coalesce(res.tni_reserve, 0) AS tni_reserve
          FROM k FULL JOIN res ON res.key = k.key LEFT JOIN cls ON cls.key = k.key),
        up AS (
          INSERT INTO kecamatan_gap (election_id, kecamatan_kode, kabkota_kode, n_by_class,
                                     {", ".join(SUMS)})
          SELECT :e, key, left(key, 5), n_by, {", ".join(SUMS)} FROM g
          {_upsert("kecamatan_gap", "kecamatan_kode")})
        DELETE FROM kecamatan_gap x WHERE x.election_id = :e {in_kec.format("x.kecamatan_kode")}
          AND NOT EXISTS (SELECT 1 FROM g WHERE g.key = x.kecamatan_kode)"""), q)
    conn.execute(sql(f"""
        WITH k AS (
          SELECT kabkota_kode AS key, {", ".join(f"sum({c}) AS {c}" for c in SUMS)}
          FROM kecamatan_gap WHERE election_id = :e {in_kab.format("kabkota_kode")}
          GROUP BY 1),
        cls AS ({_classes_sum("kecamatan_gap", "kabkota_kode",
                              "election_id = :e" + in_kab.format("kabkota_kode"))}),
        res AS (
          SELECT CAST(:polresta_kab AS text) AS key, {reserve.replace("_reserve", "_polresta")}
          FROM personnel_assignment
          WHERE election_id = :e AND target = 'reserve' AND kecamatan_kode IS NULL
                AND CAST(:polresta_kab AS text) IS NOT NULL
                {in_kab.format("CAST(:polresta_kab AS text)")}
          GROUP BY 1),
        g AS (
          SELECT coalesce(k.key, res.key) AS key, coalesce(cls.n_by_class, '{{}}'::jsonb) AS n_by,
                 {", ".join(f"coalesce(k.{c}, 0) AS {c}" for c in SUMS)},
                 coalesce(res.polri_polresta, 0) AS pp, coalesce(res.linmas_polresta, 0) AS lp,
                 coalesce(res.tni_polresta, 0) AS tp
          FROM k FULL JOIN res ON res.key = k.key LEFT JOIN cls ON cls.key = k.key),
        up AS (
          INSERT INTO kabkota_gap (election_id, kabkota_kode, n_by_class, {", ".join(SUMS)},
                                   polri_reserve_polresta, linmas_reserve_polresta,
                                   tni_reserve_polresta)
          SELECT :e, key, n_by, {", ".join(SUMS)}, pp, lp, tp FROM g
          {_upsert("kabkota_gap", "kabkota_kode",
                   ("polri_reserve_polresta", "linmas_reserve_polresta", "tni_reserve_polresta"))})
        DELETE FROM kabkota_gap x WHERE x.election_id = :e {in_kab.format("x.kabkota_kode")}
          AND NOT EXISTS (SELECT 1 FROM g WHERE g.key = x.kabkota_kode)"""), q)


def polresta_kabkota(conn: Connection, eid: int) -> str | None:
    """The kab/kota whose Polresta holds the reserve without a kecamatan: the election's
    wilayah when it names a kab/kota, else the only kab/kota of the election's kelurahan
    (None when there are several: such a reserve is then given to no plan)."""
    row = conn.execute(text("""
        SELECT e.wilayah_kode, EXISTS (
                 SELECT 1 FROM personnel_assignment a WHERE a.election_id = e.id
                 AND a.target = 'reserve' AND a.kecamatan_kode IS NULL) AS has_reserve
        FROM election e WHERE e.id = :e"""), {"e": eid}).one()
    if row.wilayah_kode and len(row.wilayah_kode) >= 5:
        return row.wilayah_kode[:5]
    if not row.has_reserve:                   # nothing to place: spare the scan below
        return None
    kabs = conn.execute(text("""
        SELECT DISTINCT left(kelurahan_kode, 5) FROM kelurahan_gap WHERE election_id = :e
        LIMIT 2"""), {"e": eid}).scalars().all()
    return kabs[0] if len(kabs) == 1 else None


def store_aggregates(conn: Connection, election_id: int, rules: Rules) -> None:
    """The whole election's kecamatan_gap and kabkota_gap from its kelurahan_gap rows as they
    stand (for results written by other means than refresh, e.g. test seeds)."""
    aggregates(conn, rules, {"e": election_id, "kels": None,
                             "polresta_kab": polresta_kabkota(conn, election_id)})
