"""Many clients at once against a real threaded server: every report is stored exactly once."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import text

from entry import seed as S

CLIENTS = 20


def _report(i: int = 0) -> dict:
    return {"id": S.new_id(), "category": "protes_saksi", "severity": "ringan",
            "occurred_at": "2024-02-14T14:00", "lon": S.IN_A[0] + i * 1e-5, "lat": S.IN_A[1],
            "description": f"Protes saksi #{i}"}


def _rows(engine, where: str = "", params: dict | None = None) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM incident " + where), params or {}).scalar()


def test_same_report_sent_by_twenty_clients_at_once_is_stored_once(live_server, area, engine):
    body = _report()
    start = threading.Barrier(CLIENTS)

    def send(_):
        with requests.Session() as http:
            http.headers["Authorization"] = f"Bearer {area['tokens']['desk_staff']}"
            start.wait()
            return http.post(f"{live_server}/api/incidents", json=body, timeout=30).status_code

    with ThreadPoolExecutor(CLIENTS) as pool:
        codes = sorted(pool.map(send, range(CLIENTS)))
    assert codes == [200] * (CLIENTS - 1) + [201]
    assert _rows(engine, "WHERE id = :i", {"i": body["id"]}) == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log WHERE target = :t"),
                            {"t": body["id"]}).scalar() == 1


def test_twenty_clients_with_retries_store_every_report_exactly_once(live_server, area,
                                                                     engine):
    per_client = 6
    before = _rows(engine)
    start = threading.Barrier(CLIENTS)

    def client(n: int) -> list[int]:
        codes = []
        with requests.Session() as http:
            http.headers["Authorization"] = f"Bearer {area['tokens']['desk_staff']}"
            start.wait()
            for k in range(per_client):
                body = _report(n * per_client + k)
                # every third report "loses" its first answer and is sent again, like a phone
                # on a bad network; errors and 5xx are retried with the same UUID
                sends = 2 if k % 3 == 0 else 1
                for _ in range(sends):
                    for attempt in range(5):
                        try:
                            resp = http.post(f"{live_server}/api/incidents", json=body,
                                             timeout=30)
                        except requests.RequestException:
                            time.sleep(0.2 * (attempt + 1))
                            continue
                        if resp.status_code < 500:
                            codes.append(resp.status_code)
                            break
                        time.sleep(0.2 * (attempt + 1))
        return codes

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(client, range(CLIENTS)))
    flat = [c for codes in results for c in codes]
    created = CLIENTS * per_client
    assert flat.count(201) == created
    assert flat.count(200) == CLIENTS * 2          # the resent ones (k = 0 and 3)
    assert len(flat) == created + CLIENTS * 2
    assert _rows(engine) - before == created
