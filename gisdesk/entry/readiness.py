"""TPS readiness: the checklist an operator ticks at a TPS, its derived state and history.

An update carries the whole checklist (an item not sent is not ready) and a client UUID:
the same UUID with the same content changes nothing; with other content it is a conflict.
State: every item ready -> ``siap``; nothing ready or a critical item missing -> ``belum``;
otherwise ``sebagian``. Which items exist and which are critical is configuration
(``[[readiness]]`` in incident_types.toml).
"""
from __future__ import annotations

import uuid

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB

from gisdesk import audit
from gisdesk.analysis import changes
from gisdesk.entry import UTC, active_election, scope as scopes
from gisdesk.entry.placement import TPS_CODE
from gisdesk.entry.taxonomy import Taxonomy
from gisdesk.errors import Conflict, InputRejected, NotFound, Problem

STATE_LABELS = {"siap": "Siap", "sebagian": "Sebagian siap", "belum": "Belum siap"}


def derive_state(items: dict[str, bool], tax: Taxonomy) -> str:
    ready = [items.get(item.key, False) for item in tax.readiness]
    if all(ready):
        return "siap"
    critical_missing = any(not items.get(i.key, False) for i in tax.readiness if i.critical)
    if not any(ready) or critical_missing:
        return "belum"
    return "sebagian"


def read_update(payload, tax: Taxonomy) -> tuple[str, dict[str, bool], str | None]:
    if not isinstance(payload, dict):
        raise InputRejected("Kirim data kesiapan sebagai objek JSON.", field="body")
    problems = []
    try:
        client_uuid = str(uuid.UUID(str(payload.get("client_uuid") or payload.get("id") or "")))
    except ValueError:
        client_uuid = ""
        problems.append(Problem(None, "client_uuid", "client_uuid wajib berupa UUID."))
    given = payload.get("items")
    if not isinstance(given, dict):
        problems.append(Problem(None, "items", "items wajib berupa objek {butir: true/false}."))
        given = {}
    keys = tax.readiness_keys
    for key, value in given.items():
        if key not in keys:
            problems.append(Problem(None, f"items.{key}", "Butir tidak dikenal; butir yang "
                                    f"ada: {', '.join(keys)}.", value=str(key)[:40]))
        elif not isinstance(value, bool) and value not in (0, 1):
            problems.append(Problem(None, f"items.{key}", "Nilai harus true atau false."))
    note = payload.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 2000):
        problems.append(Problem(None, "note", "Catatan berupa teks, paling banyak 2000 "
                                              "karakter."))
    if problems:
        raise InputRejected(problems[0].reason if len(problems) == 1 else
                            f"Data kesiapan ditolak: {len(problems)} isian perlu diperbaiki.",
                            problems, field=problems[0].field)
    items = {key: bool(given.get(key, False)) for key in keys}
    return client_uuid, items, (note or "").strip() or None


def _tps(conn: Connection, tps_kode: str) -> dict:
    if not TPS_CODE.match(tps_kode or ""):
        raise InputRejected("Kode TPS ditulis seperti 52.71.01.1004-012.", field="tps_kode")
    election = active_election(conn)
    row = conn.execute(text(
        "SELECT t.id, t.kode, t.nomor, t.kelurahan_kode, k.nama AS kelurahan_nama, "
        "t.election_id FROM tps t JOIN kelurahan k ON k.kode = t.kelurahan_kode "
        "WHERE t.election_id = :e AND t.kode = :k"),
        {"e": election["id"], "k": tps_kode}).mappings().first()
    if row is None:
        raise NotFound(f"TPS {tps_kode} tidak ada pada pemilu aktif.", field="tps_kode")
    return dict(row)


def _iso(value):
    return value.astimezone(UTC).isoformat() if value else None


def readiness(conn: Connection, tps_kode: str, tax: Taxonomy, history_limit: int = 50) -> dict:
    """The current checklist of a TPS and its history, newest first."""
    tps = _tps(conn, tps_kode)
    cur = conn.execute(text("SELECT state, items, note, updated_at, updated_by "
                            "FROM tps_readiness WHERE tps_id = :t"), {"t": tps["id"]}
                       ).mappings().first()
    hist = conn.execute(text(
        "SELECT client_uuid, state, items, note, recorded_at, recorded_by "
        "FROM tps_readiness_history WHERE tps_id = :t ORDER BY recorded_at DESC, id DESC "
        "LIMIT :n"), {"t": tps["id"], "n": history_limit}).mappings().all()
    current = None
    if cur:
        current = {**dict(cur), "updated_at": _iso(cur["updated_at"]),
                   "state_label": STATE_LABELS[cur["state"]]}
    return {
        "tps_kode": tps["kode"], "nomor": tps["nomor"], "kelurahan_kode": tps["kelurahan_kode"],
        "kelurahan_nama": tps["kelurahan_nama"],
        "checklist": [{"key": i.key, "label": i.label, "critical": i.critical}
                      for i in tax.readiness],
        "current": current,
        "history": [{**dict(h), "client_uuid": str(h["client_uuid"]) if h["client_uuid"]
                     else None, "recorded_at": _iso(h["recorded_at"])} for h in hist],
    }


def update(conn: Connection, tps_kode: str, payload, *, tax: Taxonomy,
           actor: str, scope: str | None = None) -> tuple[bool, dict]:
    """Record one checklist; returns (created, readiness of the TPS). ``scope``: the only
    kelurahan the writer may record for (``entry.scope``), None for city-wide."""
    client_uuid, items, note = read_update(payload, tax)
    tps = _tps(conn, tps_kode)
    scopes.check(conn, scope, tps["kelurahan_kode"], f"TPS {tps['kode']}", "tps_kode")
    state = derive_state(items, tax)
    jsonb = (bindparam("items", type_=JSONB),)
    new = conn.execute(text("""
        INSERT INTO tps_readiness_history (tps_id, client_uuid, state, items, note, recorded_by)
        VALUES (:t, :u, :state, :items, :note, :actor)
        ON CONFLICT (client_uuid) DO NOTHING RETURNING id""").bindparams(*jsonb),
        {"t": tps["id"], "u": client_uuid, "state": state, "items": items, "note": note,
         "actor": actor}).first()
    if new is None:
        old = conn.execute(text("SELECT tps_id, items, note FROM tps_readiness_history "
                                "WHERE client_uuid = :u"), {"u": client_uuid}).first()
        if (old.tps_id, old.items, old.note) != (tps["id"], items, note):
            raise Conflict("client_uuid ini sudah dipakai untuk data kesiapan lain.",
                           field="client_uuid")
        return False, readiness(conn, tps_kode, tax)
    conn.execute(text("""
        INSERT INTO tps_readiness (tps_id, state, items, note, updated_at, updated_by)
        VALUES (:t, :state, :items, :note, now(), :actor)
        ON CONFLICT (tps_id) DO UPDATE SET state = EXCLUDED.state, items = EXCLUDED.items,
            note = EXCLUDED.note, updated_at = EXCLUDED.updated_at,
            updated_by = EXCLUDED.updated_by""").bindparams(*jsonb),
        {"t": tps["id"], "state": state, "items": items, "note": note, "actor": actor})
    changes.tps(conn, [tps["id"]], "readiness.update")
    result = readiness(conn, tps_kode, tax)
    audit.record(conn, actor, "readiness.update", tps["kode"],
                 {"state": state, "client_uuid": client_uuid,
                  "missing": [k for k, v in items.items() if not v]})
    return True, result
