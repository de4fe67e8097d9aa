"""The benchmark databases, built from a migrated template with the product's own loaders:
``gisdesk_bench_city`` (Mataram boundary import + city demo) and ``gisdesk_bench_national``
(the national generator, its election active). Nothing else on the server is touched."""
from __future__ import annotations

import time

from sqlalchemy import make_url, text

from gisdesk.config import load_settings
from gisdesk.db import testing as dbtesting
from gisdesk.db.engine import database_url, get_engine

NAMES = {"city": "gisdesk_bench_city", "national": "gisdesk_bench_national"}
PASSWORD = "mataram2024"
# users the national database gets (the city demo has its own)
USERS = {"koordinator": "viewer", "perencana": "planner", "petugas": "desk_staff"}


def server_url() -> str:
    return database_url(load_settings())


def _usable(url: str, election_kode: str) -> int | None:
    """The election id when a previous run left a complete database, else None."""
    try:
        engine = get_engine(url)
        with engine.connect() as conn:
            return conn.execute(text("SELECT id FROM election WHERE kode = :k AND active"),
                                {"k": election_kode}).scalar()
    except Exception:
        return None


def prepare(scale: str, *, reuse: bool = False, log=print, name: str | None = None,
            spec=None) -> tuple[str, int, dict]:
    """(url, election id, info) of a benchmark database for ``scale``."""
    server = server_url()
    name = name or NAMES[scale]
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    kode = "pemilu-2024-mataram" if scale == "city" else "pemilu-2024-nasional"
    if reuse:
        eid = _usable(url, kode)
        if eid is not None:
            from gisdesk.db.migrate import upgrade
            upgrade(get_engine(url))   # a database kept from an older checkout
            log(f"{scale}: reusing database {name}")
            return url, eid, {"reused": True}
    get_engine(url).dispose()
    started = time.perf_counter()
    url = dbtesting.create_template(server, name)
    engine = get_engine(url)
    info: dict = {"reused": False}
    if scale == "city":
        eid = _load_city(engine, log)
    else:
        from gisdesk.demo.national import load_national
        with engine.begin() as conn:
            counts = load_national(conn, activate=True, actor="bench", spec=spec,
                                   progress=lambda m: log(f"  national: {m}"))
            eid = counts["election_id"]
            _users(conn)
        info["national_load"] = counts
    info["prepare_s"] = round(time.perf_counter() - started, 2)
    _vacuum(url)
    log(f"{scale}: database {name} ready in {info['prepare_s']} s")
    return url, eid, info


def _vacuum(url: str) -> None:
    """VACUUM ANALYZE (outside a transaction) so every measurement sees settled tables."""
    engine = get_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def _load_city(engine, log) -> int:
    from gisdesk.analysis.store import recompute
    from gisdesk.cli.demo import DEMO_BOUNDARIES
    from gisdesk.demo.generate import DEFAULT_AS_OF
    from gisdesk.demo.load import load_demo
    from gisdesk.ingest.write_boundaries import import_boundaries

    import_boundaries(engine, DEMO_BOUNDARIES, actor="bench")
    with engine.begin() as conn:
        counts = load_demo(conn, seed=2024, as_of=DEFAULT_AS_OF, actor="bench")
        conn.execute(text("UPDATE election SET pinned_as_of = :a WHERE is_demo "
                          "AND pinned_as_of IS NULL"), {"a": DEFAULT_AS_OF})
        recompute(conn)
    log(f"  city: {counts['tps']} TPS loaded")
    return counts["election_id"]


def _users(conn) -> None:
    from gisdesk import accounts
    existing = set(conn.execute(text("SELECT username FROM users")).scalars())
    for username, role in USERS.items():
        if username not in existing:
            accounts.create_user(conn, username, PASSWORD, role, actor="bench",
                                 full_name=f"{username} (bench)")


def drop(scale: str) -> None:
    dbtesting.drop_database(server_url(), NAMES[scale])
