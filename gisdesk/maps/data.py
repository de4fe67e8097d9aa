"""The map's non-layer data: the active election, city totals, the gap table and search.

Plain functions over a connection (no Flask), shared by the web page and the standalone map.
"""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import Connection, text

from gisdesk.errors import InputRejected
from gisdesk.maps.labels import CLASS_ORDER


NO_RESULTS = ("Hasil analisis untuk pemilu ini belum ada: worker analisis sedang atau belum "
              "menghitungnya (jalankan `gisdesk worker`, atau `gisdesk serve` yang "
              "menjalankannya).")


def active_election(conn: Connection) -> dict | None:
    """The election the app works on, with its stored analysis results' ``as_of`` and
    ``version`` (both None while none are stored: readers never compute them)."""
    row = conn.execute(text(
        "SELECT e.id, e.kode, e.nama, e.kind, e.voting_date, e.is_demo, a.as_of, a.version "
        "FROM election e LEFT JOIN analysis_run a ON a.election_id = e.id "
        "WHERE e.active")).mappings().first()
    return dict(row) if row else None


def election(conn: Connection, election_id: int) -> dict | None:
    row = conn.execute(text(
        "SELECT e.id, e.kode, e.nama, e.kind, e.voting_date, e.is_demo, a.as_of, a.version "
        "FROM election e LEFT JOIN analysis_run a ON a.election_id = e.id "
        "WHERE e.id = :e"), {"e": election_id}).mappings().first()
    return dict(row) if row else None


def results_state(election: dict | None) -> dict:
    """Which analysis results a reader shows: version, as_of (ISO and WITA), or why none."""
    if election is None:
        return {"version": None, "as_of": None, "keadaan": None,
                "pesan": "Belum ada pemilu aktif."}
    if election.get("version") is None:
        return {"version": None, "as_of": None, "keadaan": None, "pesan": NO_RESULTS}
    return {"version": int(election["version"]), "as_of": election["as_of"].isoformat(),
            "keadaan": f"keadaan per {wita(election['as_of'])}", "pesan": None}


def summary(conn: Connection, election_id: int, *, kecamatan_kode: str | None = None,
            classes: list[str] | None = None) -> dict:
    """Totals for the header strip (the whole election, or one kecamatan), read from the
    aggregates stored with the results version (kabkota_gap / kecamatan_gap), never summed
    over TPS per page view. ``classes`` (None: all; "belum_dinilai" for unrated TPS) narrows
    the TPS counts; personnel are planned per kelurahan, not per class, so they follow the
    kecamatan only. The shortfall sums only kelurahan that are short: a surplus in one
    kelurahan does not staff another until someone moves people, so
    ``required - assigned == short - surplus``."""
    _check_kecamatan(kecamatan_kode)
    classes = _classes(classes)
    table, where = (("kabkota_gap", "") if kecamatan_kode is None
                    else ("kecamatan_gap", "AND kecamatan_kode = :kec"))
    gap = conn.execute(text(
        f"SELECT COALESCE(sum(n_tps), 0), COALESCE(sum(polri_required), 0), "
        f"       COALESCE(sum(polri_assigned), 0), COALESCE(sum(polri_short), 0), "
        f"       COALESCE(sum(polri_surplus), 0), COALESCE(sum(linmas_required), 0), "
        f"       COALESCE(sum(linmas_assigned), 0), COALESCE(sum(linmas_short), 0), "
        f"       COALESCE(sum(linmas_surplus), 0), COALESCE(sum(kelurahan_short), 0) "
        f"FROM {table} WHERE election_id = :e {where}"),
        {"e": election_id, "kec": kecamatan_kode}).one()
    counts = dict(conn.execute(text(
        f"SELECT c.key, sum(c.value::int) FROM {table}, jsonb_each_text(n_by_class) c "
        f"WHERE election_id = :e {where} GROUP BY 1"),
        {"e": election_id, "kec": kecamatan_kode}).all())
    incidents = conn.execute(text(
        "SELECT count(*) FROM incident WHERE election_id = :e "
        "AND status NOT IN ('rejected', 'merged') "
        "AND (CAST(:kec AS text) IS NULL OR left(kelurahan_kode, 8) = :kec)"),
        {"e": election_id, "kec": kecamatan_kode}).scalar_one()
    by_class = {k: int(counts.get(k, 0)) for k in CLASS_ORDER if classes is None or k in classes}
    if counts.get("belum_dinilai") and (classes is None or "belum_dinilai" in classes):
        by_class["belum_dinilai"] = int(counts["belum_dinilai"])

    def agency(i: int) -> dict:
        return {"required": int(gap[i]), "assigned": int(gap[i + 1]), "short": int(gap[i + 2]),
                "surplus": int(gap[i + 3])}
    return {
        "tps": int(gap[0]) if classes is None else sum(by_class.values()),
        "by_class": by_class, "polri": agency(1), "linmas": agency(5),
        "kelurahan_short": int(gap[9]), "incidents": int(incidents),
        "scope": {"kecamatan_kode": kecamatan_kode,
                  "kecamatan_nama": _kecamatan_nama(conn, kecamatan_kode), "classes": classes},
    }


