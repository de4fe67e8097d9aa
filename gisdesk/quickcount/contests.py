"""Which election and contest the quick count works on; the demo's presidential contest."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from gisdesk.errors import InputRejected, NotFound, Problem

# Pemilu 2024, pemilihan presiden dan wakil presiden (PPWP): the three pairs by ballot number.
PPWP_2024 = ("ppwp", "Pemilihan Presiden dan Wakil Presiden", (
    (1, "Anies Baswedan – Muhaimin Iskandar"),
    (2, "Prabowo Subianto – Gibran Rakabuming Raka"),
    (3, "Ganjar Pranowo – Mahfud MD"),
))


@dataclass(frozen=True)
class Election:
    id: int
    kode: str
    nama: str
    max_voters_per_tps: int


@dataclass(frozen=True)
class Contest:
    id: int
    election_id: int
    kode: str
    nama: str
    candidates: tuple[tuple[int, str], ...]  # (nomor, nama), by nomor

    @property
    def nomors(self) -> tuple[int, ...]:
        return tuple(n for n, _ in self.candidates)

    def as_json(self) -> dict:
        return {"kode": self.kode, "nama": self.nama,
                "candidates": [{"nomor": n, "nama": nama} for n, nama in self.candidates]}


def active_election(conn: Connection) -> Election:
    row = conn.execute(text("SELECT id, kode, nama, max_voters_per_tps FROM election "
                            "WHERE active")).first()
    if row is None:
        raise NotFound("Belum ada pemilu aktif. Admin perlu memilih pemilu yang sedang berjalan.")
    return Election(*row)


def list_contests(conn: Connection, election_id: int) -> list[Contest]:
    rows = conn.execute(text("""
        SELECT c.id, c.kode, c.nama,
               coalesce(json_agg(json_build_array(d.nomor, d.nama) ORDER BY d.nomor)
                        FILTER (WHERE d.id IS NOT NULL), '[]') AS candidates
        FROM contest c LEFT JOIN candidate d ON d.contest_id = c.id
        WHERE c.election_id = :e GROUP BY c.id ORDER BY c.id"""), {"e": election_id}).all()
    return [Contest(r.id, election_id, r.kode, r.nama, tuple((n, nm) for n, nm in r.candidates))
            for r in rows]


def contest(conn: Connection, election_id: int, kode: str | None,
            *, field: str = "contest") -> Contest:
    """The contest named by ``kode``, or the election's only contest when none is given."""
    found = list_contests(conn, election_id)
    if kode in (None, "") and len(found) == 1:
        return found[0]
    for c in found:
        if c.kode == kode:
            return c
    choices = ", ".join(c.kode for c in found) or "belum ada"
    message = (f"Pilih jenis pemilihan (pilihan: {choices})" if kode in (None, "") else
               f"Jenis pemilihan '{kode}' tidak dikenal (pilihan: {choices})")
    raise InputRejected(message, [Problem(None, field, message, value=kode)], field=field)


def seed_demo_contest(conn: Connection, election_id: int) -> int:
    """Create the Pemilu 2024 presidential contest with its three pairs (idempotent).

    Returns the contest id. Names of existing candidates are brought up to date.
    """
    kode, nama, pairs = PPWP_2024
    contest_id = conn.execute(text("""
        INSERT INTO contest (election_id, kode, nama) VALUES (:e, :k, :n)
        ON CONFLICT (election_id, kode) DO UPDATE SET nama = EXCLUDED.nama
        RETURNING id"""), {"e": election_id, "k": kode, "n": nama}).scalar_one()
    conn.execute(text("""
        INSERT INTO candidate (contest_id, nomor, nama) VALUES (:c, :nomor, :nama)
        ON CONFLICT (contest_id, nomor) DO UPDATE SET nama = EXCLUDED.nama"""),
                 [{"c": contest_id, "nomor": n, "nama": nm} for n, nm in pairs])
    return contest_id


def tps_choices(conn: Connection, election_id: int, kelurahan_kode: str | None = None) -> list:
    """TPS an operator may pick (only its own kelurahan when the account is scoped)."""
    return conn.execute(text("""
        SELECT t.kode AS tps_kode, t.nomor, t.dpt, k.nama AS kelurahan_nama
        FROM tps t JOIN kelurahan k ON k.kode = t.kelurahan_kode
        WHERE t.election_id = :e AND (CAST(:k AS text) IS NULL OR t.kelurahan_kode = :k)
        ORDER BY t.kode"""), {"e": election_id, "k": kelurahan_kode}).mappings().all()
