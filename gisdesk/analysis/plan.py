"""The suggestion plan, made per kab/kota: which kelurahan need how many more, from where.

Suggestions are planned per kab/kota (the Polresta reserve is the kab/kota's, and a donor is
a kelurahan of the same kab/kota): a refresh re-plans every kab/kota that contains a
kelurahan it touched and keeps the others' plans; ranks count from 1 in each kab/kota.
The plan itself is ``suggest.suggest_rows`` (greedy, deterministic; the rows ``suggest``
reads from a GapTable) over the stored kelurahan_gap rows with a non-zero gap (the others
neither need nor give), with the kelurahan-to-kelurahan distances it can use found in PostGIS
between the stored ``kelurahan.pt`` points: from each short kelurahan its donors of the same
agency nearest first (KNN on a GiST index), widened only while the nearest ones do not
suffice. Moves are written with COPY (nationally ~90k rows).
"""
from __future__ import annotations

import json
from collections import defaultdict

from sqlalchemy import Connection, text

from gisdesk.analysis.rules import Rules
from gisdesk.analysis.sql_risk import sql
from gisdesk.analysis.suggest import (KelurahanFacts, NearestDonors, SuggestContext,
                                      move_text, suggest_rows)

# kelurahan further apart than this have no distance between them: a donor beyond it is
# still used when nearer ones do not suffice, in code order (rules.max_distance_m forbids it)
DONOR_RADIUS_M = 25_000

_GAP_COLUMNS = ["kecamatan_kode", "kelurahan_kode", "n_tps", "polri_required", "polri_assigned",
                "polri_gap", "linmas_required", "linmas_assigned", "linmas_gap", "tni_assigned"]


def replan(conn: Connection, rules: Rules, in_force, p: dict, clock=None) -> int:
    """Replace the suggestions of the kab/kota of the kelurahan in scope (every kab/kota for
    a whole refresh) and the reasons on their kelurahan_gap rows; returns how many.
    ``clock(stage)``, when given, is told when each step ends."""
    clock = clock or (lambda stage: None)
    kabs = None if p["kels"] is None else sorted({k[:5] for k in p["kels"]})
    q = {"e": p["e"], "kabs": kabs}
    in_kab = "" if kabs is None else " AND {} = ANY(:kabs)"
    conn.execute(sql(f"DELETE FROM suggestion WHERE election_id = :e "
                     f"{in_kab.format('kabkota_kode')}"), q)
    classes = tuple(in_force.patterns)
    by_kab: dict[str, list[dict]] = defaultdict(list)
    # the counts per class taken out of n_by_class by the server (no JSON decoded per row)
    n_cols = "".join(f", coalesce((n_by_class ->> :c{i})::int, 0)" for i in range(len(classes)))
    read = {**q, **{f"c{i}": k for i, k in enumerate(classes)}}
    n_keys = [f"n_{k}" for k in classes]
    g = len(_GAP_COLUMNS)
    # plain dicts, the kelurahan part of a GapTable as suggest() reads it (no frames: ~500
    # kab/kota nationally, where building frames cost more than planning)
    for r in conn.execute(sql(f"""
            SELECT {", ".join(_GAP_COLUMNS)}, not_ready, incidents_recent, n_escalated,
                   n_disagree {n_cols}
            FROM kelurahan_gap WHERE election_id = :e AND (polri_gap <> 0 OR linmas_gap <> 0)
                 {in_kab.format("left(kelurahan_kode, 5)")}
            ORDER BY kelurahan_kode"""), read):
        row = dict(zip(_GAP_COLUMNS, r))
        row.update(zip(n_keys, r[g + 4:]))
        not_ready, incidents, escalated, disagree = r[g:g + 4]
        kode = row["kelurahan_kode"]
        row["_facts"] = (not_ready, KelurahanFacts(kode, incidents, escalated, disagree))
        by_kab[kode[:5]].append(row)
    short = [k for k, rs in by_kab.items()
             if any(r["polri_gap"] > 0 or r["linmas_gap"] > 0 for r in rs)]
    reserves = _reserves(conn, rules, p, short)
    tables = {}
    for kab in short:
        context = SuggestContext(
            not_ready={r["kelurahan_kode"]: r["_facts"][0] for r in by_kab[kab]
                       if r["_facts"][0]},
            kelurahan=[r["_facts"][1] for r in by_kab[kab]])
        tables[kab] = (by_kab[kab], reserves[kab], context)
    clock("suggestions_read")
    donors = _Donors(conn, p["e"], short, rules)
    clock("suggestions_donors")
    plans = _plan(tables, classes, donors, rules)
    clock("suggestions_plan")
    write_suggestions(conn, p["e"], plans)
    clock("suggestions_write")
    _gap_reasons(conn, q, in_kab, plans)
    return sum(len(advice) for _, advice in plans)


