"""Writing to the append-only audit log (hash-chained by the database itself).

Write the audit entry last in a transaction: the chain lock is then held only until commit.
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


def verify_chain(conn: Connection) -> list[dict]:
    """Rows whose hash or link to the previous row is wrong (edited, deleted or inserted)."""
    rows = conn.execute(text("""
        SELECT id, prev_hash, hash,
               lag(hash) OVER (ORDER BY id) AS expected_prev,
               audit_row_hash(prev_hash, id, at, actor, action, target, detail, checksum)
                 AS recomputed
        FROM audit_log ORDER BY id""")).mappings().all()
    bad = []
    for i, row in enumerate(rows):
        expected_prev = row["expected_prev"] if i else "0" * 64
        if row["hash"] != row["recomputed"]:
            bad.append({"id": row["id"], "reason": "entry edited (hash does not match)"})
        elif row["prev_hash"] != expected_prev:
            bad.append({"id": row["id"], "reason": "chain broken before this entry "
                                                   "(an entry was deleted or inserted)"})
    return bad
