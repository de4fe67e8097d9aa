"""A tiny election for quick-count tests: 1 kecamatan, 2 kelurahan, 4 TPS, the presidential
contest (3 pairs) and one user per role (operators of KPU, Polri and Bawaslu).

Kelurahan 52.71.01.1001 (west half) has TPS 001-003 (DPT 200, 250, 280); 52.71.01.1002
(east half) has TPS 001 (DPT 270): 4 TPS, DPT 1,000 in all. Max 300 voters per TPS.
"""
from __future__ import annotations

from sqlalchemy import Connection, text

from gisdesk.accounts import create_user
from gisdesk.quickcount import seed_demo_contest

PASSWORD = "rahasia-123"
KEC = "52.71.01"
KEL_A = "52.71.01.1001"
KEL_B = "52.71.01.1002"
TPS = {  # kode -> (kelurahan, nomor, dpt, lon, lat)
    f"{KEL_A}-001": (KEL_A, 1, 200, 116.075, -8.585),
    f"{KEL_A}-002": (KEL_A, 2, 250, 116.078, -8.580),
    f"{KEL_A}-003": (KEL_A, 3, 280, 116.080, -8.590),
    f"{KEL_B}-001": (KEL_B, 1, 270, 116.095, -8.585),
}
USERS = {  # username -> (role, agency)
    "viewer1": ("viewer", None),
    "planner1": ("planner", None),
    "desk1": ("desk_staff", "pemkot"),
    "kepala": ("supervisor", "pemkot"),
    "admin1": ("admin", None),
    "op_kpu": ("operator", "kpu"),
    "op_polri": ("operator", "polri"),
    "op_bawaslu": ("operator", "bawaslu"),
}


def _box(w: float, s: float, e: float, n: float) -> str:
    return f"SRID=4326;MULTIPOLYGON((({w} {s},{e} {s},{e} {n},{w} {n},{w} {s})))"


def seed_election(conn: Connection) -> dict:
    election_id = conn.execute(text("""
        INSERT INTO election (kode, nama, kind, voting_date, max_voters_per_tps, wilayah_kode,
                              active)
        VALUES ('uji-2024', 'Pemilu 2024 (uji)', 'pemilu', '2024-02-14', 300, '52.71', true)
        RETURNING id""")).scalar_one()
    conn.execute(text("INSERT INTO kecamatan (kode, nama, geom) VALUES (:k, 'Ampenan', "
                      "ST_GeomFromEWKT(:g))"), {"k": KEC, "g": _box(116.07, -8.60, 116.10, -8.57)})
    for kode, nama, box in ((KEL_A, "Ampenan Barat", (116.07, -8.60, 116.085, -8.57)),
                            (KEL_B, "Ampenan Timur", (116.085, -8.60, 116.10, -8.57))):
        conn.execute(text("INSERT INTO kelurahan (kode, nama, kecamatan_kode, geom) "
                          "VALUES (:k, :n, :kec, ST_GeomFromEWKT(:g))"),
                     {"k": kode, "n": nama, "kec": KEC, "g": _box(*box)})
    tps_ids = {}
    for kode, (kel, nomor, dpt, lon, lat) in TPS.items():
        tps_ids[kode] = conn.execute(text("""
            INSERT INTO tps (kode, election_id, kelurahan_kode, nomor, dpt, geom)
            VALUES (:kode, :e, :kel, :nomor, :dpt, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
            RETURNING id"""), {"kode": kode, "e": election_id, "kel": kel, "nomor": nomor,
                               "dpt": dpt, "lon": lon, "lat": lat}).scalar_one()
    contest_id = seed_demo_contest(conn, election_id)
    for username, (role, agency) in USERS.items():
        create_user(conn, username, PASSWORD, role, agency=agency)
    return {"election_id": election_id, "contest_id": contest_id, "tps_ids": tps_ids}
