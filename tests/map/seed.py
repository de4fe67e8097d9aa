"""A small city for map tests: 2 kecamatan, 3 kelurahan, N TPS, analysis results, incidents,
facilities and one user per role (password PASSWORD). Hand-made so each number is known."""
from __future__ import annotations

import datetime as dt
import hashlib
import uuid

from sqlalchemy import Connection, text

from gisdesk import accounts
from gisdesk.analysis.rules import load_rules
from gisdesk.analysis.sql_gap import store_aggregates
from gisdesk.roles import ROLES

PASSWORD = "rahasia-123"
AS_OF = dt.datetime(2024, 2, 14, 5, 0, tzinfo=dt.timezone.utc)  # 13:00 WITA, voting day
KECAMATAN = {"52.71.01": "Ampenan", "52.71.02": "Mataram"}
# kode: (nama, west, south, east, north)
KELURAHAN = {
    "52.71.01.1004": ("Ampenan Selatan", 116.070, -8.590, 116.090, -8.570),
    "52.71.01.1005": ("Ampenan Tengah", 116.090, -8.590, 116.110, -8.570),
    "52.71.02.1001": ("Pagesangan", 116.110, -8.590, 116.130, -8.570),
}
# kelurahan -> (polri_required, polri_assigned, linmas_required, linmas_assigned, reasons)
GAPS = {
    "52.71.01.1004": (10, 4, 20, 14, ["3 TPS sangat rawan", "kejadian berat 24 jam terakhir"]),
    "52.71.01.1005": (6, 5, 12, 12, ["2 TPS rawan"]),
    "52.71.02.1001": (4, 6, 8, 10, []),
}


def _box(w, s, e, n) -> str:
    return f"MULTIPOLYGON((({w} {s},{e} {s},{e} {n},{w} {n},{w} {s})))"


def kelas_of(i: int) -> str:
    """Class of the i-th TPS (0-based): a fixed mix, so tests can count."""
    if i == 0:
        return "khusus"
    if i % 13 == 5:
        return "sangat_rawan"
    if i % 7 == 3:
        return "rawan"
    return "kurang_rawan"


