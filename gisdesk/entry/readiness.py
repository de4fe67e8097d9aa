"""TPS readiness: the checklist an operator ticks at a TPS, its derived state and history.

An update carries the whole checklist (an item not sent is not ready) and a client UUID:
the same UUID with the same content changes nothing; with other content it is a conflict.
Each check may carry ``checked_at``, when it was ticked on the device (default: now; refused
when more than ``readiness_clock_skew_min`` ahead of the server): the current state of a TPS
is its latest check, so an offline queue arriving late never overwrites a newer state.
Many checks can come in one batch (``update_batch``), stored all or none.
State: every item ready -> ``siap``; nothing ready or a critical item missing -> ``belum``;
otherwise ``sebagian``. Which items exist and which are critical is configuration
(``[[readiness]]`` in incident_types.toml).
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, text

from gisdesk.analysis import changes
from gisdesk.db import hot
from gisdesk.db.engine import transaction
from gisdesk.entry import UTC, active_election, scope as scopes
from gisdesk.entry.incidents import parse_time
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


@dataclass(frozen=True)
class Check:
    """One readiness checklist as sent: its UUID, TPS, items, note and device check time."""
    client_uuid: str
    tps_kode: str
    items: dict[str, bool]
    note: str | None
    checked_at: dt.datetime          # aware, UTC

    def missing(self) -> list[str]:
        return [k for k, v in self.items.items() if not v]


def device_time(value, now: dt.datetime, tax: Taxonomy, field: str, problems: list):
    """The device's check time (default: now); refused when further ahead than the skew.
    A problem is appended to ``problems`` (with ``field``), not raised: callers collect all."""
    if value in (None, ""):
        return now
    try:
        moment = parse_time(value)
    except (ValueError, TypeError):
        problems.append(Problem(None, field, "Waktu pemeriksaan tidak terbaca (ISO 8601, mis. "
                                "2024-02-14T07:30+08:00).", value=str(value)[:40]))
        return now
    if moment > now + dt.timedelta(minutes=tax.readiness_clock_skew_min):
        problems.append(Problem(None, field, "Waktu pemeriksaan di masa depan; periksa jam "
                                f"perangkat (selisih lebih dari "
                                f"{tax.readiness_clock_skew_min:g} menit).",
                                value=str(value)[:40]))
    return moment


def _fields(payload: dict, tax: Taxonomy, prefix: str, problems: list):
    """client_uuid, the whole checklist (an item not sent is not ready) and the note."""
    try:
        client_uuid = str(uuid.UUID(str(payload.get("client_uuid") or payload.get("id") or "")))
    except ValueError:
        client_uuid = ""
        problems.append(Problem(None, prefix + "client_uuid", "client_uuid wajib berupa UUID."))
    given = payload.get("items")
    if not isinstance(given, dict):
        problems.append(Problem(None, prefix + "items",
                                "items wajib berupa objek {butir: true/false}."))
        given = {}
    keys = tax.readiness_keys
    for key, value in given.items():
        if key not in keys:
            problems.append(Problem(None, f"{prefix}items.{key}", "Butir tidak dikenal; butir "
                                    f"yang ada: {', '.join(keys)}.", value=str(key)[:40]))
        elif not isinstance(value, bool) and value not in (0, 1):
            problems.append(Problem(None, f"{prefix}items.{key}", "Nilai harus true atau false."))
    note = payload.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 2000):
        problems.append(Problem(None, prefix + "note", "Catatan berupa teks, paling banyak 2000 "
                                                       "karakter."))
        note = None
    items = {key: bool(given.get(key, False)) for key in keys}
    return client_uuid, items, (note or "").strip() or None


def _rejected(problems: list) -> InputRejected:
    return InputRejected(problems[0].reason if len(problems) == 1 else
                         f"Data kesiapan ditolak: {len(problems)} isian perlu diperbaiki.",
                         problems, field=problems[0].field)


def read_update(payload, tax: Taxonomy) -> tuple[str, dict[str, bool], str | None]:
    """A checklist's UUID, items and note (a bulk file's row: its TPS is checked there)."""
    if not isinstance(payload, dict):
        raise InputRejected("Kirim data kesiapan sebagai objek JSON.", field="body")
    problems: list = []
    fields = _fields(payload, tax, "", problems)
    if problems:
        raise _rejected(problems)
    return fields


def read_check(payload, tax: Taxonomy, *, tps_kode: str | None = None,
               now: dt.datetime | None = None, prefix: str = "") -> Check:
    """Check one checklist's fields; every problem is reported at once, with its field."""
    now = now or dt.datetime.now(UTC)
    if not isinstance(payload, dict):
        raise InputRejected("Kirim data kesiapan sebagai objek JSON.", field=prefix + "body")
    problems: list = []
    kode = tps_kode if tps_kode is not None else payload.get("tps_kode")
    if not isinstance(kode, str) or not TPS_CODE.match(kode):
        problems.append(Problem(None, prefix + "tps_kode",
                                "Kode TPS ditulis seperti 52.71.01.1004-012.",
                                value=str(kode)[:40]))
    client_uuid, items, note = _fields(payload, tax, prefix, problems)
    checked_at = device_time(payload.get("checked_at"), now, tax, prefix + "checked_at",
                             problems)
    if problems:
        raise _rejected(problems)
    return Check(client_uuid, kode, items, note, checked_at)


