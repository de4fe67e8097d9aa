"""`gisdesk import boundaries`: a checked boundary file into kecamatan/kelurahan, atomically.

Upserts by Kemendagri code and only touches rows whose content differs, so re-running the
same import changes nothing. Kecamatan come from a kecamatan file, or are dissolved from
their kelurahan (and re-dissolved whenever their kelurahan change).
"""
from __future__ import annotations

import logging
from pathlib import Path

import shapely
from sqlalchemy import Connection, Engine, text

from gisdesk import audit
from gisdesk.errors import InputRejected, Problem
from gisdesk.indonesian import angka
from gisdesk.ingest.boundaries import BoundaryPrep, prepare_boundaries, rejection_message
from gisdesk.ingest.write_common import (ImportResult, import_transaction, known_kelurahan,
                                         upsert_counts)

LOGGER = logging.getLogger(__name__)
DERIVED = "derived from kelurahan"


def _rows(gdf, columns: list[str]) -> list[dict]:
    wkb = shapely.to_wkb(gdf.geometry.values, hex=False)
    out = []
    for i, rec in enumerate(gdf[columns].to_dict("records")):
        rec = {k: (None if v != v else v) for k, v in rec.items()}  # NaN -> None
        rec["wkb"] = wkb[i]
        out.append(rec)
    return out


def _check_kecamatan_names(conn: Connection, prep: BoundaryPrep, what: str) -> None:
    """A kecamatan dissolved from kelurahan needs a name: from the file, or already loaded."""
    kec = prep.kecamatan
    if not prep.kecamatan_derived or kec is None or kec.empty:
        return
    unnamed = sorted(k for k, n in zip(kec["kode"], kec["nama"]) if not isinstance(n, str) or not n)
    if not unnamed:
        return
    loaded = set(conn.execute(text("SELECT kode FROM kecamatan WHERE kode = ANY(:codes)"),
                              {"codes": unnamed}).scalars())
    unknown = set(unnamed) - loaded
    if not unknown:
        return
    code_field = prep.fields.get("kode")
    problems = [Problem(int(row), code_field, f"kecamatan {kec_kode} dari kelurahan {kode} belum "
                        "dimuat dan berkas tidak memberi nama kecamatan: impor kecamatan "
                        "dulu, atau petakan nama kecamatan dengan --parent-field", value=kode)
                for row, kode, kec_kode in zip(prep.kelurahan["source_row"],
                                               prep.kelurahan["kode"],
                                               prep.kelurahan["kecamatan_kode"])
                if kec_kode in unknown]
    raise InputRejected(rejection_message(what, problems), problems)


def _write_kecamatan(conn: Connection, prep: BoundaryPrep, source: str) -> dict:
    kec = prep.kecamatan
    if kec is None or kec.empty:
        return {}
    if "kode_bps" not in kec.columns:
        kec = kec.assign(kode_bps=None)
    rows = _rows(kec, ["kode", "nama", "kode_bps"])
    flags = []
    if prep.kecamatan_derived:
        # Dissolved kecamatan: only created or renamed here. Their outline is re-dissolved
        # from all their loaded kelurahan after the kelurahan are written, so a file holding
        # some kelurahan of a kecamatan never shrinks it to those. An official outline (from
        # a kecamatan file) is never touched by a dissolve.
        for r in rows:
            flags.append(conn.execute(text("""
                INSERT INTO kecamatan (kode, nama, kode_bps, geom, source)
                VALUES (CAST(:kode AS varchar), coalesce(CAST(:nama AS text),
                        (SELECT nama FROM kecamatan WHERE kode = CAST(:kode AS varchar))),
                        :kode_bps, ST_Multi(ST_GeomFromWKB(:wkb, 4326)), CAST(:source AS text))
                ON CONFLICT (kode) DO UPDATE SET nama = EXCLUDED.nama,
                    kode_bps = coalesce(EXCLUDED.kode_bps, kecamatan.kode_bps),
                    updated_at = now()
                WHERE kecamatan.source = CAST(:source AS text)
                  AND kecamatan.nama IS DISTINCT FROM EXCLUDED.nama
                RETURNING xmax = 0"""), {**r, "source": DERIVED}).scalar())
    else:
        for r in rows:
            flags.append(conn.execute(text("""
                INSERT INTO kecamatan (kode, nama, kode_bps, geom, source)
                VALUES (:kode, :nama, :kode_bps, ST_Multi(ST_GeomFromWKB(:wkb, 4326)), :source)
                ON CONFLICT (kode) DO UPDATE SET nama = EXCLUDED.nama,
                    kode_bps = coalesce(EXCLUDED.kode_bps, kecamatan.kode_bps),
                    geom = EXCLUDED.geom, source = EXCLUDED.source, updated_at = now()
                WHERE (kecamatan.nama, kecamatan.source, ST_AsBinary(kecamatan.geom))
                      IS DISTINCT FROM (EXCLUDED.nama, EXCLUDED.source,
                                        ST_AsBinary(EXCLUDED.geom))
                RETURNING xmax = 0"""), {**r, "source": source}).scalar())
    counts = upsert_counts(flags)
    counts["inserted_codes"] = {r["kode"] for r, f in zip(rows, flags) if f is True}
    counts["updated_codes"] = {r["kode"] for r, f in zip(rows, flags) if f is False}
    return counts


