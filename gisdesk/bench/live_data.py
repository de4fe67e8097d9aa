"""Writes for the live-analysis benchmarks, through the product's own functions, and the
bench database put back afterwards (readiness as it was, the bench's incidents gone,
results recomputed), so later measurements see the data they expect."""
from __future__ import annotations

import json
import time
import uuid
from contextlib import contextmanager

from sqlalchemy import text

from gisdesk.analysis import changes
from gisdesk.analysis.catchup import drain, rules_sha256
from gisdesk.entry import readiness as entry_readiness, review as entry_review
from gisdesk.entry.taxonomy import load_taxonomy

MARK = "bench-live"          # reporter_name of the bench's incidents


class LiveData:
    def __init__(self, engine, election_id: int):
        self.engine, self.election_id = engine, election_id
        self.tax = load_taxonomy()
        self.touched: set[int] = set()

    def ready_tps(self, n: int, offset: int = 0) -> list[tuple[str, str]]:
        """(TPS, kelurahan) of TPS that are ready or have no checklist, one per kelurahan."""
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text("""
                SELECT DISTINCT ON (t.kelurahan_kode) t.kode, t.kelurahan_kode
                FROM tps t LEFT JOIN tps_readiness r ON r.tps_id = t.id
                WHERE t.election_id = :e AND (r.state IS NULL OR r.state = 'siap')
                ORDER BY t.kelurahan_kode, t.kode LIMIT :n OFFSET :o"""),
                {"e": self.election_id, "n": n, "o": offset})]

    def calm_tps(self, n: int) -> list[tuple[str, str]]:
        """(TPS, kelurahan) of kurang-rawan TPS not escalated, in different kelurahan."""
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text("""
                SELECT DISTINCT ON (t.kelurahan_kode) t.kode, t.kelurahan_kode
                FROM tps t JOIN tps_risk k ON k.tps_id = t.id
                WHERE t.election_id = :e AND k.kelas = 'kurang_rawan' AND NOT k.escalated
                ORDER BY t.kelurahan_kode DESC, t.kode LIMIT :n"""),
                {"e": self.election_id, "n": n})]

    def readiness(self, tps: str, *, ready: bool) -> None:
        items = {i.key: ready for i in self.tax.readiness}
        with self.engine.begin() as conn:
            self.touched.add(conn.execute(text(    # (election_id, kode): the unique index
                "SELECT id FROM tps WHERE election_id = :e AND kode = :k"),
                {"e": self.election_id, "k": tps}).scalar_one())
            entry_readiness.update(conn, tps, {"client_uuid": str(uuid.uuid4()),
                                               "items": items}, tax=self.tax, actor=MARK)

    def report_near(self, tps: str, ident: str) -> str:
        """A reported heavy incident 50 m from the TPS, an hour before the results' as_of."""
        with self.engine.begin() as conn:
            conn.execute(text("""
                INSERT INTO incident (id, election_id, category, severity, occurred_at,
                                      status, geom, content_hash, reporter_name)
                SELECT CAST(:id AS uuid), :e, 'bentrok_massa', 'berat',
                       (SELECT as_of FROM analysis_run WHERE election_id = :e)
                         - interval '1 hour', 'reported',
                       ST_Project(geom::geography, 50, 0)::geometry, :id, :mark
                FROM tps WHERE election_id = :e AND kode = :t"""),
                {"id": ident, "e": self.election_id, "t": tps, "mark": MARK})
            changes.incident(conn, ident, "incident.create")
        return ident

    def verify(self, ident: str) -> None:
        with self.engine.begin() as conn:
            entry_review.review(conn, ident, "verify", actor=MARK, tax=self.tax)

    def escalated(self) -> int:
        """TPS escalated by the bench's incidents (the verifications raised a class)."""
        with self.engine.connect() as conn:
            return int(conn.execute(text("""
                SELECT count(DISTINCT k.tps_id) FROM tps_risk k JOIN tps t ON t.id = k.tps_id
                JOIN incident i ON i.reporter_name = :m AND i.status = 'verified'
                 AND ST_DWithin(i.geom::geography, t.geom::geography, 60)
                WHERE k.escalated"""), {"m": MARK}).scalar())


def settle(engine, timeout: float = 300.0) -> None:
    """Wait until the worker has taken every queued change (and, after it started, has
    computed results, with the rules file in use)."""
    deadline = time.monotonic() + timeout
    digest = rules_sha256(None)
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if not conn.execute(text("""
                    SELECT EXISTS (SELECT 1 FROM analysis_queue)
                        OR NOT EXISTS (SELECT 1 FROM analysis_run) OR EXISTS (
                      SELECT 1 FROM analysis_run r LEFT JOIN analysis_inputs i USING (election_id)
                      WHERE i.rules_sha256 IS DISTINCT FROM :h)"""), {"h": digest}).scalar():
                return
        time.sleep(0.05)
    raise TimeoutError("the analysis worker did not empty the queue")


@contextmanager
def restored(engine, election_id: int):
    """LiveData for the block; afterwards readiness rows as they were, the bench's incidents
    deleted and the election's results recomputed."""
    with engine.connect() as conn:
        saved = conn.execute(text(
            "SELECT tps_id, state, items, note, updated_at, updated_by FROM tps_readiness "
            "WHERE tps_id IN (SELECT id FROM tps WHERE election_id = :e)"),
            {"e": election_id}).mappings().all()
    data = LiveData(engine, election_id)
    try:
        yield data
    finally:
        before = {r["tps_id"]: r for r in saved}
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM incident WHERE reporter_name = :m"), {"m": MARK})
            for tps_id in data.touched:
                conn.execute(text("DELETE FROM tps_readiness WHERE tps_id = :t"), {"t": tps_id})
                if tps_id in before:
                    conn.execute(text("""
                        INSERT INTO tps_readiness (tps_id, state, items, note, updated_at,
                                                   updated_by)
                        VALUES (:tps_id, :state, CAST(:items AS jsonb), :note, :updated_at,
                                :updated_by)"""),
                        {**before[tps_id], "items": json.dumps(before[tps_id]["items"])})
            conn.execute(text("DELETE FROM tps_readiness_history WHERE recorded_by = :m"),
                         {"m": MARK})
            changes.full(conn, election_id, "bench restored")
        drain(engine, {election_id})