def _iso(value):
    return value.astimezone(UTC).isoformat() if value else None


# Newest check first: the device's check time, else (rows sent without one) the arrival time.
_HISTORY_ORDER = "coalesce(checked_at, recorded_at) DESC, id DESC"


# A TPS, its current state and its latest checks in one statement and one row, the history
# as arrays (one per column, newest first). Not one row per check: that repeated the TPS and
# its current checklist on every row, so an answer cost grew with the history (up to 50
# copies of the current items parsed from JSON for every tick).
_AGG = "array_agg({col} ORDER BY sort_at DESC, id DESC)"
_READ = f"""
    SELECT t.id, t.kode, t.nomor, t.kelurahan_kode, k.nama AS kelurahan_nama,
           r.state AS cur_state, r.items AS cur_items, r.note AS cur_note,
           r.updated_at AS cur_updated_at, r.updated_by AS cur_updated_by,
           r.checked_at AS cur_checked_at, h.*
    FROM tps t JOIN kelurahan k ON k.kode = t.kelurahan_kode
    LEFT JOIN tps_readiness r ON r.tps_id = t.id
    LEFT JOIN LATERAL (
        SELECT {_AGG.format(col="client_uuid::text")} AS h_client_uuid,
               {_AGG.format(col="state")} AS h_state, {_AGG.format(col="items")} AS h_items,
               {_AGG.format(col="note")} AS h_note,
               {_AGG.format(col="recorded_at")} AS h_recorded_at,
               {_AGG.format(col="recorded_by")} AS h_recorded_by,
               {_AGG.format(col="sort_at")} AS h_checked_at
        FROM (SELECT *, coalesce(checked_at, recorded_at) AS sort_at
              FROM tps_readiness_history WHERE tps_id = t.id
              ORDER BY {_HISTORY_ORDER} LIMIT :n) latest
    ) h ON true
    WHERE t.election_id = (SELECT id FROM election WHERE active) AND t.kode = :k"""
_READ_STMT = hot.Statement(_READ)
_HISTORY = ("client_uuid", "state", "items", "note", "recorded_at", "recorded_by", "checked_at")


def readiness(conn: Connection, tps_kode: str, tax: Taxonomy, history_limit: int = 50) -> dict:
    """The current checklist of a TPS and its history, latest check first."""
    if not TPS_CODE.match(tps_kode or ""):
        raise InputRejected("Kode TPS ditulis seperti 52.71.01.1004-012.", field="tps_kode")
    row = hot.first(conn, _READ_STMT, {"k": tps_kode, "n": history_limit})
    if row is None:
        active_election(conn)  # no active election says so; else the TPS is not in it
        raise NotFound(f"TPS {tps_kode} tidak ada pada pemilu aktif.", field="tps_kode")
    current = None
    if row["cur_state"]:
        current = {"state": row["cur_state"], "items": row["cur_items"],
                   "note": row["cur_note"], "updated_at": _iso(row["cur_updated_at"]),
                   "updated_by": row["cur_updated_by"],
                   "checked_at": _iso(row["cur_checked_at"] or row["cur_updated_at"]),
                   "state_label": STATE_LABELS[row["cur_state"]]}
    columns = [row["h_" + c] or () for c in _HISTORY]
    return {
        "tps_kode": row["kode"], "nomor": row["nomor"],
        "kelurahan_kode": row["kelurahan_kode"], "kelurahan_nama": row["kelurahan_nama"],
        "checklist": [{"key": i.key, "label": i.label, "critical": i.critical}
                      for i in tax.readiness],
        "current": current,
        "history": [{"client_uuid": uid, "state": state, "items": items, "note": note,
                     "recorded_at": _iso(recorded_at), "recorded_by": recorded_by,
                     "checked_at": _iso(checked_at)}
                    for uid, state, items, note, recorded_at, recorded_by, checked_at
                    in zip(*columns)],
    }