def _reserves(conn: Connection, rules: Rules, p: dict, kabs: list[str]) -> dict[str, list[dict]]:
    """Per kab/kota: its Polsek reserves (per kecamatan) and its Polresta reserve (None)."""
    eid, polresta = p["e"], p["polresta_kab"]
    tni = rules.tni_counts_as_polri
    out: dict[str, list[dict]] = {k: [] for k in kabs}
    for r in conn.execute(sql("""
            SELECT kecamatan_kode, coalesce(sum(count) FILTER (WHERE agency = 'polri'), 0) AS polri,
                   coalesce(sum(count) FILTER (WHERE agency = 'linmas'), 0) AS linmas,
                   coalesce(sum(count) FILTER (WHERE agency = 'tni'), 0) AS tni
            FROM personnel_assignment
            WHERE election_id = :e AND target = 'reserve'
              AND (kecamatan_kode IS NULL OR left(kecamatan_kode, 5) = ANY(:kabs))
            GROUP BY 1 ORDER BY 1 NULLS LAST"""), {"e": eid, "kabs": kabs}):
        kab = r.kecamatan_kode[:5] if r.kecamatan_kode else polresta
        if kab in out:
            out[kab].append({"kecamatan_kode": r.kecamatan_kode,
                             "polri": int(r.polri) + (int(r.tni) if tni else 0),
                             "linmas": int(r.linmas), "tni": int(r.tni)})
    return out


def _plan(tables: dict, classes: tuple[str, ...], donors: "_Donors",
          rules: Rules) -> list[tuple[str, list]]:
    """suggest() per kab/kota over its kelurahan's nearest donors; the kelurahan that walked
    to the end of a cut-off list get longer lists (one query for all of them) and their
    kab/kota is planned again, until none did: then every walk saw exactly what it would
    have seen with every distance (the same plan)."""
    plans: dict[str, list] = {}
    todo = sorted(tables)
    while todo:
        ran_out: set[str] = set()
        for kab in todo:
            rows, reserves, context = tables[kab]
            plans[kab] = suggest_rows(rows, classes, reserves, donors.lists(kab), rules, context,
                                      ran_out=ran_out)
        todo = sorted({c[:5] for c in donors.widen(ran_out)})
    return [(kab, plans[kab]) for kab in sorted(plans)]


