"""Quick-count aggregation TPS -> kelurahan -> kecamatan -> city, from counted entries only.

A TPS counts for a contest when (a) only one agency entered it, or all agencies' current
entries agree (no flag, or its flag is ``agreed``): the latest of them counts; or (b) a
supervisor resolved its flag: the chosen entry counts. An ``open`` flag keeps the TPS out.
Progress is TPS in / TPS total and DPT of counted TPS / DPT total (from the tps table).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from sqlalchemy import Connection, text

from gisdesk.quickcount.contests import Contest

NOTICE = "INTERNAL — TIDAK RESMI (bukan hasil resmi KPU)"

# One row per TPS of the election that counts, with the entry that counts for it.
COUNTED_SQL = """
    (SELECT DISTINCT ON (e.tps_id) e.tps_id, e.id AS entry_id
     FROM result_entry e
     LEFT JOIN result_flag f ON f.tps_id = e.tps_id AND f.contest_id = e.contest_id
     WHERE e.contest_id = :c AND e.status = 'active' AND (f.id IS NULL OR f.status = 'agreed')
     ORDER BY e.tps_id, e.entered_at DESC, e.id)
    UNION ALL
    (SELECT f.tps_id, f.chosen_entry_id FROM result_flag f
     WHERE f.contest_id = :c AND f.status = 'resolved')
