"""The supervisor's workflow on reports: verify, reject, resolve, merge, and duplicate hints.

Every status change is audited and queued for the analysis worker (verified incidents
escalate the TPS around them). Repeating an action that already took effect changes nothing.
"""
from __future__ import annotations

import uuid

from sqlalchemy import Connection, bindparam, text

from gisdesk import audit
from gisdesk.analysis import changes
from gisdesk.entry.incidents import get_incident
from gisdesk.entry.taxonomy import Taxonomy
from gisdesk.errors import Conflict, InputRejected, NotFound, Problem

# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "verify": (frozenset({"reported"}), "verified"),
    "reject": (frozenset({"reported", "verified"}), "rejected"),
    "resolve": (frozenset({"reported", "verified"}), "resolved"),
    "merge": (frozenset({"reported", "verified"}), "merged"),
}
LABELS = {"reported": "dilaporkan", "verified": "terverifikasi", "resolved": "selesai",
          "rejected": "ditolak", "merged": "digabung"}


def _uuid(value, field: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise InputRejected(f"{field} harus berupa UUID laporan.",
                            [Problem(None, field, "bukan UUID", value=str(value)[:60])],
                            field=field) from None


def _lock(conn: Connection, ids: list[str]) -> dict[str, dict]:
    rows = conn.execute(text(
        "SELECT id, election_id, status, merged_into FROM incident WHERE id IN :ids "
        "ORDER BY id FOR UPDATE").bindparams(bindparam("ids", expanding=True)),
        {"ids": ids}).mappings().all()
    return {str(r["id"]): dict(r) for r in rows}


def review(conn: Connection, incident_id, action: str, *, actor: str,
           note: str | None = None, into=None, tax: Taxonomy | None = None) -> dict:
    """Apply one review action; returns the report as it now stands."""
    if action not in TRANSITIONS:
        raise InputRejected(f"Tindakan '{action}' tidak dikenal.", field="action")
    ident = _uuid(incident_id, "id")
    note = (note or "").strip() or None
    if note and len(note) > 2000:
        raise InputRejected("Catatan paling banyak 2000 karakter.", field="reason")
    if action == "reject" and not note:
        raise InputRejected("Alasan penolakan wajib diisi.",
                            [Problem(None, "reason", "wajib diisi")], field="reason")
    target = _uuid(into, "into") if action == "merge" else None
    if action == "merge" and target == ident:
        raise InputRejected("Laporan tidak dapat digabung ke dirinya sendiri.", field="into")
    rows = _lock(conn, [ident] + ([target] if target else []))
    if ident not in rows:
        raise NotFound(f"Laporan {ident} tidak ditemukan.", field="id")
    row = rows[ident]
    allowed, new_status = TRANSITIONS[action]
    if row["status"] == new_status and (target is None or str(row["merged_into"]) == target):
        return get_incident(conn, ident, tax)  # already done: a repeated request
    if row["status"] not in allowed:
        raise Conflict(f"Laporan berstatus {LABELS[row['status']]} tidak dapat "
                       f"di-{action}.", field="status")
    if target:
        other = rows.get(target)
        if other is None:
            raise NotFound(f"Laporan tujuan {target} tidak ditemukan.", field="into")
        if other["election_id"] != row["election_id"] or other["status"] in ("merged",
                                                                             "rejected"):
            raise Conflict("Laporan tujuan sudah digabung/ditolak atau dari pemilu lain.",
                           field="into")
    conn.execute(text("""
        UPDATE incident SET status = :status, merged_into = :into, reviewed_by = :actor,
               reviewed_at = now(), review_note = :note
        WHERE id = :id"""),
        {"status": new_status, "into": target, "actor": actor, "note": note, "id": ident})
    changes.incident(conn, ident, f"incident.{action}")
    report = get_incident(conn, ident, tax)
    audit.record(conn, actor, f"incident.{action}", ident,
                 {"from": row["status"], "to": new_status, "note": note, "into": target})
    return report


_DUPLICATES = """
    SELECT {cols}
    FROM incident t
    JOIN incident i ON i.id <> t.id AND i.election_id = t.election_id
         AND i.status NOT IN ('rejected', 'merged')
         AND (NOT :same_category OR i.category = t.category)
         AND i.occurred_at BETWEEN t.occurred_at - make_interval(secs => :window)
                               AND t.occurred_at + make_interval(secs => :window)
         AND i.geom && ST_Expand(t.geom, :radius / 111320.0
                                 / greatest(cos(radians(ST_Y(t.geom))), 0.2))
         AND ST_DWithin(i.geom::geography, t.geom::geography, :radius)
    WHERE t.id IN :ids"""


def _params(tax: Taxonomy, ids: list[str]) -> dict:
    return {"same_category": tax.duplicate_same_category,
            "window": tax.duplicate_window_hours * 3600, "radius": tax.duplicate_radius_m,
            "ids": ids}


def duplicates(conn: Connection, incident_id, tax: Taxonomy) -> list[dict]:
    """Reports that may be the same event: near in place and time (same category)."""
    ident = _uuid(incident_id, "id")
    get_incident(conn, ident)  # NotFound for an unknown id
    cols = ("i.id, ST_Distance(i.geom::geography, t.geom::geography) AS distance_m, "
            "abs(extract(epoch FROM i.occurred_at - t.occurred_at)) / 60 AS minutes_apart")
    rows = conn.execute(text(_DUPLICATES.format(cols=cols) + " ORDER BY distance_m")
                        .bindparams(bindparam("ids", expanding=True)),
                        _params(tax, [ident])).all()
    out = []
    for r in rows:
        item = get_incident(conn, r.id, tax)
        item["distance_m"] = round(float(r.distance_m), 1)
        item["minutes_apart"] = round(float(r.minutes_apart), 1)
        out.append(item)
    return out


def duplicate_counts(conn: Connection, ids: list[str], tax: Taxonomy) -> dict[str, int]:
    rows = conn.execute(text(_DUPLICATES.format(cols="t.id, count(*) AS n") + " GROUP BY t.id")
                        .bindparams(bindparam("ids", expanding=True)), _params(tax, ids)).all()
    return {str(r.id): int(r.n) for r in rows}



def merge_candidates(conn: Connection, incident_id, tax: Taxonomy, limit: int = 8) -> list[dict]:
    """Reports this one could be merged into, most likely first: those the duplicate rule
    names (near in place and time, same category), then the nearest open reports of the same
    day. Each carries ``likely`` (the duplicate rule holds), ``distance_m``, ``minutes_apart``."""
    ident = _uuid(incident_id, "id")
    get_incident(conn, ident)  # NotFound for an unknown id
    likely = {d["id"]: d for d in duplicates(conn, ident, tax)}
    rows = conn.execute(text("""
        SELECT i.id, ST_Distance(i.geom::geography, t.geom::geography) AS distance_m,
               abs(extract(epoch FROM i.occurred_at - t.occurred_at)) / 60 AS minutes_apart
        FROM incident t JOIN incident i ON i.id <> t.id AND i.election_id = t.election_id
             AND i.status NOT IN ('rejected', 'merged')
             AND i.occurred_at BETWEEN t.occurred_at - interval '24 hours'
                                   AND t.occurred_at + interval '24 hours'
        WHERE t.id = :id ORDER BY i.geom <-> t.geom LIMIT :n"""),
        {"id": ident, "n": limit}).all()
    out = [{**d, "likely": True} for d in likely.values()]
    for r in rows:
        if str(r.id) not in likely and len(out) < limit:
            item = get_incident(conn, r.id, tax)
            item.update(likely=False, distance_m=round(float(r.distance_m), 1),
                        minutes_apart=round(float(r.minutes_apart), 1))
            out.append(item)
    return out[:limit]


def resolve_id(conn: Connection, given: str, field: str = "id") -> str:
    """A report's full UUID from the UUID or its first characters (as lists show them)."""
    word = (given or "").strip().lower()
    try:
        return str(uuid.UUID(word))
    except ValueError:
        pass
    if len(word) < 4 or any(c not in "0123456789abcdef-" for c in word):
        raise InputRejected(f"{field}: tulis UUID laporan atau minimal 4 karakter awalnya.",
                            [Problem(None, field, "bukan awal UUID", value=word[:60])],
                            field=field)
    found = conn.execute(text("SELECT id::text FROM incident WHERE id::text LIKE :p "
                              "ORDER BY id LIMIT 2"), {"p": word + "%"}).scalars().all()
    if not found:
        raise NotFound(f"Tidak ada laporan berawalan {word}.", field=field)
    if len(found) > 1:
        raise InputRejected(f"Lebih dari satu laporan berawalan {word}; tulis lebih panjang.",
                            [Problem(None, field, "awal UUID tidak unik", value=word)],
                            field=field)
    return found[0]
