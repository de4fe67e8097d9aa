"""A synthetic "big" election for the vector-tile tests: N TPS generated in SQL
(ST_GeneratePoints, seeded) inside a grid of synthetic kelurahan east of the test city, with
classes, readiness and gap rows, made the ACTIVE election (the city one stays, inactive)."""
from __future__ import annotations

import math

from sqlalchemy import Connection, text

from gisdesk.analysis.rules import load_rules
from gisdesk.analysis.sql_gap import store_aggregates

KECAMATAN = 6              # synthetic kecamatan 52.71.1x, each a column of kelurahan
KEL_PER_KEC = 8
WEST, SOUTH, EAST, NORTH = 116.14, -8.72, 116.32, -8.56


def seed_big(conn: Connection, n_tps: int = 30000, seed: float = 0.42) -> dict:
    n_kel = KECAMATAN * KEL_PER_KEC
    per_kel = math.ceil(n_tps / n_kel)
    assert per_kel <= 999, "TPS numbers have 3 digits"
    dx, dy = (EAST - WEST) / KECAMATAN, (NORTH - SOUTH) / KEL_PER_KEC
    for i in range(KECAMATAN):
        kec = f"52.71.{10 + i:02d}"
        w, e = WEST + i * dx, WEST + (i + 1) * dx
        conn.execute(text(
            "INSERT INTO kecamatan (kode, nama, geom) VALUES (:k, :n, "
            "ST_Multi(ST_MakeEnvelope(:w, :s, :e, :n2, 4326)))"),
            {"k": kec, "n": f"Besar {i + 1}", "w": w, "s": SOUTH, "e": e, "n2": NORTH})
        for j in range(KEL_PER_KEC):
            conn.execute(text(
                "INSERT INTO kelurahan (kode, nama, kecamatan_kode, geom) VALUES (:k, :n, :kec, "
                "ST_Multi(ST_MakeEnvelope(:w, :s, :e, :n2, 4326)))"),
                {"k": f"{kec}.{1001 + j}", "n": f"Besar {i + 1}-{j + 1}", "kec": kec,
                 "w": w, "s": SOUTH + j * dy, "e": e, "n2": SOUTH + (j + 1) * dy})
    conn.execute(text("UPDATE election SET active = false"))
    election_id = conn.execute(text(
        "INSERT INTO election (kode, nama, kind, voting_date, max_voters_per_tps, active, "
        "is_demo) VALUES ('besar-uji', 'Pemilu besar (uji)', 'pemilu', '2024-02-14', 300, "
        "true, true) RETURNING id")).scalar_one()
    conn.execute(text("INSERT INTO analysis_run (election_id, as_of) "
                      "VALUES (:e, '2024-02-14T05:00:00Z')"), {"e": election_id})
    conn.execute(text("SELECT setseed(:s)"), {"s": seed})
    conn.execute(text("""
        INSERT INTO tps (election_id, kode, kelurahan_kode, nomor, dpt, alamat, geom)
        SELECT :e, k.kode || '-' || lpad(d.n::text, 3, '0'), k.kode, d.n,
               150 + (d.n * 7) % 150, 'Jl. Sintetis ' || d.n, d.geom
        FROM kelurahan k,
             LATERAL (SELECT row_number() OVER () AS n, (dp).geom
                      FROM ST_Dump(ST_GeneratePoints(k.geom, :per, 7)) dp) d
        WHERE k.kode LIKE '52.71.1_.%'"""), {"e": election_id, "per": per_kel})
    conn.execute(text("""
        INSERT INTO tps_risk (tps_id, election_id, kelas, kelas_polri, disagree, reasons)
        SELECT id, election_id,
               CASE WHEN id % 13 = 5 THEN 'sangat_rawan' WHEN id % 7 = 3 THEN 'rawan'
                    WHEN id % 101 = 0 THEN 'khusus' ELSE 'kurang_rawan' END,
               NULL, id % 50 = 0, '["sintetis"]'::jsonb
        FROM tps WHERE election_id = :e"""), {"e": election_id})
    conn.execute(text("""
        INSERT INTO tps_readiness (tps_id, state)
        SELECT id, CASE WHEN id % 4 = 0 THEN 'belum' ELSE 'siap' END
        FROM tps WHERE election_id = :e"""), {"e": election_id})
    conn.execute(text("""
        INSERT INTO kelurahan_gap (election_id, kelurahan_kode, kecamatan_kode, n_tps, n_by_class,
            polri_required, polri_assigned, polri_gap, linmas_required, linmas_assigned,
            linmas_gap, not_ready, reasons)
        SELECT :e, c.kelurahan_kode, left(c.kelurahan_kode, 8), c.n, c.by_class,
               c.n / 2, c.n / 3, c.n / 2 - c.n / 3, c.n, c.n, 0, c.not_ready, '[]'::jsonb
        FROM (SELECT t.kelurahan_kode, count(*)::int AS n,
                     (SELECT jsonb_object_agg(kelas, m) FROM (
                        SELECT r2.kelas, count(*) AS m FROM tps t2
                        JOIN tps_risk r2 ON r2.tps_id = t2.id
                        WHERE t2.election_id = :e AND t2.kelurahan_kode = t.kelurahan_kode
                        GROUP BY 1) x) AS by_class,
                     count(*) FILTER (WHERE rd.state = 'belum')::int AS not_ready
              FROM tps t JOIN tps_readiness rd ON rd.tps_id = t.id
              WHERE t.election_id = :e GROUP BY 1) c"""), {"e": election_id})
    store_aggregates(conn, election_id, load_rules())      # what the totals strip reads
    n = conn.execute(text("SELECT count(*) FROM tps WHERE election_id = :e"),
                     {"e": election_id}).scalar_one()
    return {"election_id": election_id, "n_tps": n,
            "bounds": (WEST, SOUTH, EAST, NORTH)}