"""


@dataclass
class Area:
    """Sums for one kelurahan, kecamatan or the city."""

    level: str
    kode: str
    nama: str
    parent_kode: str | None = None
    tps_total: int = 0
    tps_in: int = 0
    tps_flagged: int = 0
    dpt_total: int = 0
    dpt_in: int = 0
    valid: int = 0
    invalid: int = 0
    ballots_used: int = 0
    votes: dict[int, int] = field(default_factory=dict)

    def add(self, other: Area) -> None:
        for name in ("tps_total", "tps_in", "tps_flagged", "dpt_total", "dpt_in", "valid",
                     "invalid", "ballots_used"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for nomor, v in other.votes.items():
            self.votes[nomor] = self.votes.get(nomor, 0) + v

    @property
    def progress_pct(self) -> float:
        return round(100 * self.tps_in / self.tps_total, 2) if self.tps_total else 0.0

    @property
    def dpt_pct(self) -> float:
        return round(100 * self.dpt_in / self.dpt_total, 2) if self.dpt_total else 0.0

    @property
    def shares(self) -> dict[int, float]:
        """Percentage of candidate votes per candidate (0 when nothing counted yet)."""
        total = sum(self.votes.values())
        return {n: round(100 * v / total, 2) if total else 0.0
                for n, v in sorted(self.votes.items())}

    @property
    def leading(self) -> int | None:
        """The candidate ahead, None before any vote or on a tie for first place."""
        if not self.votes or max(self.votes.values()) == 0:
            return None
        best = max(self.votes.values())
        top = [n for n, v in self.votes.items() if v == best]
        return top[0] if len(top) == 1 else None

    def as_json(self) -> dict:
        return {"level": self.level, "kode": self.kode, "nama": self.nama,
                "parent_kode": self.parent_kode, "tps_in": self.tps_in,
                "tps_total": self.tps_total, "progress_pct": self.progress_pct,
                "tps_flagged": self.tps_flagged, "dpt_in": self.dpt_in,
                "dpt_total": self.dpt_total, "dpt_pct": self.dpt_pct, "valid": self.valid,
                "invalid": self.invalid, "ballots_used": self.ballots_used,
                "votes": {str(n): v for n, v in sorted(self.votes.items())},
                "shares": {str(n): s for n, s in self.shares.items()},
                "leading": self.leading}


def rollup(kelurahan: Iterable[Area], kecamatan_names: dict[str, str], nomors: Iterable[int],
           city_kode: str = "", city_nama: str = "Kota") -> tuple[Area, list[Area]]:
    """Sum kelurahan into kecamatan (by parent_kode) and the city. Pure."""
    nomors = tuple(nomors)
    city = Area("kota", city_kode, city_nama, votes={n: 0 for n in nomors})
    by_kecamatan: dict[str, Area] = {}
    for kel in kelurahan:
        kec = by_kecamatan.setdefault(kel.parent_kode, Area(
            "kecamatan", kel.parent_kode, kecamatan_names.get(kel.parent_kode, kel.parent_kode),
            parent_kode=city_kode, votes={n: 0 for n in nomors}))
        kec.add(kel)
        city.add(kel)
    return city, [by_kecamatan[k] for k in sorted(by_kecamatan)]


def kelurahan_areas(conn: Connection, election_id: int, contest: Contest) -> list[Area]:
    """One Area per kelurahan with TPS in the election; every candidate present (0 if none)."""
    params = {"e": election_id, "c": contest.id}
    rows = conn.execute(text(f"""
        WITH counted AS ({COUNTED_SQL})
        SELECT k.kode, k.nama, k.kecamatan_kode,
               count(t.id) AS tps_total, count(c.entry_id) AS tps_in,
               count(f.id) FILTER (WHERE f.status = 'open') AS tps_flagged,
               coalesce(sum(t.dpt), 0) AS dpt_total,
               coalesce(sum(t.dpt) FILTER (WHERE c.entry_id IS NOT NULL), 0) AS dpt_in,
               coalesce(sum(e.valid), 0) AS valid, coalesce(sum(e.invalid), 0) AS invalid,
               coalesce(sum(e.ballots_used), 0) AS ballots_used
        FROM tps t
        JOIN kelurahan k ON k.kode = t.kelurahan_kode
        LEFT JOIN counted c ON c.tps_id = t.id
        LEFT JOIN result_entry e ON e.id = c.entry_id
        LEFT JOIN result_flag f ON f.tps_id = t.id AND f.contest_id = :c
        WHERE t.election_id = :e
        GROUP BY k.kode, k.nama, k.kecamatan_kode ORDER BY k.kode"""), params).all()
    votes: dict[str, dict[int, int]] = {}
    for kode, nomor, total in conn.execute(text(f"""
            WITH counted AS ({COUNTED_SQL})
            SELECT t.kelurahan_kode, v.key::int, sum(v.value::int)
            FROM counted c JOIN tps t ON t.id = c.tps_id
            JOIN result_entry e ON e.id = c.entry_id, jsonb_each_text(e.votes) v
            WHERE t.election_id = :e
            GROUP BY 1, 2"""), params):
        votes.setdefault(kode, {})[nomor] = int(total)
    return [Area("kelurahan", r.kode, r.nama, r.kecamatan_kode, r.tps_total, r.tps_in,
                 r.tps_flagged, int(r.dpt_total), int(r.dpt_in), int(r.valid), int(r.invalid),
                 int(r.ballots_used), {n: votes.get(r.kode, {}).get(n, 0)
                                       for n in contest.nomors})
            for r in rows]


def _city(conn: Connection, election_id: int) -> tuple[str, str]:
    kode = conn.execute(text("SELECT coalesce(wilayah_kode, '') FROM election WHERE id = :e"),
                        {"e": election_id}).scalar_one()
    return kode, "Seluruh wilayah"


def summary(conn: Connection, election_id: int, contest: Contest) -> dict:
    """City, kecamatan and kelurahan tables for one contest (supervisors/admins only)."""
    kel = kelurahan_areas(conn, election_id, contest)
    names = dict(conn.execute(text(
        "SELECT kode, nama FROM kecamatan WHERE kode = ANY(:k)"),
        {"k": sorted({a.parent_kode for a in kel})}).all())
    city_kode, city_nama = _city(conn, election_id)
    city, kecamatan = rollup(kel, names, contest.nomors, city_kode, city_nama)
    flags_open = conn.execute(text(
        "SELECT count(*) FROM result_flag WHERE contest_id = :c AND status = 'open'"),
        {"c": contest.id}).scalar_one()
    return {"keterangan": NOTICE, "internal": True, "contest": contest.as_json(),
            "city": city.as_json(), "kecamatan": [a.as_json() for a in kecamatan],
            "kelurahan": [a.as_json() for a in kel], "flags_open": flags_open}


def kelurahan_geojson(conn: Connection, election_id: int, contest: Contest) -> dict:
    """Kelurahan polygons with progress and the leading candidate, for the map."""
    areas = {a.kode: a for a in kelurahan_areas(conn, election_id, contest)}
    names = dict(contest.candidates)
    features = []
    for kode, geometry in conn.execute(text(
            "SELECT kode, ST_AsGeoJSON(geom, 6)::json FROM kelurahan "
            "WHERE kode = ANY(:k) ORDER BY kode"), {"k": sorted(areas)}):
        a = areas[kode]
        lead = a.leading
        features.append({"type": "Feature", "id": kode, "geometry": geometry, "properties": {
            "kode": kode, "nama": a.nama, "kecamatan_kode": a.parent_kode,
            "tps_in": a.tps_in, "tps_total": a.tps_total, "progress_pct": a.progress_pct,
            "dpt_pct": a.dpt_pct, "tps_flagged": a.tps_flagged, "leading_nomor": lead,
            "leading_nama": names.get(lead) if lead else None,
            "leading_share_pct": a.shares.get(lead) if lead else None,
            "keterangan": NOTICE}})
    return {"type": "FeatureCollection", "name": f"hitung_cepat_{contest.kode}_kelurahan",
            "keterangan": NOTICE, "features": features}
