"""Where a reported point lies: its kelurahan, the nearest (or named) TPS, and sanity checks.

Rules (DESIGN.md, "Region"): a point inside several overlapping kelurahan goes to the one
with the lowest code; a point outside the union of the loaded kelurahan but within the
tolerance (50 m) goes to the nearest one with a warning; further out it is rejected, with a
hint when swapping lat/lon or flipping the latitude's sign would put it inside.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import Connection, text

from gisdesk.entry.taxonomy import Taxonomy
from gisdesk.errors import InputRejected, Problem
from gisdesk.indonesian import angka

POINT = "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)"
_AREA = "(CAST(:wil AS text) IS NULL OR k.kode LIKE CAST(:wil AS text) || '.%')"
# The two placement rules as SQL fragments, shared with the one-statement entry of a report
# (``incidents.FAST_INSERT``): {point} is a point expression, {wil} the area's code prefix
# (NULL: everywhere), {election} the election id.
COVERING_KELURAHAN = """
    SELECT k.kode, k.nama, 0.0 AS distance_m FROM kelurahan k
    WHERE ST_Covers(k.geom, {point}) AND ({wil} IS NULL OR k.kode LIKE {wil} || '.%')
    ORDER BY k.kode LIMIT 1"""
NEAREST_TPS = """
    SELECT id, kode, distance_m FROM (
        SELECT t.id, t.kode, ST_Distance(t.geom::geography, {point}::geography) AS distance_m
        FROM tps t WHERE t.election_id = {election}
        ORDER BY t.geom <-> {point} LIMIT 5) c
    ORDER BY distance_m, kode LIMIT 1"""
TPS_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.[12]\d{3}-\d{3}$")


@dataclass
class Placement:
    kelurahan_kode: str
    kelurahan_nama: str
    tps_id: int | None = None
    tps_kode: str | None = None
    tps_distance_m: float | None = None
    warnings: list[dict] = field(default_factory=list)

    def warn(self, code: str, message: str, field_name: str) -> None:
        self.warnings.append({"code": code, "message": message, "field": field_name})


def area_centre(conn: Connection) -> tuple[float, float] | None:
    """(lat, lon) of the middle of the loaded kelurahan (completes short Plus Codes)."""
    row = conn.execute(text("SELECT ST_Y(c), ST_X(c) FROM (SELECT ST_Centroid("
                            "ST_Extent(geom)::geometry) AS c FROM kelurahan) e")).first()
    return None if row is None or row[0] is None else (float(row[0]), float(row[1]))


def _valid(lon: float, lat: float) -> bool:
    return -90 <= lat <= 90 and -180 <= lon <= 180


def _kelurahan(conn: Connection, lon: float, lat: float, wil: str | None):
    """(kode, nama, distance_m) of the kelurahan holding the point, else the nearest one."""
    params = {"lon": lon, "lat": lat, "wil": wil}
    row = conn.execute(text(COVERING_KELURAHAN.format(point=POINT, wil="CAST(:wil AS text)")),
                       params).first()
    if row:
        return row
    # KNN on the index picks candidates; the metric distance decides among them
    return conn.execute(text(f"""
        SELECT kode, nama, distance_m FROM (
            SELECT k.kode, k.nama,
                   ST_Distance(k.geom::geography, {POINT}::geography) AS distance_m
            FROM kelurahan k WHERE {_AREA}
            ORDER BY k.geom <-> {POINT} LIMIT 8) c
        ORDER BY distance_m, kode LIMIT 1"""), params).first()


def _inside(conn, lon, lat, wil, tolerance) -> bool:
    if not _valid(lon, lat):
        return False
    row = _kelurahan(conn, lon, lat, wil)
    return row is not None and row.distance_m <= tolerance


def locate(conn: Connection, lon: float, lat: float, *, wilayah: str | None,
           tax: Taxonomy) -> dict:
    """Where a point falls, for a check before sending: the kelurahan holding it (or the
    nearest), how far outside the work area it is, and whether a report there is accepted."""
    row = _kelurahan(conn, lon, lat, wilayah) if _valid(lon, lat) else None
    if row is None:
        return {"inside": False, "kelurahan_nama": None, "distance_m": None}
    return {"inside": row.distance_m <= tax.boundary_tolerance_m,
            "kelurahan_kode": row.kode, "kelurahan_nama": row.nama,
            "distance_m": round(float(row.distance_m), 1)}


def _reject(message: str, field_name: str, value: str):
    raise InputRejected(message, [Problem(None, field_name, message, "error", value)],
                        field=field_name)


def place_kelurahan(conn: Connection, lon: float, lat: float, *, wilayah: str | None,
                    tax: Taxonomy, field_name: str) -> Placement:
    value = f"lat {lat:g}, lon {lon:g}"
    tolerance = tax.boundary_tolerance_m
    row = _kelurahan(conn, lon, lat, wilayah) if _valid(lon, lat) else None
    if row is None and _valid(lon, lat):
        _reject("Belum ada data batas kelurahan; titik tidak dapat ditempatkan.", field_name,
                value)
    if row is not None and row.distance_m <= tolerance:
        place = Placement(row.kode, row.nama)
        if row.distance_m > 0:
            place.warn("near_boundary",
                       f"Titik {angka(row.distance_m)} m di luar batas wilayah; dimasukkan ke "
                       f"kelurahan terdekat, {row.nama}.", field_name)
        return place
    if _inside(conn, lat, lon, wilayah, tolerance):
        _reject("Titik berada di luar wilayah, tetapi masuk wilayah bila lintang dan bujur "
                "ditukar. Apakah lintang dan bujur tertukar?",
                field_name, value)
    if _inside(conn, lon, -lat, wilayah, tolerance):
        _reject("Titik berada di luar wilayah, tetapi masuk wilayah bila tanda lintang "
                "dibalik (tanda lintang terbalik?). Lintang selatan ditulis negatif (mis. "
                "-8.58) atau dengan S/LS.", field_name, value)
    where = f" ({angka(row.distance_m / 1000, 1)} km dari batas terdekat)" if row else ""
    _reject(f"Titik berada di luar wilayah kerja{where}.", field_name, value)
    raise AssertionError("unreachable")


def _nearest_tps(conn, lon, lat, election_id):
    return conn.execute(text(NEAREST_TPS.format(point=POINT, election=":e")),
                        {"lon": lon, "lat": lat, "e": election_id}).first()


def tps_code(given: str, kelurahan_kode: str) -> str | None:
    """A TPS as typed ("12", "TPS 012", "52.71.01.1004-012") as its full code, else None."""
    word = re.sub(r"^\s*TPS\s*", "", given.strip(), flags=re.I)
    if TPS_CODE.match(word):
        return word
    if re.fullmatch(r"[0-9]{1,3}", word) and 1 <= int(word) <= 999:
        return f"{kelurahan_kode}-{int(word):03d}"
    return None


def place_tps(conn: Connection, place: Placement, lon: float, lat: float, *,
              election_id: int, given: str | None, tax: Taxonomy, field_name: str) -> None:
    far = tax.far_from_tps_m
    if given:
        kode = tps_code(given, place.kelurahan_kode)
        if kode is None:
            _reject("Nomor TPS tidak dikenali; tulis nomornya (mis. 12) atau kodenya "
                    "(mis. 52.71.01.1004-012).", "tps", given)
        row = conn.execute(text(f"""
            SELECT id, kode, ST_Distance(geom::geography, {POINT}::geography) AS distance_m
            FROM tps WHERE election_id = :e AND kode = :k"""),
            {"lon": lon, "lat": lat, "e": election_id, "k": kode}).first()
        if row is None:
            _reject(f"TPS {kode} tidak ada pada pemilu aktif (kelurahan titik: "
                    f"{place.kelurahan_nama}).", "tps", given)
        if row.distance_m > far:
            place.warn("tps_far_from_point",
                       f"TPS {row.kode} berjarak {angka(row.distance_m / 1000, 1)} km dari titik "
                       "kejadian.", "tps")
    else:
        row = _nearest_tps(conn, lon, lat, election_id)
        if row is None or row.distance_m > far:
            where = (f"TPS terdekat ({row.kode}) berjarak {angka(row.distance_m / 1000, 1)} km"
                     if row else "Belum ada TPS untuk pemilu aktif")
            place.warn("far_from_tps", f"{where}; periksa kembali titiknya.", field_name)
    if row is not None:
        place.tps_id, place.tps_kode = row.id, row.kode
        place.tps_distance_m = round(float(row.distance_m), 1)