def _check_kecamatan(kecamatan_kode: str | None) -> None:
    if kecamatan_kode is not None and not re.fullmatch(r"\d{2}\.\d{2}\.\d{2}", kecamatan_kode):
        raise InputRejected("Kode kecamatan tidak sah (contoh: 52.71.01)", field="kecamatan")


def _classes(classes: list[str] | None) -> list[str] | None:
    """None for "every class"; otherwise the known classes picked, in their order."""
    if classes is None:
        return None
    known = (*CLASS_ORDER, "belum_dinilai")
    unknown = [c for c in classes if c not in known]
    if unknown:
        raise InputRejected(f"Kelas tidak dikenal: {unknown[0]} (pilih dari {', '.join(known)})",
                            field="kelas")
    picked = [c for c in known if c in classes]
    return None if len(picked) == len(known) else picked


def _kecamatan_nama(conn: Connection, kode: str | None) -> str | None:
    if kode is None:
        return None
    nama = conn.execute(text("SELECT nama FROM kecamatan WHERE kode = :k"), {"k": kode}).scalar()
    if nama is None:
        raise InputRejected(f"Kecamatan {kode} tidak ada.", field="kecamatan")
    return nama


def gap_rows(conn: Connection, election_id: int, *, kecamatan_kode: str | None = None,
             limit: int | None = None) -> list[dict]:
    """Kelurahan by Polri shortfall (then Linmas), largest first, with their reasons: the
    stored kelurahan_gap rows read through their largest-gaps index."""
    _check_kecamatan(kecamatan_kode)
    if limit is not None and not 0 < int(limit) <= 10000:
        raise InputRejected("limit harus 1..10000", field="limit")
    sql = (
        "SELECT g.kelurahan_kode, kel.nama AS kelurahan_nama, g.kecamatan_kode, "
        "       kec.nama AS kecamatan_nama, g.n_tps, g.n_by_class, "
        "       g.polri_required, g.polri_assigned, g.polri_gap, "
        "       g.linmas_required, g.linmas_assigned, g.linmas_gap, g.tni_assigned, "
        "       g.not_ready, g.incidents_recent, g.reasons "
        "FROM kelurahan_gap g JOIN kelurahan kel ON kel.kode = g.kelurahan_kode "
        "JOIN kecamatan kec ON kec.kode = g.kecamatan_kode "
        "WHERE g.election_id = :e AND (CAST(:kec AS text) IS NULL OR g.kecamatan_kode = :kec) "
        "ORDER BY g.polri_gap DESC, g.linmas_gap DESC, g.kelurahan_kode")
    params = {"e": election_id, "kec": kecamatan_kode}
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = int(limit)
    return [dict(r) for r in conn.execute(text(sql), params).mappings()]


