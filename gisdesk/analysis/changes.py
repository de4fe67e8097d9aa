"""What a write touched, recorded for the analysis worker in the write's own transaction.

Every write that changes an input of the analysis calls one of these functions before it
commits: it inserts one ``analysis_queue`` row and NOTIFYs ``gisdesk_analysis`` (PostgreSQL
delivers the notification at commit, and drops it on rollback, like the row). The worker
(gisdesk.worker) refreshes only what the row names. What each write touches (issue 11):

| write | touches |
|---|---|
| readiness change | the TPS's kelurahan |
| incident reported/verified/rejected/merged/moved/severity edited | TPS within the escalation radius of the old and the new point (the worker applies the radius of its rules), across borders |
| rating of a TPS / of a kelurahan (also from a file) | its kelurahan |
| personnel on a TPS or kelurahan (also from a file) | that kelurahan; a reserve: its kecamatan, or the kab/kota |
| move / applied suggestion | donor and receiver kelurahan (a reserve donor: as personnel) |
| TPS or boundary import, pattern set change, readiness and incident files | everything (``full``) |
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, text

CHANNEL = "gisdesk_analysis"


def _notify(conn: Connection, election_id: int) -> None:
    conn.execute(text("SELECT pg_notify(:c, :e)"), {"c": CHANNEL, "e": str(election_id)})


def kelurahan(conn: Connection, election_id: int, codes: Iterable[str], reason: str) -> None:
    """The results of these kelurahan (and what depends on them) must be recomputed."""
    codes = sorted({c for c in codes if c})
    if not codes:
        return
    conn.execute(text("INSERT INTO analysis_queue (election_id, kelurahan_kode, reason) "
                      "VALUES (:e, :k, :r)"), {"e": election_id, "k": codes, "r": reason})
    _notify(conn, election_id)


def full(conn: Connection, election_id: int, reason: str) -> None:
    """Everything of the election must be recomputed (imports, pattern sets, boundaries)."""
    conn.execute(text("INSERT INTO analysis_queue (election_id, reason) VALUES (:e, :r)"),
                 {"e": election_id, "r": reason})
    _notify(conn, election_id)


def all_elections(conn: Connection, reason: str) -> None:
    """A change shared by every election (boundaries, global pattern sets): each recomputes."""
    ids = conn.execute(text("SELECT id FROM election ORDER BY id")).scalars().all()
    for election_id in ids:
        full(conn, election_id, reason)


def tps(conn: Connection, tps_ids: Iterable[int], reason: str) -> None:
    """Readiness or a rating of these TPS changed: their kelurahan."""
    conn.execute(text("""
        INSERT INTO analysis_queue (election_id, kelurahan_kode, reason)
        SELECT election_id, array_agg(DISTINCT kelurahan_kode ORDER BY kelurahan_kode), :r
        FROM tps WHERE id = ANY(:ids) GROUP BY election_id"""),
        {"ids": sorted(set(tps_ids)), "r": reason})
    _notify_queued(conn, tps_ids)


def _notify_queued(conn: Connection, tps_ids: Iterable[int]) -> None:
    for election_id in conn.execute(text("SELECT DISTINCT election_id FROM tps "
                                         "WHERE id = ANY(:ids)"),
                                    {"ids": sorted(set(tps_ids))}).scalars():
        _notify(conn, election_id)


def incident(conn: Connection, incident_id: str, reason: str, *,
             old_lon: float | None = None, old_lat: float | None = None) -> None:
    """An incident was reported, reviewed, merged, moved or re-graded: the TPS within the
    escalation radius of its point (and of its old point when it moved)."""
    conn.execute(text("""
        INSERT INTO analysis_queue (election_id, points, reason)
        SELECT election_id,
               ST_Multi(CASE WHEN CAST(:lon AS float8) IS NULL THEN geom
                             ELSE ST_Union(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
                        END), :r
        FROM incident WHERE id = CAST(:i AS uuid)"""),
        {"i": str(incident_id), "lon": old_lon, "lat": old_lat, "r": reason})
    election_id = conn.execute(text("SELECT election_id FROM incident WHERE id = CAST(:i AS uuid)"),
                               {"i": str(incident_id)}).scalar()
    if election_id is not None:
        _notify(conn, election_id)


def personnel(conn: Connection, election_id: int, *, target: str, kelurahan_kode: str | None,
              kecamatan_kode: str | None, tps_id: int | None, reason: str) -> None:
    """Personnel on a TPS or kelurahan: that kelurahan; a reserve: the kelurahan of its
    kecamatan (Polsek), or of the whole kab/kota (Polresta, no kecamatan)."""
    if target in ("tps", "kelurahan"):
        if target == "tps" and kelurahan_kode is None:
            kelurahan_kode = conn.execute(text("SELECT kelurahan_kode FROM tps WHERE id = :t"),
                                          {"t": tps_id}).scalar()
        kelurahan(conn, election_id, [kelurahan_kode], reason)
        return
    prefix = kecamatan_kode or _kabkota(conn, election_id)
    codes = conn.execute(text("""
        SELECT DISTINCT kelurahan_kode FROM tps
        WHERE election_id = :e AND (CAST(:p AS text) IS NULL OR kelurahan_kode LIKE :p || '.%')"""),
        {"e": election_id, "p": prefix}).scalars().all()
    kelurahan(conn, election_id, codes, reason)


def _kabkota(conn: Connection, election_id: int) -> str | None:
    """The kab/kota of an election's area (first 5 characters of its wilayah), if it has one."""
    wilayah = conn.execute(text("SELECT wilayah_kode FROM election WHERE id = :e"),
                           {"e": election_id}).scalar()
    return wilayah[:5] if wilayah and len(wilayah) >= 5 else None


def clock(conn: Connection, election_id: int) -> None:
    """Time passed (the worker's clock): nothing was written, but ``as_of`` moves and the
    worker adds what crossed a time edge. At most one such row waits per election."""
    conn.execute(text("""
        INSERT INTO analysis_queue (election_id, kelurahan_kode, reason)
        SELECT :e, '{}', 'clock' WHERE NOT EXISTS (
            SELECT 1 FROM analysis_queue WHERE election_id = :e AND reason = 'clock')"""),
        {"e": election_id})
    _notify(conn, election_id)
