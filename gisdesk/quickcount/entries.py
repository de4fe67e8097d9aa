"""Entering one agency's result for one TPS and contest: checked, idempotent, compared.

The client names each report with a UUID: the same UUID and content again changes nothing
(``created`` False), the same UUID with other content is a Conflict. The agency is always
the account's, never taken from the request. A later report of the same agency for the same
TPS+contest (a new UUID) replaces the earlier one, then the agencies are compared.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Mapping

from sqlalchemy import Connection, text

from gisdesk import audit
from gisdesk.errors import Conflict, Forbidden, InputRejected, Problem
from gisdesk.quickcount import contests, flags, store
from gisdesk.quickcount.rules import QuickCountRules, rejected, validate_numbers

MAX_PHOTO_PATH = 300


@dataclass(frozen=True)
class Submitted:
    created: bool
    entry: store.StoredEntry


def _tps(conn: Connection, election_id: int, kode) -> tuple | None:
    if not isinstance(kode, str):
        return None
    return conn.execute(text("SELECT id, kode, kelurahan_kode FROM tps "
                             "WHERE election_id = :e AND kode = :k"),
                        {"e": election_id, "k": kode.strip()}).first()


def _photo_path(raw) -> tuple[str | None, Problem | None]:
    if raw in (None, ""):
        return None, None
    if (not isinstance(raw, str) or len(raw) > MAX_PHOTO_PATH or raw.startswith("/")
            or ".." in raw.split("/") or "\\" in raw):
        return None, Problem(None, "photo_path", "lokasi foto C.Hasil tidak sah (harus nama "
                                                 "berkas unggahan, mis. c-hasil/tps012.jpg)")
    return raw, None


def _agency(actor: store.Actor, payload: Mapping) -> str:
    if not actor.agency:
        raise InputRejected("Akun Anda belum terikat ke instansi; minta admin mengisinya.",
                            field="agency")
    agency = actor.agency.strip().lower()
    claimed = payload.get("agency")
    if claimed not in (None, "") and str(claimed).strip().lower() != agency:
        raise Forbidden(f"Instansi diambil dari akun Anda ({agency.upper()}); tidak boleh "
                        "mengisi atas nama instansi lain.", field="agency")
    return agency


def submit_entry(conn: Connection, actor: store.Actor, payload: Mapping,
                 rules: QuickCountRules) -> Submitted:
    if not isinstance(payload, Mapping):
        raise InputRejected("Kirim laporan sebagai objek JSON.", field=None)
    agency = _agency(actor, payload)
    election = contests.active_election(conn)
    problems: list[Problem] = []
    try:
        entry_id = uuid.UUID(str(payload.get("id")))
    except ValueError:
        entry_id = None
        problems.append(Problem(None, "id", "id laporan wajib berupa UUID buatan aplikasi"))
    tps = _tps(conn, election.id, payload.get("tps_kode"))
    if tps is None:
        problems.append(Problem(None, "tps_kode", "TPS tidak dikenal pada pemilu aktif "
                                "(contoh kode: 52.71.01.1004-012)",
                                value=str(payload.get("tps_kode"))))
    photo_path, photo_problem = _photo_path(payload.get("photo_path"))
    if photo_problem:
        problems.append(photo_problem)
    if problems:
        raise rejected(problems)
    if actor.kelurahan_kode and tps.kelurahan_kode != actor.kelurahan_kode:
        raise Forbidden("TPS ini di luar kelurahan tugas Anda.", field="tps_kode")
    contest = contests.contest(conn, election.id, payload.get("contest"))
    numbers = validate_numbers(payload, contest.nomors,
                               rules.capacity(election.max_voters_per_tps))
    digest = store.content_hash(agency=agency, contest_id=contest.id, tps_id=tps.id,
                                numbers=numbers, photo_path=photo_path)

    store.lock_tps_contest(conn, contest.id, tps.id)
    existing = store.get_entry(conn, entry_id)
    if existing is None:
        store.supersede(conn, contest.id, tps.id, agency)
        if store.insert_entry(conn, entry_id=entry_id, election_id=election.id,
                              contest_id=contest.id, tps_id=tps.id, agency=agency,
                              numbers=numbers, photo_path=photo_path, actor=actor,
                              digest=digest):
            entry = store.get_entry(conn, entry_id)
            flags.refresh(conn, election_id=election.id, contest_id=contest.id, tps_id=tps.id,
                          new_entry=entry, actor=actor.username)
            audit.record(conn, actor.username, "quickcount.entry", tps.kode,
                         {"id": str(entry_id), "agency": agency, "contest": contest.kode},
                         checksum=digest)
            return Submitted(True, entry)
        existing = store.get_entry(conn, entry_id)  # sent twice at the same moment
    if existing.content_hash != digest:
        raise Conflict("ID laporan ini sudah dipakai untuk isi yang berbeda. Untuk koreksi, "
                       "kirim laporan baru (ID baru); laporan lama akan diganti.", field="id")
    return Submitted(False, existing)