# Any number of checklists as one statement: each new UUID goes to the history with its
# audit entry; per TPS the latest check among them becomes the current state unless a later
# check is there already (offline queues arrive out of order); the analysis is told. Rows
# come back per input: whether it was new, and what a reused UUID held before.
WRITE = """
    WITH input AS (
        SELECT * FROM unnest(CAST(:uuids AS uuid[]), CAST(:kodes AS text[]),
                             CAST(:states AS text[]), CAST(:items AS jsonb[]),
                             CAST(:notes AS text[]), CAST(:checked AS timestamptz[]),
                             CAST(:missing AS text[]))
            AS x(client_uuid, tps_kode, state, items, note, checked_at, missing)),
    known AS (
        SELECT x.*, t.id AS tps_id, t.election_id, t.kelurahan_kode FROM input x
        JOIN tps t ON t.kode = x.tps_kode
                  AND t.election_id = (SELECT id FROM election WHERE active)),
    target AS (  -- a writer limited to one kelurahan writes only there (entry.scope)
        SELECT * FROM known
        WHERE CAST(:scope AS text) IS NULL OR kelurahan_kode = CAST(:scope AS text)),
    before AS (
        SELECT h.client_uuid, h.tps_id, h.items, h.note FROM tps_readiness_history h
        WHERE h.client_uuid = ANY(CAST(:uuids AS uuid[]))),
    added AS (
        INSERT INTO tps_readiness_history (tps_id, client_uuid, state, items, note,
                                           recorded_by, checked_at)
        SELECT tps_id, client_uuid, state, items, note, :actor, checked_at FROM target
        ON CONFLICT (client_uuid) DO NOTHING
        RETURNING client_uuid, tps_id, state, items, note, checked_at),
    latest AS (
        SELECT DISTINCT ON (tps_id) * FROM added ORDER BY tps_id, checked_at DESC, client_uuid),
    current AS (
        INSERT INTO tps_readiness AS r (tps_id, state, items, note, updated_at, updated_by,
                                        checked_at)
        SELECT tps_id, state, items, note, now(), :actor, checked_at FROM latest
        ON CONFLICT (tps_id) DO UPDATE SET state = EXCLUDED.state, items = EXCLUDED.items,
            note = EXCLUDED.note, updated_at = EXCLUDED.updated_at,
            updated_by = EXCLUDED.updated_by, checked_at = EXCLUDED.checked_at
        WHERE coalesce(r.checked_at, r.updated_at) <= EXCLUDED.checked_at
        RETURNING tps_id),
    logged AS (
        INSERT INTO audit_log (actor, action, target, detail)
        SELECT :actor, 'readiness.update', t.tps_kode,
               jsonb_build_object('state', a.state, 'client_uuid', a.client_uuid,
                                  'missing', t.missing::jsonb, 'checked_at', a.checked_at)
        FROM added a JOIN target t USING (client_uuid)),
    queued AS (  -- as analysis.changes.tps: the kelurahan of the changed TPS, for the worker
        INSERT INTO analysis_queue (election_id, kelurahan_kode, reason)
        SELECT t.election_id, array_agg(DISTINCT t.kelurahan_kode ORDER BY t.kelurahan_kode),
               'readiness.update'
        FROM added a JOIN target t USING (client_uuid) GROUP BY t.election_id
        RETURNING election_id)
    SELECT x.client_uuid::text, x.tps_kode, k.tps_id, k.kelurahan_kode,
           t.tps_id IS NOT NULL AS in_scope, a.client_uuid IS NOT NULL AS created,
           b.tps_id AS before_tps_id, b.items AS before_items, b.note AS before_note,
           (SELECT count(pg_notify(:channel, q.election_id::text)) FROM queued q) AS notified
    FROM input x
    LEFT JOIN known k USING (client_uuid)
    LEFT JOIN target t USING (client_uuid)
    LEFT JOIN added a USING (client_uuid)
    LEFT JOIN before b USING (client_uuid)"""
WRITE_STMT = hot.Statement(WRITE, json_params=("items",))