def _redissolve_kecamatan(conn: Connection, codes: list[str]) -> set[str]:
    """Dissolved kecamatan follow all their loaded kelurahan; returns the codes changed."""
    return set(conn.execute(text("""
        UPDATE kecamatan c SET geom = u.geom, updated_at = now()
        FROM (SELECT kecamatan_kode, ST_Multi(ST_CollectionExtract(
                     ST_Union(geom ORDER BY kode), 3)) AS geom
              FROM kelurahan WHERE kecamatan_kode = ANY(:codes)
              GROUP BY kecamatan_kode) u
        WHERE c.kode = u.kecamatan_kode AND c.source = :derived
          AND NOT ST_Equals(c.geom, u.geom)
        RETURNING c.kode"""), {"codes": codes, "derived": DERIVED}).scalars())


def _write_kelurahan(conn: Connection, prep: BoundaryPrep, source: str) -> dict:
    kel = prep.kelurahan
    if kel is None or kel.empty:
        return {}
    missing = conn.execute(text(
        "SELECT k FROM unnest(CAST(:codes AS text[])) k "
        "WHERE NOT EXISTS (SELECT 1 FROM kecamatan WHERE kode = k)"),
        {"codes": sorted(set(kel["kecamatan_kode"]))}).scalars().all()
    if missing:
        raise InputRejected(
            "Berkas batas wilayah menyebut kecamatan yang belum dimuat: " + ", ".join(missing),
            [Problem(None, "kecamatan_kode", f"kecamatan {k} tidak dikenal") for k in missing])
    flags = []
    for r in _rows(kel, ["kode", "nama", "kecamatan_kode", "kode_bps", "area_km2"]):
        r["source"] = source
        r["area_km2"] = round(float(r["area_km2"]), 6) if r["area_km2"] is not None else None
        flags.append(conn.execute(text("""
            INSERT INTO kelurahan (kode, nama, kecamatan_kode, kode_bps, area_km2, geom, source)
            VALUES (:kode, :nama, :kecamatan_kode, :kode_bps, :area_km2,
                    ST_Multi(ST_GeomFromWKB(:wkb, 4326)), :source)
            ON CONFLICT (kode) DO UPDATE SET nama = EXCLUDED.nama,
                kecamatan_kode = EXCLUDED.kecamatan_kode,
                kode_bps = coalesce(EXCLUDED.kode_bps, kelurahan.kode_bps),
                area_km2 = EXCLUDED.area_km2, geom = EXCLUDED.geom, source = EXCLUDED.source,
                updated_at = now()
            WHERE (kelurahan.nama, kelurahan.kecamatan_kode, kelurahan.area_km2,
                   ST_AsBinary(kelurahan.geom))
                  IS DISTINCT FROM (EXCLUDED.nama, EXCLUDED.kecamatan_kode, EXCLUDED.area_km2,
                                    ST_AsBinary(EXCLUDED.geom))
            RETURNING xmax = 0"""), r).scalar())
    return {f"kelurahan_{k}": v for k, v in upsert_counts(flags).items()}


def import_boundaries(engine: Engine, path: str | Path, *, actor: str, level: str | None = None,
                      layer: str | None = None, code_field: str | None = None,
                      name_field: str | None = None, parent_field: str | None = None,
                      src_crs: str | None = None, dry_run: bool = False,
                      progress=lambda message: None) -> ImportResult:
    """Check the whole file first; then write everything in one transaction, or nothing."""
    path = Path(path)
    checksum = audit.file_sha256(path)
    with engine.connect() as conn:
        known = known_kelurahan(conn)
    progress(f"membaca dan memeriksa {path.name}")
    prep = prepare_boundaries(path, level=level, layer=layer, code_field=code_field,
                              name_field=name_field, parent_field=parent_field, src_crs=src_crs,
                              known_kelurahan=known if not known.empty else None)
    result = ImportResult("boundaries", path.name, checksum, problems=list(prep.problems),
                          dry_run=dry_run)
    source = f"{path.name} (sha256 {checksum[:12]})"
    what = f"Berkas batas wilayah {path.name}"
    n = sum(len(g) for g in (prep.kelurahan, prep.kecamatan) if g is not None)
    progress(f"menulis {angka(n)} area dalam satu transaksi")
    with import_transaction(engine, dry_run) as conn:
        _check_kecamatan_names(conn, prep, what)
        kec = _write_kecamatan(conn, prep, source)
        result.counts.update(_write_kelurahan(conn, prep, source))
        if kec:
            if prep.kecamatan_derived:
                codes = sorted(set(prep.kelurahan["kecamatan_kode"]))
                redone = _redissolve_kecamatan(conn, codes)
                kec["updated_codes"] |= redone - kec["inserted_codes"]
            result.counts = {"kecamatan_inserted": len(kec["inserted_codes"]),
                             "kecamatan_updated": len(kec["updated_codes"]),
                             **result.counts}
        result.counts["overlapping_pairs"] = 0 if prep.overlaps is None else len(prep.overlaps)
        if result.changed:
            from gisdesk.analysis import changes
            changes.all_elections(conn, "import.boundaries")
        if not dry_run:
            audit.record(conn, actor, "import.boundaries", path.name,
                         {"level": prep.level, "scheme": prep.scheme, "counts": result.counts,
                          "repairs": len(prep.fixed), "warnings": len(prep.warnings)},
                         checksum)
    return result
