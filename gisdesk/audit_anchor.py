"""Anchors of the audit chain's head, kept outside the database, so a cut tail shows.

The hash chain (``audit_chain``, linked by the audit sequencer) proves each audit entry
follows the one before it, but deleting the newest links with their entries leaves a shorter
chain that is still valid. An anchor is the chain head (link sequence number, hash) with the
time it was taken; ``take()`` first links what is waiting, so the anchor covers every entry
committed before it. ``anchor()`` appends it to
``$GISDESK_HOME/audit-anchors.jsonl`` (0600, one JSON object a line) and the CLI prints it for
the operator to keep elsewhere (`gisdesk audit anchor`; `gisdesk db backup` takes one with
every backup). ``check()`` (run by `gisdesk audit verify`) says when an anchored entry is
gone or no longer has its hash.

Everything that knows where the chain lives is in ``head()`` and ``hash_at()``.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, text

FILENAME = "audit-anchors.jsonl"


@dataclass(frozen=True)
class Anchor:
    seq: int           # the head link's position in the chain (audit_chain.seq)
    hash: str          # its chain hash
    at: str            # when the anchor was taken (UTC, ISO 8601)

    def line(self) -> str:
        return f"audit anchor: link {self.seq} hash {self.hash} at {self.at}"

    @classmethod
    def parse(cls, value: str) -> "Anchor":
        """``SEQ:HASH`` as an operator copies it from a printed anchor."""
        seq, _, digest = value.partition(":")
        if not seq.strip().isdigit() or len(digest.strip()) != 64:
            raise ValueError(f"anchor {value!r}: write SEQ:HASH (e.g. 1234:9f86d0…, 64 hex)")
        return cls(int(seq), digest.strip().lower(), "given")


def head(conn: Connection) -> tuple[int, str] | None:
    row = conn.execute(text("SELECT seq, hash FROM audit_chain ORDER BY seq DESC LIMIT 1")
                       ).first()
    return (row.seq, row.hash) if row else None


def hash_at(conn: Connection, seq: int) -> str | None:
    return conn.execute(text("SELECT hash FROM audit_chain WHERE seq = :s"), {"s": seq}).scalar()


def take(engine: Engine, home: Path) -> Anchor | None:
    """Link the entries waiting for the sequencer, then anchor the head."""
    from gisdesk.audit_sequencer import drain
    drain(engine)
    with engine.connect() as conn:
        return anchor(conn, home)


def path_in(home: Path) -> Path:
    return Path(home) / FILENAME


def anchor(conn: Connection, home: Path) -> Anchor | None:
    """Take the current head as an anchor and append it to the file (None: empty log)."""
    found = head(conn)
    if found is None:
        return None
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    taken = Anchor(found[0], found[1], now)
    target = path_in(home)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(asdict(taken)) + "\n")
    return taken


def load(home: Path) -> list[Anchor]:
    target = path_in(home)
    if not target.exists():
        return []
    return [Anchor(**json.loads(line)) for line in target.read_text("utf-8").splitlines()
            if line.strip()]


def check(conn: Connection, anchors: list[Anchor]) -> list[dict]:
    """Problems like ``audit.verify_chain``'s: an anchored entry missing or changed."""
    bad = []
    for a in anchors:
        stored = hash_at(conn, a.seq)
        if stored is None:
            bad.append({"id": a.seq, "reason": f"anchored link {a.seq} (at {a.at}) is missing: "
                                               "the newest entries were deleted"})
        elif stored != a.hash:
            bad.append({"id": a.seq, "reason": f"anchored link {a.seq} (at {a.at}) has another "
                                               "hash: the chain was rewritten"})
    return bad
