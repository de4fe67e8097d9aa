"""The append-only audit log: writing entries and checking their hash chain.

A write appends its entry with no lock (a trigger also leaves a marker in
``audit_unchained``); the sequencer (``gisdesk.audit_sequencer``) links committed entries
into ``audit_chain`` within a second. ``verify_chain`` checks the links against the entries.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy import bindparam


def record(conn: Connection, actor: str, action: str, target: str | None = None,
           detail: dict | None = None, checksum: str | None = None) -> None:
    conn.execute(
        text("INSERT INTO audit_log (actor, action, target, detail, checksum) "
             "VALUES (:actor, :action, :target, :detail, :checksum)")
        .bindparams(bindparam("detail", type_=JSONB)),
        {"actor": actor, "action": action, "target": target, "detail": detail or {},
         "checksum": checksum})


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


UNCHAINED_GRACE_S = 60.0   # an entry not chained after this long is flagged by verify

# Every problem with the chain, one row each: links whose hash or predecessor is wrong,
# links whose entry is gone, entries with no link (inserted around the log's triggers, or
# left unchained longer than the grace period by a stopped sequencer).
_PROBLEMS = """
    WITH links AS (
        SELECT c.seq, c.entry_id, c.prev_hash, c.hash, a.id IS NULL AS missing,
               coalesce(lag(c.hash) OVER w, repeat('0', 64)) AS expected_prev,
               coalesce(lag(c.seq) OVER w, 0) AS prev_seq,
               audit_row_hash(c.prev_hash, c.entry_id, a.at, a.actor, a.action, a.target,
                              a.detail, a.checksum) AS recomputed
        FROM audit_chain c LEFT JOIN audit_log a ON a.id = c.entry_id
        WINDOW w AS (ORDER BY c.seq))
    SELECT entry_id AS id, seq, CASE
             WHEN missing THEN 'deleted'
             WHEN hash <> recomputed THEN 'edited'
             WHEN seq <> prev_seq + 1 THEN 'link_removed'
             ELSE 'relinked' END AS problem, NULL::float AS age_s
    FROM links
    WHERE missing OR hash <> recomputed OR prev_hash <> expected_prev OR seq <> prev_seq + 1
    UNION ALL
    SELECT a.id, NULL, CASE WHEN u.entry_id IS NULL THEN 'inserted' ELSE 'unchained' END,
           extract(epoch FROM now() - u.at)
    FROM audit_log a
    LEFT JOIN audit_unchained u ON u.entry_id = a.id
    WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.entry_id = a.id)
      AND (u.entry_id IS NULL OR u.at < now() - make_interval(secs => :grace))
    ORDER BY 1"""

REASONS = {
    "deleted": "entri dihapus (entry deleted)",
    "edited": "entri diubah (entry edited: hash does not match)",
    "link_removed": "mata rantai sebelum entri ini hilang (chain broken: a link was deleted)",
    "relinked": "rantai putus sebelum entri ini (chain broken: an entry was deleted or "
                "inserted)",
    "inserted": "entri disisipkan di luar jalur log (entry inserted around the log: "
                "no chain link, no marker)",
    "unchained": "belum dirantai selama {age:.0f} detik; sequencer berhenti? "
                 "(entry left unchained)",
}


def verify_chain(conn: Connection, *, unchained_grace_s: float = UNCHAINED_GRACE_S
                 ) -> list[dict]:
    """Every entry whose place in the hash chain is wrong: edited, deleted (before or after
    it was chained), inserted around the log, or left unchained longer than the grace."""
    rows = conn.execute(text(_PROBLEMS), {"grace": unchained_grace_s}).mappings().all()
    return [{"id": r["id"], "seq": r["seq"], "problem": r["problem"],
             "reason": REASONS[r["problem"]].format(age=r["age_s"] or 0)} for r in rows]


def chain_state(conn: Connection) -> dict:
    """How far the chain reaches: entries, links, entries waiting, and the chain head."""
    row = conn.execute(text("""
        SELECT (SELECT count(*) FROM audit_log) AS entries,
               (SELECT count(*) FROM audit_unchained) AS waiting,
               h.seq, h.entry_id, h.hash
        FROM (SELECT 1) one
        LEFT JOIN LATERAL (SELECT seq, entry_id, hash FROM audit_chain
                           ORDER BY seq DESC LIMIT 1) h ON true""")).mappings().one()
    return {"entries": row["entries"], "waiting": row["waiting"],
            "head": {"seq": row["seq"] or 0, "entry_id": row["entry_id"],
                     "hash": row["hash"] or "0" * 64}}
