"""A small area of our own for the entry tests: one kecamatan, two overlapping kelurahan,
three TPS, the active election and a user (with an API token) for every role.

Kelurahan A (52.71.01.1001): lon 116.060-116.080, lat -8.600..-8.570
Kelurahan B (52.71.01.1002): lon 116.0795-116.100 (overlaps A on a 55 m strip)
"""
from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Engine, text

from gisdesk import accounts

KEC = "52.71.01"
KEL_A, KEL_B = "52.71.01.1001", "52.71.01.1002"
TPS = {f"{KEL_A}-001": (116.070, -8.575), f"{KEL_A}-002": (116.075, -8.578),
       f"{KEL_B}-001": (116.090, -8.575)}
ROLES = ("viewer", "planner", "desk_staff", "supervisor", "operator", "admin")
PASSWORD = "rahasia-123"
CAMPAIGN_START = dt.date(2023, 11, 28)
# points
IN_A = (116.0705, -8.5755)            # 60 m from TPS A-001
IN_B = (116.0905, -8.5755)
IN_OVERLAP = (116.0798, -8.585)       # in A and B -> A (lowest code)
FAR_FROM_TPS = (116.065, -8.598)      # inside A, > 2 km from every TPS
NEAR_EDGE = (116.05975, -8.585)       # ~28 m west of A
OUTSIDE = (116.150, -8.580)           # ~5.5 km east of B


def _box(w, s, e, n) -> str:
    return f"MULTIPOLYGON((({w} {s},{e} {s},{e} {n},{w} {n},{w} {s})))"


def seed(engine: Engine) -> dict:
    out: dict = {"users": {}, "tokens": {}}
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO election (kode, nama, kind, voting_date, campaign_start, "
            "max_voters_per_tps, wilayah_kode, active) VALUES ('uji-2024', 'Pemilu Uji 2024', "
            "'pemilu', '2024-02-14', :c, 300, '52.71', true)"), {"c": CAMPAIGN_START})
        out["election_id"] = conn.execute(text("SELECT id FROM election WHERE active")).scalar()
        conn.execute(text("INSERT INTO kecamatan (kode, nama, geom) VALUES (:k, 'Uji', "
                          "ST_GeomFromText(:g, 4326))"),
                     {"k": KEC, "g": _box(116.06, -8.60, 116.10, -8.57)})
        for kode, nama, box in ((KEL_A, "Kelurahan A", (116.06, -8.60, 116.08, -8.57)),
                                (KEL_B, "Kelurahan B", (116.0795, -8.60, 116.10, -8.57))):
            conn.execute(text("INSERT INTO kelurahan (kode, nama, kecamatan_kode, geom) "
                              "VALUES (:k, :n, :kec, ST_GeomFromText(:g, 4326))"),
                         {"k": kode, "n": nama, "kec": KEC, "g": _box(*box)})
        for kode, (lon, lat) in TPS.items():
            conn.execute(text(
                "INSERT INTO tps (kode, election_id, kelurahan_kode, nomor, dpt, geom) "
                "VALUES (:k, :e, :kel, :n, 250, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"),
                {"k": kode, "e": out["election_id"], "kel": kode[:13], "n": int(kode[-3:]),
                 "lon": lon, "lat": lat})
        for role in ROLES:
            name = f"uji_{role}"
            uid = accounts.create_user(conn, name, PASSWORD, role,
                                       agency="kpu" if role == "operator" else None,
                                       full_name=f"Petugas {role}")
            out["users"][role] = uid
            out["tokens"][role] = accounts.create_token(conn, uid, "tes", "tests")
    return out


def new_id() -> str:
    return str(uuid.uuid4())
