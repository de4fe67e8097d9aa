"""Security pattern sets kept in the database, chosen per election and versioned by their
effective date, managed without editing the package (`gisdesk patterns list|add`).

A set added for an election takes part in choosing the set in force at ``as_of`` (the
latest effective_from <= as_of among the election's own sets and the global ones), so
adding one changes the requirement of every TPS: a whole refresh follows.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, text

from gisdesk import audit
from gisdesk.analysis.rules import PatternSet, Rules, pattern_sets_from_file
from gisdesk.errors import ConfigError, InputRejected, NotFound


def read_file(path: str | Path, rules: Rules) -> tuple[PatternSet, ...]:
    """The file's sets, validated; a bad file is rejected naming the file and the field."""
    try:
        return pattern_sets_from_file(path, rules)
    except ConfigError as e:
        raise InputRejected(e.message, field=e.field) from None


def stored_sets(conn: Connection) -> list[dict]:
    """Every stored set with its election (None: global), newest first per election."""
    rows = conn.execute(text("""
        SELECT s.id, e.kode AS election, s.nama, s.effective_from, s.created_at, s.created_by,
               string_agg(p.kelas || ' ' || p.polri || '-' || p.per_tps || '-' || p.linmas,
                          ', ' ORDER BY p.kelas) AS pola
        FROM security_pattern_set s
        LEFT JOIN election e ON e.id = s.election_id
        LEFT JOIN security_pattern p ON p.set_id = s.id
        GROUP BY s.id, e.kode ORDER BY e.kode NULLS FIRST, s.effective_from DESC""")).mappings()
    return [dict(r) for r in rows]


def add_sets(conn: Connection, election_kode: str, sets: tuple[PatternSet, ...], *,
             actor: str, source: str, checksum: str) -> tuple[int, list[int]]:
    """Store ``sets`` for the election (one transaction: all or nothing) and audit it;
    returns (election id, new set ids). A set whose effective_from the election already
    has is refused: a version is never overwritten, a later one supersedes it."""
    eid = conn.execute(text("SELECT id FROM election WHERE kode = :k"),
                       {"k": election_kode}).scalar()
    if eid is None:
        raise NotFound(f"Pemilu {election_kode} tidak ada (lihat `gisdesk election list`).",
                       field="election")
    ids = []
    for ps in sets:
        taken = conn.execute(text("""
            SELECT nama FROM security_pattern_set
            WHERE election_id = :e AND effective_from = :f"""),
            {"e": eid, "f": ps.effective_from}).scalar()
        if taken is not None:
            raise InputRejected(
                f"{source}: pola {ps.name!r}: pemilu {election_kode} sudah punya pola "
                f"{taken!r} yang berlaku sejak {ps.effective_from.isoformat()}; pakai waktu lain",
                field="effective_from")
        sid = conn.execute(text("""
            INSERT INTO security_pattern_set (election_id, nama, effective_from, created_by)
            VALUES (:e, :n, :f, :by) RETURNING id"""),
            {"e": eid, "n": ps.name, "f": ps.effective_from, "by": actor}).scalar_one()
        conn.execute(text("""
            INSERT INTO security_pattern (set_id, kelas, polri, per_tps, linmas)
            VALUES (:s, :k, :a, :b, :c)"""),
            [{"s": sid, "k": k, "a": p.polri, "b": p.tps, "c": p.linmas}
             for k, p in ps.patterns.items()])
        ids.append(sid)
    audit.record(conn, actor, "patterns.add", election_kode,
                 {"file": Path(source).name, "sets": [
                     {"id": sid, "nama": ps.name, "effective_from": ps.effective_from.isoformat(),
                      "pola": {k: str(p) for k, p in ps.patterns.items()}}
                     for sid, ps in zip(ids, sets)]}, checksum=checksum)
    return eid, ids
