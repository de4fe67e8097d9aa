"""Write the Mataram demo into the database: one transaction, bulk COPY, spatial joins in SQL.

Precondition: the Kota Mataram kelurahan/kecamatan boundaries are loaded (boundary import).
Idempotent by election code: a second run finds the election and changes nothing.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import time

import geopandas as gpd
import shapely
from sqlalchemy import Connection, text

from gisdesk import accounts, audit
from gisdesk.demo import taxonomy as tx
from gisdesk.demo.generate import DEFAULT_AS_OF, DemoData, generate
from gisdesk.demo.results import load_results
from gisdesk.errors import InputRejected, NotFound
from gisdesk.quickcount.contests import seed_demo_contest

LOGGER = logging.getLogger(__name__)
SOURCE = "demo"


def load_demo(conn: Connection, *, seed: int = 2024, as_of: dt.datetime | None = None,
              actor: str = "demo", demo_password: str = tx.DEMO_PASSWORD) -> dict:
    """Create the demo election and its data; return counts.

    Runs in the caller's transaction when one is open (the caller commits), otherwise in a
    transaction of its own. Reuses the election ``pemilu-2024-mataram`` if it exists (then
    only missing demo users are added; ``created`` is False).
    """
    if conn.in_transaction():
        return _load(conn, seed, as_of or DEFAULT_AS_OF, actor, demo_password)
    with conn.begin():
        return _load(conn, seed, as_of or DEFAULT_AS_OF, actor, demo_password)


def _load(conn: Connection, seed: int, as_of: dt.datetime, actor: str, password: str) -> dict:
    started = time.perf_counter()
    # two processes loading the demo at once (two `make run`s) must not both insert
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('gisdesk.demo.load'))"))
    election_id = conn.execute(text("SELECT id FROM election WHERE kode = :k"),
                               {"k": tx.ELECTION["kode"]}).scalar()
    if election_id is not None:
        users = _ensure_users(conn, election_id, password, actor)
        return {**_counts(conn, election_id), "created": False, "users_created": users}

    kelurahan = read_kelurahan(conn)
    data = generate(kelurahan, seed=seed, as_of=as_of)
    election_id = _insert_election(conn, as_of)
    seed_demo_contest(conn, election_id)    # the presidential contest for the quick count
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        tps_ids = _copy_tps(cur, election_id, data)
        _copy_ratings(cur, election_id, data, tps_ids)
        # checklists are ticked by the desk staff at the TPS, not by whoever loaded the demo
        _copy_readiness(cur, data, tps_ids, tx.DEMO_DESK_STAFF)
        _copy_personnel(cur, election_id, data, tps_ids, actor)
        _insert_facilities(cur, data)
        _insert_incidents(cur, election_id, data)
    users = _ensure_users(conn, election_id, password, actor)
    load_results(conn, election_id, seed=seed, actor=actor)  # demo quick count (own audit)
    counts = {**_counts(conn, election_id), "created": True, "users_created": users}
    counts["seconds"] = round(time.perf_counter() - started, 2)
    audit.record(conn, actor, "demo.load", tx.ELECTION["kode"],
                 {"seed": seed, "as_of": as_of.isoformat(), "hot_kelurahan": list(data.hot),
                  "counts": counts})
    LOGGER.info("demo loaded: %s", counts)
    return counts


def read_kelurahan(conn: Connection) -> gpd.GeoDataFrame:
    """The Kota Mataram kelurahan as stored (EPSG:4326), the input of ``generate``."""
    rows = conn.execute(text(
        "SELECT kode, nama, kecamatan_kode, ST_AsBinary(geom) AS wkb FROM kelurahan "
        "WHERE kode LIKE :prefix ORDER BY kode"),
        {"prefix": tx.ELECTION["wilayah_kode"] + ".%"}).all()
    if not rows:
        raise NotFound("Batas kelurahan Kota Mataram (52.71) belum dimuat: jalankan "
                       "`gisdesk import boundaries FILE` dulu, lalu `gisdesk demo`.")
    if not any(r.kecamatan_kode == tx.PRISON["kecamatan_kode"] for r in rows):
        raise InputRejected("Kecamatan Selaparang (52.71.05) tidak ada di batas wilayah; "
                            "data demo membutuhkan keenam kecamatan Kota Mataram.")
    return gpd.GeoDataFrame(
        {"kode": [r.kode for r in rows], "nama": [r.nama for r in rows],
         "kecamatan_kode": [r.kecamatan_kode for r in rows]},
        geometry=shapely.from_wkb([bytes(r.wkb) for r in rows]), crs="EPSG:4326")


def _insert_election(conn: Connection, as_of: dt.datetime) -> int:
    """The demo election, its analysis time pinned at ``as_of`` (the demo's "now")."""
    e = tx.ELECTION
    # only one election may be active; do not take that away from a real one
    other_active = conn.execute(text("SELECT 1 FROM election WHERE active")).first()
    return conn.execute(text(
        "INSERT INTO election (kode, nama, kind, voting_date, campaign_start, "
        "max_voters_per_tps, wilayah_kode, active, is_demo, pinned_as_of) "
        "VALUES (:kode, :nama, :kind, :vd, :cs, :mx, :wk, :active, true, :as_of) RETURNING id"),
        {"kode": e["kode"], "nama": e["nama"], "kind": e["kind"],
         "vd": dt.date.fromisoformat(e["voting_date"]),
         "cs": dt.date.fromisoformat(e["campaign_start"]), "mx": e["max_voters_per_tps"],
         "wk": e["wilayah_kode"], "active": other_active is None, "as_of": as_of}).scalar_one()


def _point(lon: float, lat: float) -> str:
    return f"SRID=4326;POINT({lon:.7f} {lat:.7f})"


def _cols(frame, *names: str):
    """Rows of the named columns as plain Python values (NaN/NaT -> None)."""
    return zip(*([_none(v) for v in frame[n].tolist()] for n in names))


def _copy(cur, table: str, columns: tuple[str, ...], rows) -> None:
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _copy_tps(cur, election_id: int, data: DemoData) -> dict[str, int]:
    t = data.tps
    _copy(cur, "tps", ("election_id", "kode", "kelurahan_kode", "nomor", "dpt", "alamat",
                       "lokasi_khusus", "geom"),
          ((election_id, k, kel, int(n), int(d), a, bool(x), _point(lon, lat))
           for k, kel, n, d, a, x, lon, lat in _cols(t, "kode", "kelurahan_kode", "nomor", "dpt",
                                                     "alamat", "lokasi_khusus", "lon", "lat")))
    cur.execute("SELECT kode, id FROM tps WHERE election_id = %s", (election_id,))
    return dict(cur.fetchall())


def _none(value):
    return None if value is None or value != value else value   # NaN -> None


def _copy_ratings(cur, election_id: int, data: DemoData, tps_ids: dict[str, int]) -> None:
    r = data.ratings
    _copy(cur, "rating", ("election_id", "source", "tps_id", "kelurahan_kode", "kelas",
                          "indicators", "rated_on", "note"),
          ((election_id, src, tps_ids[tk] if tk else None, kk, kelas, json.dumps(ind), on, note)
           for src, tk, kk, kelas, ind, on, note in _cols(r, "source", "tps_kode", "kelurahan_kode",
                                                         "kelas", "indicators", "rated_on",
                                                         "note")))


def _copy_readiness(cur, data: DemoData, tps_ids: dict[str, int], actor: str) -> None:
    r = data.readiness
    rows = [(tps_ids[k], s, json.dumps(i), n, at, cu)
            for k, s, i, n, at, cu in _cols(r, "tps_kode", "state", "items", "note", "updated_at",
                                            "client_uuid")]
    _copy(cur, "tps_readiness", ("tps_id", "state", "items", "note", "updated_at", "updated_by"),
          (row[:5] + (actor,) for row in rows))
    _copy(cur, "tps_readiness_history", ("tps_id", "state", "items", "note", "recorded_at",
                                         "client_uuid", "recorded_by"),
          (row + (actor,) for row in rows))


def _copy_personnel(cur, election_id: int, data: DemoData, tps_ids: dict[str, int],
                    actor: str) -> None:
    p = data.personnel
    _copy(cur, "personnel_assignment", ("election_id", "agency", "target", "tps_id",
                                        "kelurahan_kode", "kecamatan_kode", "unit", "count",
                                        "note", "created_by"),
          ((election_id, a, t, tps_ids[tk] if tk else None, kk, kc, u, int(c), n, actor)
           for a, t, tk, kk, kc, u, c, n in _cols(p, "agency", "target", "tps_kode",
                                                  "kelurahan_kode", "kecamatan_kode", "unit",
                                                  "count", "note")))


# A point on a shared edge or in an overlap goes to the containing kelurahan with the lowest
# code (DESIGN.md "Overlaps and gaps").
_KELURAHAN_OF = ("LEFT JOIN LATERAL (SELECT k.kode, k.kecamatan_kode FROM kelurahan k "
                 "WHERE ST_Contains(k.geom, p.geom) ORDER BY k.kode LIMIT 1) kel ON true")


def _insert_facilities(cur, data: DemoData) -> None:
    f = data.facilities
    cur.execute("CREATE TEMP TABLE demo_facility (kind text, nama text, alamat text, "
                "lon float8, lat float8) ON COMMIT DROP")
    _copy(cur, "demo_facility", ("kind", "nama", "alamat", "lon", "lat"),
          _cols(f, "kind", "nama", "alamat", "lon", "lat"))
    cur.execute(f"""
        INSERT INTO facility (kind, nama, alamat, kelurahan_kode, kecamatan_kode, geom, source)
        SELECT s.kind, s.nama, s.alamat, kel.kode, kel.kecamatan_kode, p.geom, %s
        FROM demo_facility s
        CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326) AS geom) p
        {_KELURAHAN_OF}
        ON CONFLICT (kind, nama) DO NOTHING""", (SOURCE,))
    cur.execute("DROP TABLE demo_facility")


def _insert_incidents(cur, election_id: int, data: DemoData) -> None:
    """Kelurahan by point-in-polygon, nearest TPS by KNN (<->) refined by geography distance."""
    i = data.incidents
    cols = ("id", "category", "severity", "description", "occurred_at", "reported_at",
            "reporter_name", "status", "lon", "lat", "content_hash", "reviewed_by",
            "reviewed_at", "review_note")
    cur.execute("CREATE TEMP TABLE demo_incident (id uuid, category text, severity text, "
                "description text, occurred_at timestamptz, reported_at timestamptz, "
                "reporter_name text, status text, lon float8, lat float8, content_hash text, "
                "reviewed_by text, reviewed_at timestamptz, review_note text) ON COMMIT DROP")
    _copy(cur, "demo_incident", cols, _cols(i, *cols))
    cur.execute(f"""
        INSERT INTO incident (id, election_id, category, severity, description, occurred_at,
                              reported_at, reporter_name, status, geom, kelurahan_kode, tps_id,
                              tps_distance_m, content_hash, reviewed_by, reviewed_at, review_note)
        SELECT s.id, %(e)s, s.category, s.severity, s.description, s.occurred_at, s.reported_at,
               s.reporter_name, s.status, p.geom, kel.kode, near.id, near.distance_m,
               s.content_hash, s.reviewed_by, s.reviewed_at, s.review_note
        FROM demo_incident s
        CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326) AS geom) p
        {_KELURAHAN_OF}
        LEFT JOIN LATERAL (
            SELECT c.id, ST_Distance(c.geom::geography, p.geom::geography) AS distance_m
            FROM (SELECT t.id, t.geom FROM tps t WHERE t.election_id = %(e)s
                  ORDER BY t.geom <-> p.geom LIMIT 8) c
            ORDER BY distance_m, c.id LIMIT 1) near ON true
        ON CONFLICT (id) DO NOTHING""", {"e": election_id})
    cur.execute("DROP TABLE demo_incident")


def _ensure_users(conn: Connection, election_id: int, password: str, actor: str) -> int:
    """One demo user per role; existing users are left as they are."""
    existing = set(conn.execute(text("SELECT username FROM users")).scalars())
    missing = [u for u in tx.USERS if u not in existing]
    if not missing:
        return 0
    # the desk operator is scoped to the kelurahan with the most TPS Polri rates rawan or worse
    scope = conn.execute(text(
        "SELECT t.kelurahan_kode FROM rating r JOIN tps t ON t.id = r.tps_id "
        "WHERE r.election_id = :e AND r.source = 'polri' AND r.kelas IN ('rawan', 'sangat_rawan') "
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"), {"e": election_id}).scalar()
    for username in missing:
        role, agency, full_name = tx.USERS[username]
        accounts.create_user(conn, username, password, role, agency=agency,
                             kelurahan_kode=scope if role == "desk_staff" else None,
                             full_name=full_name, actor=actor)
    return len(missing)


def _counts(conn: Connection, election_id: int) -> dict:
    row = conn.execute(text("""
        SELECT
          (SELECT count(*) FROM tps WHERE election_id = :e) AS tps,
          (SELECT coalesce(sum(dpt), 0) FROM tps WHERE election_id = :e) AS dpt,
          (SELECT count(*) FROM tps WHERE election_id = :e AND lokasi_khusus) AS tps_khusus,
          (SELECT count(*) FROM rating WHERE election_id = :e) AS ratings,
          (SELECT count(*) FROM tps_readiness r JOIN tps t ON t.id = r.tps_id
            WHERE t.election_id = :e) AS readiness,
          (SELECT count(*) FROM tps_readiness_history r JOIN tps t ON t.id = r.tps_id
            WHERE t.election_id = :e) AS readiness_history,
          (SELECT count(*) FROM personnel_assignment WHERE election_id = :e) AS personnel,
          (SELECT count(*) FROM incident WHERE election_id = :e) AS incidents,
          (SELECT count(*) FROM facility WHERE source = :s) AS facilities,
          (SELECT count(*) FROM candidate c JOIN contest k ON k.id = c.contest_id
            WHERE k.election_id = :e) AS candidates
        """), {"e": election_id, "s": SOURCE}).mappings().one()
    by_source = dict(conn.execute(text(
        "SELECT source, count(*) FROM rating WHERE election_id = :e GROUP BY source"),
        {"e": election_id}).all())
    return {"election_id": election_id, **{k: int(v) for k, v in row.items()},
            **{f"ratings_{s}": int(by_source.get(s, 0)) for s in ("polri", "kpu", "bawaslu")}}