class _Donors:
    """Per short kelurahan, its donors of the same kab/kota (a surplus of an agency it is
    short of, with TPS) nearest first, found with KNN (``<->`` on a GiST index) a few at a
    time. A list cut off at its k-th donor is exact up to a horizon: no donor outside it can
    be nearer than the k-th one's planar distance times the fewest metres a degree can be
    there; beyond the horizon it is widened only when a walk needs it."""

    FIRST_K = 8

    def __init__(self, conn: Connection, eid: int, kabs: list[str], rules: Rules):
        self.conn = conn
        self.radius = min(DONOR_RADIUS_M, rules.max_distance_m or DONOR_RADIUS_M)
        self.found: dict[str, list[tuple[float, str]]] = {}
        self.cut: dict[str, int] = {}              # kode -> k of a list that was cut off
        self.codes_of: dict[str, list[str]] = defaultdict(list)
        if not kabs:
            return
        conn.execute(text("DROP TABLE IF EXISTS _gd_pts"))
        # one row per kelurahan and agency it is short of or can give: the ordered
        # index scan from a short kelurahan then meets donors only
        conn.execute(sql("""
            CREATE TEMP TABLE _gd_pts ON COMMIT DROP AS
            SELECT g.kelurahan_kode AS kode, left(g.kelurahan_kode, 5) AS kab, x.agency,
                   x.gap > 0 AS short, k.pt, k.pt::geography AS g, ST_Y(k.pt) AS lat
            FROM kelurahan_gap g JOIN kelurahan k ON k.kode = g.kelurahan_kode
            CROSS JOIN LATERAL (VALUES ('polri', g.polri_gap), ('linmas', g.linmas_gap))
                 AS x(agency, gap)
            WHERE g.election_id = :e AND g.n_tps > 0 AND x.gap <> 0
              AND left(g.kelurahan_kode, 5) = ANY(:kabs)"""), {"e": eid, "kabs": kabs})
        # a kelurahan short of an agency no kelurahan of its kab/kota can give needs no list
        # (nationally: every Linmas shortage, half the lateral scans below)
        conn.execute(text("""
            DELETE FROM _gd_pts s WHERE short AND NOT EXISTS (
              SELECT 1 FROM _gd_pts d WHERE NOT d.short AND d.kab = s.kab
                                        AND d.agency = s.agency)"""))
        conn.execute(text("CREATE INDEX ON _gd_pts USING gist (pt) WHERE NOT short"))
        # statistics of the geometry columns cost more than the whole KNN gains from them
        conn.execute(text("ANALYZE _gd_pts (kode, kab, agency, short)"))
        short = conn.execute(text("SELECT DISTINCT kode, kab FROM _gd_pts WHERE short "
                                  "ORDER BY kode")).all()
        for kode, kab in short:
            self.codes_of[kab].append(kode)
        self._fetch([k for k, _ in short], self.FIRST_K)

    def lists(self, kab: str):
        return NearestDonors({c: self.found.get(c, []) for c in self.codes_of[kab]})

    def widen(self, ran_out: set[str]) -> list[str]:
        """Fetch longer lists for the cut-off ones among ``ran_out``; returns those."""
        codes = sorted(c for c in ran_out if c in self.cut)
        if codes:
            self._fetch(codes, 4 * max(self.cut[c] for c in codes))
        return codes

    def _fetch(self, codes: list[str], k: int) -> None:
        # ST_Distance is taken in code order, so both directions give the same metres; the
        # lower bound uses 110 km per degree at the latitude 1 degree further from the equator.
        # On the driver's cursor: ~200k rows nationally, SQLAlchemy rows cost more than the query
        with self.conn.connection.driver_connection.cursor() as cur:
            rows = cur.execute("""
            SELECT a.kode, b.kode,
                   CASE WHEN a.kode < b.kode THEN ST_Distance(a.g, b.g)
                        ELSE ST_Distance(b.g, a.g) END AS m,
                   ST_Distance(a.pt, b.pt) * 110000 * cos(radians(least(abs(a.lat) + 1, 89)))
                     AS floor_m
            FROM (SELECT kode, min(kab) AS kab, (array_agg(pt))[1] AS pt,
                         (array_agg(g))[1] AS g, min(lat) AS lat, array_agg(agency) AS agencies
                  FROM _gd_pts WHERE short AND kode = ANY(%(kels)s) GROUP BY kode) a
            CROSS JOIN LATERAL (
              SELECT b.kode, b.g, b.pt FROM _gd_pts b
              -- the box (a little wider than the radius) keeps the ordered index scan near
              WHERE NOT b.short
                AND b.pt && ST_Expand(a.pt, %(r)s / (110000.0 * cos(radians(least(
                                                abs(a.lat) + %(r)s / 110000.0 + 0.01, 89.9)))),
                                      %(r)s / 110000.0)
                AND b.kab = a.kab AND b.kode <> a.kode
                AND b.agency = ANY(a.agencies)
                AND ST_DWithin(a.g, b.g, %(r)s)
              ORDER BY b.pt <-> a.pt LIMIT %(k)s) b""",
                               {"kels": codes, "k": k, "r": self.radius}).fetchall()
        got: dict[str, list] = defaultdict(list)
        for a, b, metres, floor_m in rows:
            got[a].append((float(metres), b, floor_m))
        for code in codes:
            found = got.get(code, [])
            horizon = max((f for _, _, f in found), default=0.0)
            if len(found) == k and horizon < self.radius:
                self.cut[code] = k                 # exact only up to the horizon
                found = [x for x in found if x[0] <= horizon]
            else:
                self.cut.pop(code, None)
            # a donor of both agencies comes once per agency
            self.found[code] = sorted({(m, b) for m, b, _ in found})


