"""Reading and writing result_entry rows (parameterised SQL); no rules, no Flask."""
from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB

from gisdesk.quickcount.rules import NUMBER_FIELDS, ResultNumbers

CORRECTION_AGENCY = "desk"  # numbers entered by a supervisor when resolving a flag


@dataclass(frozen=True)
class Actor:
    """Who is acting, as the web edge knows it: agency and scope come from the account."""

    username: str
    user_id: int | None = None
    role: str | None = None
    agency: str | None = None
    kelurahan_kode: str | None = None


@dataclass(frozen=True)
class StoredEntry:
    id: uuid.UUID
    tps_id: int
    tps_kode: str
    contest_id: int
    contest_kode: str
    agency: str
    numbers: ResultNumbers
    photo_path: str | None
    entered_by: str
    entered_at: object
    status: str
    content_hash: str

    def as_json(self) -> dict:
        return {"id": str(self.id), "tps_kode": self.tps_kode, "contest": self.contest_kode,
                "agency": self.agency, **self.numbers.as_json(), "photo_path": self.photo_path,
                "entered_by": self.entered_by,
                "entered_at": self.entered_at.isoformat() if self.entered_at else None,
                "status": self.status}


def content_hash(*, agency: str, contest_id: int, tps_id: int, numbers: ResultNumbers,
                 photo_path: str | None) -> str:
    """What a client UUID names: same hash = the same report sent again."""
    body = {"agency": agency, "contest_id": contest_id, "tps_id": tps_id,
            "photo_path": photo_path, **numbers.as_json()}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"))
                          .encode()).hexdigest()


_SELECT = """
    SELECT e.id, e.tps_id, t.kode AS tps_kode, e.contest_id, c.kode AS contest_kode, e.agency,
           e.votes, e.valid, e.invalid, e.ballots_used, e.dpt, e.dptb, e.dpk, e.photo_path,
           e.entered_by, e.entered_at, e.status, e.content_hash
    FROM result_entry e JOIN tps t ON t.id = e.tps_id JOIN contest c ON c.id = e.contest_id
"""


def _entry(row) -> StoredEntry:
    numbers = ResultNumbers({int(k): int(v) for k, v in row.votes.items()},
                            **{name: getattr(row, name) for name in NUMBER_FIELDS})
    return StoredEntry(row.id, row.tps_id, row.tps_kode, row.contest_id, row.contest_kode,
                       row.agency, numbers, row.photo_path, row.entered_by, row.entered_at,
                       row.status, row.content_hash)


def get_entry(conn: Connection, entry_id: uuid.UUID) -> StoredEntry | None:
    row = conn.execute(text(_SELECT + " WHERE e.id = :id"), {"id": entry_id}).first()
    return _entry(row) if row else None


def active_entries(conn: Connection, contest_id: int, tps_id: int) -> list[StoredEntry]:
    rows = conn.execute(text(_SELECT + """
        WHERE e.contest_id = :c AND e.tps_id = :t AND e.status = 'active'
        ORDER BY e.agency"""), {"c": contest_id, "t": tps_id}).all()
    return [_entry(r) for r in rows]


def agency_entries(conn: Connection, election_id: int, agency: str,
                   *, include_superseded: bool = False) -> list[StoredEntry]:
    """The entries of one agency (what an operator may see), newest first."""
    rows = conn.execute(text(_SELECT + """
        WHERE e.election_id = :e AND e.agency = :a
          AND (e.status = 'active' OR (:all AND e.status = 'superseded'))
        ORDER BY e.entered_at DESC, t.kode"""),
                        {"e": election_id, "a": agency, "all": include_superseded}).all()
    return [_entry(r) for r in rows]


def lock_tps_contest(conn: Connection, contest_id: int, tps_id: int) -> None:
    """Serialise writers of one TPS+contest so the double-entry comparison sees them all."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:c, :t)"), {"c": contest_id, "t": tps_id})


def insert_entry(conn: Connection, *, entry_id: uuid.UUID, election_id: int, contest_id: int,
                 tps_id: int, agency: str, numbers: ResultNumbers, photo_path: str | None,
                 actor: Actor, digest: str, status: str = "active") -> bool:
    """Insert one entry; False when the id already exists (nothing written)."""
    row = conn.execute(text("""
        INSERT INTO result_entry (id, election_id, contest_id, tps_id, agency, votes, valid,
            invalid, ballots_used, dpt, dptb, dpk, photo_path, entered_by, entered_by_id,
            content_hash, status)
        VALUES (:id, :e, :c, :t, :a, :votes, :valid, :invalid, :ballots_used, :dpt, :dptb,
            :dpk, :photo, :by, :by_id, :hash, :status)
        ON CONFLICT (id) DO NOTHING RETURNING id""")
        .bindparams(bindparam("votes", type_=JSONB)),
        {"id": entry_id, "e": election_id, "c": contest_id, "t": tps_id, "a": agency,
         **numbers.as_json(), "photo": photo_path, "by": actor.username,
         "by_id": actor.user_id, "hash": digest, "status": status}).first()
    return row is not None


def supersede(conn: Connection, contest_id: int, tps_id: int, agency: str) -> int:
    """Retire the agency's current entry for this TPS+contest (a correction replaces it)."""
    return conn.execute(text("""
        UPDATE result_entry SET status = 'superseded'
        WHERE contest_id = :c AND tps_id = :t AND agency = :a AND status = 'active'"""),
                        {"c": contest_id, "t": tps_id, "a": agency}).rowcount