def suggestion_moves(conn: Connection, election_id: int, *, limit: int | None = None) -> list[dict]:
    """Stored suggestions that name a source, as the fields of a move (gisdesk.moves); the
    first ``limit`` by rank (a big election has thousands)."""
    rows = conn.execute(text(
        "SELECT s.id, s.rank, s.agency, s.count, s.kelurahan_kode, k.nama AS kelurahan_nama, "
        "       s.from_kind, s.from_kelurahan_kode, f.nama AS from_kelurahan_nama, s.move_text "
        "FROM suggestion s JOIN kelurahan k ON k.kode = s.kelurahan_kode "
        "LEFT JOIN kelurahan f ON f.kode = s.from_kelurahan_kode "
        "WHERE s.election_id = :e AND s.from_kind IN ('kelurahan', 'polsek_reserve', "
        "'polresta_reserve') ORDER BY s.rank, s.id LIMIT :n"),
        {"e": election_id, "n": limit}).mappings()
    out = []
    for r in rows:
        reserve = {"polsek_reserve": r["kelurahan_kode"][:8],   # the receiver's Polsek
                   "polresta_reserve": "polresta"}.get(r["from_kind"])
        out.append({**dict(r), "from_reserve": reserve})
    return out


_TPS_NUMBER = re.compile(r"^(?:tps\s*)?0*(\d{1,3})$", re.IGNORECASE)


def search(conn: Connection, election_id: int, q: str, *, limit: int = 12) -> list[dict]:
    """TPS by code or number ("TPS 012", "12", "52.71.01.1004-012"), kelurahan and
    kecamatan by name or code. Each hit carries where to go (point or bounding box)."""
    q = (q or "").strip()
    if len(q) > 80:
        raise InputRejected("Kata pencarian terlalu panjang (maks. 80 huruf)", field="q")
    if len(q) < 2 and not q.isdigit():
        return []
    # LIKE wildcards in the user's text are matched literally
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    number = _TPS_NUMBER.match(q)
    hits: list[dict] = []
    rows = conn.execute(text(
        "SELECT 'kelurahan' AS kind, kel.kode, kel.nama || ', ' || kec.nama AS label, "
        "       ST_XMin(kel.geom) AS w, ST_YMin(kel.geom) AS s, ST_XMax(kel.geom) AS e, "
        "       ST_YMax(kel.geom) AS n "
        "FROM kelurahan kel JOIN kecamatan kec ON kec.kode = kel.kecamatan_kode "
        "WHERE kel.nama ILIKE :p OR kel.kode LIKE :pc "
        "UNION ALL "
        "SELECT 'kecamatan', kec.kode, 'Kecamatan ' || kec.nama, ST_XMin(kec.geom), "
        "       ST_YMin(kec.geom), ST_XMax(kec.geom), ST_YMax(kec.geom) "
        "FROM kecamatan kec WHERE kec.nama ILIKE :p OR kec.kode = :q "
        "ORDER BY 1 DESC, 3 LIMIT :limit"),
        {"p": pattern, "q": q, "limit": limit,
         "pc": pattern if "." in q else ""}).mappings()  # codes only when it looks like one
    for r in rows:
        hits.append({"kind": r["kind"], "kode": r["kode"], "label": r["label"],
                     "bbox": [r["w"], r["s"], r["e"], r["n"]]})
    tps = conn.execute(text(
        "SELECT t.kode, 'TPS ' || lpad(t.nomor::text, 3, '0') || ', ' || kel.nama AS label, "
        "       ST_X(t.geom) AS lon, ST_Y(t.geom) AS lat "
        "FROM tps t JOIN kelurahan kel ON kel.kode = t.kelurahan_kode "
        "WHERE t.election_id = :e AND (t.kode LIKE :pc OR t.nomor = :nomor) "
        "ORDER BY t.kode LIMIT :limit"),
        {"e": election_id, "pc": pattern if "." in q else "", "limit": limit,
         "nomor": int(number.group(1)) if number else -1}).mappings()
    for r in tps:
        hits.append({"kind": "tps", "kode": r["kode"], "label": r["label"],
                     "point": [r["lon"], r["lat"]]})
    return hits[:limit]


def wita(value: dt.datetime | None) -> str:
    """A time as the desk reads it (WITA), e.g. '14 Feb 2024 13:00 WITA'."""
    if value is None:
        return ""
    from zoneinfo import ZoneInfo
    local = value.astimezone(ZoneInfo("Asia/Makassar"))
    months = "Jan Feb Mar Apr Mei Jun Jul Agu Sep Okt Nov Des".split()
    return f"{local.day} {months[local.month - 1]} {local.year} {local:%H:%M} WITA"