def write_suggestions(conn: Connection, eid: int, plans) -> None:
    """Store each kab/kota's suggestions one row per move, ranked from 1 in the kab/kota,
    with the move said in words (the donors' and Polsek's names, looked up once)."""
    codes = {m.kode for _, plan in plans for s in plan for m in s.moves if m.kode}
    names = dict(conn.execute(text("""
        SELECT kode, nama FROM kelurahan WHERE kode = ANY(:c)
        UNION ALL SELECT kode, nama FROM kecamatan WHERE kode = ANY(:c)"""),
        {"c": sorted(codes)}).all())
    kec_names = {k: v for k, v in names.items() if k.count(".") == 2}
    moves = []
    for kab, plan in plans:
        for rank, s in enumerate(plan, start=1):
            reasons = json.dumps(list(s.reasons), ensure_ascii=False)
            for m in s.moves:
                unit = (f"Polsek {kec_names.get(m.kode, m.kode)}" if m.source == "polsek_reserve"
                        else "Polresta" if m.source == "polresta_reserve" else None)
                moves.append((
                    eid, kab, rank, s.kelurahan_kode, s.agency, m.count, m.source,
                    m.kode if m.source == "kelurahan" else None, unit, m.distance_m,
                    s.required, s.assigned, s.gap, move_text(m, s.agency, names), reasons))
    if moves:
        # COPY: one stream instead of a statement per move (~90k moves nationally)
        with conn.connection.driver_connection.cursor() as cur, cur.copy(
                "COPY suggestion (election_id, kabkota_kode, rank, kelurahan_kode, agency, "
                "count, from_kind, from_kelurahan_kode, from_unit, distance_m, required, "
                "assigned, gap, move_text, reasons) FROM STDIN") as copy:
            for move in moves:
                copy.write_row(move)


def _gap_reasons(conn: Connection, q: dict, in_kab: str, plans) -> None:
    """kelurahan_gap.reasons = the reasons of its Polri suggestion, [] without one."""
    polri: dict[str, list[str]] = {}
    for _, plan in plans:
        for s in plan:
            if s.agency == "polri":
                polri.setdefault(s.kelurahan_kode, list(s.reasons))
    conn.execute(sql(f"""
        UPDATE kelurahan_gap g SET reasons = coalesce(CAST(:r AS jsonb) -> g.kelurahan_kode,
                                                      '[]'::jsonb)
        WHERE g.election_id = :e {in_kab.format("left(g.kelurahan_kode, 5)")}
          AND g.reasons IS DISTINCT FROM coalesce(CAST(:r AS jsonb) -> g.kelurahan_kode,
                                                  '[]'::jsonb)"""),
        {**q, "r": json.dumps(polri)})