def _write(conn: Connection, checks: list[Check], *, tax: Taxonomy, actor: str,
           scope: str | None) -> list[dict]:
    """Write ``checks`` in one statement; raises NotFound/Forbidden/Conflict naming the
    first bad one (the caller's transaction then writes nothing)."""
    rows = hot.rows(conn, WRITE_STMT, {
        "uuids": [c.client_uuid for c in checks], "kodes": [c.tps_kode for c in checks],
        "states": [derive_state(c.items, tax) for c in checks],
        "items": [c.items for c in checks], "notes": [c.note for c in checks],
        "checked": [c.checked_at for c in checks],
        "missing": [json.dumps(c.missing()) for c in checks],
        "actor": actor, "scope": scope, "channel": changes.CHANNEL})
    by_uuid = {r["client_uuid"]: r for r in rows}
    for i, check in enumerate(checks):
        row = by_uuid[check.client_uuid]
        field = f"updates[{i}]." if len(checks) > 1 else ""
        if row["tps_id"] is None:
            raise NotFound(f"TPS {check.tps_kode} tidak ada pada pemilu aktif.",
                           field=field + "tps_kode")
        if not row["in_scope"]:
            scopes.check(conn, scope, row["kelurahan_kode"], f"TPS {check.tps_kode}",
                         field + "tps_kode")
        if row["created"]:
            continue
        if row["before_items"] is None:  # a concurrent sender of the same UUID is first
            row = _stored_check(conn, check.client_uuid)
        if (row["before_tps_id"], row["before_items"], row["before_note"]) != \
                (row["tps_id"], check.items, check.note):
            raise Conflict("client_uuid ini sudah dipakai untuk data kesiapan lain.",
                           field=field + "client_uuid")
    return rows


def _stored_check(conn: Connection, client_uuid: str) -> dict:
    row = conn.execute(text("SELECT tps_id, items, note FROM tps_readiness_history "
                            "WHERE client_uuid = :u"), {"u": client_uuid}).first()
    return {"before_tps_id": row.tps_id, "before_items": row.items, "before_note": row.note,
            "tps_id": row.tps_id}


def update(conn: Connection, tps_kode: str, payload, *, tax: Taxonomy,
           actor: str, scope: str | None = None) -> tuple[bool, dict]:
    """Record one checklist; returns (created, readiness of the TPS). ``scope``: the only
    kelurahan the writer may record for (``entry.scope``), None for city-wide. On an
    autocommit connection the write is one statement (its own transaction)."""
    check = read_check(payload, tax, tps_kode=tps_kode)
    row = _write(conn, [check], tax=tax, actor=actor, scope=scope)[0]
    return bool(row["created"]), readiness(conn, tps_kode, tax)


MAX_BATCH = 2000


def update_batch(conn: Connection, payload, *, tax: Taxonomy, actor: str,
                 scope: str | None = None) -> dict:
    """Many checklists at once (a desk's offline queue): all are stored or none. Each item
    is idempotent by its own UUID; the current state of a TPS is its latest check."""
    updates = payload.get("updates") if isinstance(payload, dict) else None
    if not isinstance(updates, list) or not updates or len(updates) > MAX_BATCH:
        raise InputRejected(f"Kirim {{\"updates\": [...]}} berisi 1..{MAX_BATCH} data kesiapan.",
                            field="updates")
    now = dt.datetime.now(UTC)
    checks, problems = [], []
    for i, item in enumerate(updates):
        try:
            checks.append(read_check(item, tax, now=now, prefix=f"updates[{i}]."))
        except InputRejected as exc:
            problems.extend(exc.problems or [Problem(None, exc.field, exc.message)])
    if problems:
        raise InputRejected(f"Data kesiapan ditolak: {len(problems)} isian perlu diperbaiki; "
                            "tidak ada yang disimpan.", problems, field=problems[0].field)
    if len({c.client_uuid for c in checks}) != len(checks):
        raise InputRejected("Setiap data kesiapan perlu client_uuid sendiri.",
                            field="updates")
    with transaction(conn):
        rows = _write(conn, checks, tax=tax, actor=actor, scope=scope)
    return {"created": sum(1 for r in rows if r["created"]),
            "repeated": sum(1 for r in rows if not r["created"]),
            "items": [{"client_uuid": r["client_uuid"], "tps_kode": r["tps_kode"],
                       "created": bool(r["created"])} for r in rows]}