def seed(conn: Connection, *, n_tps: int = 30, is_demo: bool = True) -> dict:
    for kode, nama in KECAMATAN.items():
        boxes = [v for k, v in KELURAHAN.items() if k.startswith(kode)]
        w, s = min(b[1] for b in boxes), min(b[2] for b in boxes)
        e, n = max(b[3] for b in boxes), max(b[4] for b in boxes)
        conn.execute(text("INSERT INTO kecamatan (kode, nama, geom) VALUES "
                          "(:k, :n, ST_GeomFromText(:g, 4326))"),
                     {"k": kode, "n": nama, "g": _box(w, s, e, n)})
    for kode, (nama, w, s, e, n) in KELURAHAN.items():
        conn.execute(text("INSERT INTO kelurahan (kode, nama, kecamatan_kode, geom) VALUES "
                          "(:k, :n, :kec, ST_GeomFromText(:g, 4326))"),
                     {"k": kode, "n": nama, "kec": kode[:8], "g": _box(w, s, e, n)})
    election_id = conn.execute(text(
        "INSERT INTO election (kode, nama, kind, voting_date, max_voters_per_tps, active, "
        "is_demo) VALUES ('pemilu-2024', 'Pemilu 2024', 'pemilu', '2024-02-14', 300, true, "
        ":demo) RETURNING id"), {"demo": is_demo}).scalar_one()
    conn.execute(text("INSERT INTO analysis_run (election_id, as_of) VALUES (:e, :t)"),
                 {"e": election_id, "t": AS_OF})
    kel_codes = list(KELURAHAN)
    tps_rows, counters = [], {k: 0 for k in kel_codes}
    for i in range(n_tps):
        kel = kel_codes[i % 3]
        counters[kel] += 1
        nomor = counters[kel]
        _, w, s, e, n = KELURAHAN[kel]
        # a grid inside the kelurahan, away from its edges
        col, row = (nomor - 1) % 20, (nomor - 1) // 20
        lon = w + 0.001 + col * (e - w - 0.002) / 20
        lat = s + 0.001 + (row % 20) * (n - s - 0.002) / 20
        tps_rows.append({"e": election_id, "k": f"{kel}-{nomor:03d}", "kel": kel, "no": nomor,
                         "dpt": 200 + i % 90, "lon": lon, "lat": lat, "i": i})
    conn.execute(text(
        "INSERT INTO tps (election_id, kode, kelurahan_kode, nomor, dpt, alamat, geom) VALUES "
        "(:e, :k, :kel, :no, :dpt, 'Jl. Contoh No. ' || :no, "
        "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"), tps_rows)
    ids = dict(conn.execute(text("SELECT kode, id FROM tps WHERE election_id = :e"),
                            {"e": election_id}).all())
    risk = []
    for r in tps_rows:
        kelas, i = kelas_of(r["i"]), r["i"]
        disagree = i % 10 == 9
        reasons = [f"Polri: {kelas.replace('_', ' ')}"]
        if disagree:
            reasons.append("Bawaslu: rawan (indikator politik uang)")
        risk.append({"t": ids[r["k"]], "e": election_id, "k": kelas, "d": disagree,
                     "kb": "rawan" if disagree else None, "r": _json(reasons)})
    conn.execute(text(
        "INSERT INTO tps_risk (tps_id, election_id, kelas, kelas_polri, kelas_bawaslu, "
        "disagree, reasons) VALUES (:t, :e, :k, :k, :kb, :d, CAST(:r AS jsonb))"), risk)
    for kel, (pr, pa, lr, la, reasons) in GAPS.items():
        conn.execute(text(
            "INSERT INTO kelurahan_gap (election_id, kelurahan_kode, kecamatan_kode, n_tps, "
            "polri_required, polri_assigned, polri_gap, linmas_required, linmas_assigned, "
            "linmas_gap, reasons) VALUES (:e, :k, :kec, :n, :pr, :pa, :pg, :lr, :la, :lg, "
            "CAST(:r AS jsonb))"),
            {"e": election_id, "k": kel, "kec": kel[:8], "n": counters[kel], "pr": pr, "pa": pa,
             "pg": pr - pa, "lr": lr, "la": la, "lg": lr - la, "r": _json(reasons)})
    # the stored sums the header strip and the kecamatan layer read, as refresh() keeps them
    conn.execute(text("""
        UPDATE kelurahan_gap g SET n_by_class = c.n_by FROM (
          SELECT kelurahan_kode, jsonb_object_agg(kelas, n) AS n_by FROM (
            SELECT t.kelurahan_kode, r.kelas, count(*) AS n
            FROM tps_risk r JOIN tps t ON t.id = r.tps_id WHERE r.election_id = :e
            GROUP BY 1, 2) x GROUP BY 1) c
        WHERE g.election_id = :e AND g.kelurahan_kode = c.kelurahan_kode"""), {"e": election_id})
    store_aggregates(conn, election_id, load_rules())
    incidents = [  # (category, severity, hours before AS_OF, status, lon, lat)
        ("intimidasi pemilih", "berat", 2, "verified", 116.080, -8.580),
        ("politik uang", "sedang", 40, "reported", 116.100, -8.575),
        ("hoaks <script>alert(1)</script>", "ringan", 1, "rejected", 116.120, -8.580),
    ]
    for cat, sev, hours, status, lon, lat in incidents:
        conn.execute(text(
            "INSERT INTO incident (id, election_id, category, severity, description, "
            "occurred_at, status, geom, kelurahan_kode, content_hash) VALUES "
            "(:id, :e, :c, :s, :d, :t, :st, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), "
            "(SELECT kode FROM kelurahan WHERE ST_Contains(geom, ST_SetSRID("
            "ST_MakePoint(:lon, :lat), 4326)) ORDER BY kode LIMIT 1), :h)"),
            {"id": uuid.uuid4(), "e": election_id, "c": cat, "s": sev, "st": status,
             "d": f"Uraian {cat}", "t": AS_OF - dt.timedelta(hours=hours), "lon": lon,
             "lat": lat, "h": hashlib.sha256(cat.encode()).hexdigest()})
    for kind, nama, lon, lat in (("polsek", "Polsek Ampenan", 116.085, -8.585),
                                 ("puskesmas", "Puskesmas Ampenan", 116.095, -8.585)):
        conn.execute(text(
            "INSERT INTO facility (kind, nama, kelurahan_kode, geom) VALUES "
            "(:k, :n, NULL, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"),
            {"k": kind, "n": nama, "lon": lon, "lat": lat})
    for role in ROLES:
        accounts.create_user(conn, role, PASSWORD, role,
                             agency="polri" if role == "operator" else None)
    return {"election_id": election_id, "n_tps": n_tps, "tps_ids": ids}


def _json(value) -> str:
    import json
    return json.dumps(value, ensure_ascii=False)
