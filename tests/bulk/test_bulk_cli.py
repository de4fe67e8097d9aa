"""`gisdesk import ratings|personnel|incidents|readiness` on the Mataram demo (real PostGIS):
good files go in whole and re-importing them changes nothing; a bad file is rejected whole,
every bad row named, nothing written."""
from __future__ import annotations

import json

from sqlalchemy import text

from bulk.conftest import data_part, snapshot, write_csv


def _tps_point(engine, kode, dx=0.0003):
    with engine.connect() as conn:
        lon, lat = conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM tps WHERE kode = :k"),
                                {"k": kode}).one()
    return lon + dx, lat


def _batch_and_audit(engine, kind):
    with engine.connect() as conn:
        batch = conn.execute(text("SELECT kind, sha256, counts FROM import_batch "
                                  "WHERE kind = :k ORDER BY id DESC LIMIT 1"), {"k": kind}).one()
        entry = conn.execute(text("SELECT action, checksum FROM audit_log "
                                  "ORDER BY id DESC LIMIT 1")).one()
    return batch, entry


# ------------------------------------------------------------------ ratings

def test_polri_ratings_file_goes_in_and_reimport_changes_nothing(cli, engine, demo, tmp_path):
    t0, t1 = demo["tps"][0], demo["tps"][1]
    kel, nomor = t1.split("-")
    path = write_csv(tmp_path / "polri.csv", f"""
Kode TPS;Kode Kelurahan;No TPS;Kelas Kerawanan;Tanggal;Catatan
{t0};;;Sangat Rawan;10/02/2024;riwayat bentrok
;{kel};{int(nomor)};rawan;2024-02-10;
;{demo['kelurahan'][3]};;kurang rawan;10-02-2024;tingkat kelurahan
""", bom=True)
    before = snapshot(engine)
    result = cli("import", "ratings", path, "--source", "polri")
    assert result.exit_code == 0, result.output
    assert "3 baru" in result.output
    after = snapshot(engine)
    assert after["ratings"] == before["ratings"] + 3
    assert after["batches"] == before["batches"] + 1 and after["audit"] == before["audit"] + 1
    batch, entry = _batch_and_audit(engine, "ratings")
    assert batch.counts == {"inserted": 3, "updated": 0, "unchanged": 0}
    assert entry.action == "import.ratings" and entry.checksum == batch.sha256
    with engine.connect() as conn:
        rows = conn.execute(text("""
            SELECT coalesce(t.kode, r.kelurahan_kode), r.kelas, r.rated_on::text, r.import_id
            FROM rating r LEFT JOIN tps t ON t.id = r.tps_id
            WHERE r.source = 'polri' AND r.rated_on = '2024-02-10' ORDER BY 1""")).all()
        queued = conn.execute(text("SELECT kelurahan_kode, reason FROM analysis_queue "
                                   "ORDER BY id DESC LIMIT 1")).one()
    assert {(r[0], r[1]) for r in rows} == {(t0, "sangat_rawan"), (t1, "rawan"),
                                            (demo["kelurahan"][3], "kurang_rawan")}
    assert all(r[3] is not None for r in rows)
    assert queued == (None, "import.ratings")                # a full refresh is queued

    again = cli("import", "ratings", path, "--source", "polri")
    assert again.exit_code == 0, again.output
    assert "0 baru, 0 diperbarui, 3 tidak berubah" in again.output
    assert data_part(snapshot(engine)) == data_part(after)


def test_changed_rating_replaces_the_same_source_target_and_date(cli, engine, demo, tmp_path):
    t0 = demo["tps"][0]
    path = write_csv(tmp_path / "polri2.csv", f"kode_tps,kelas,tanggal\n{t0},rawan,10/02/2024")
    result = cli("import", "ratings", path, "--source", "polri")
    assert result.exit_code == 0, result.output
    assert "1 diperbarui" in result.output
    with engine.connect() as conn:
        kelas = conn.execute(text("""
            SELECT array_agg(r.kelas) FROM rating r JOIN tps t ON t.id = r.tps_id
            WHERE t.kode = :k AND r.source = 'polri' AND r.rated_on = '2024-02-10'"""),
            {"k": t0}).scalar()
    assert kelas == ["rawan"]


def test_bawaslu_indicators_from_a_list_cell_or_yes_no_columns(cli, engine, demo, tmp_path):
    t2, t3 = demo["tps"][2], demo["tps"][3]
    path = write_csv(tmp_path / "bawaslu.csv", f"""
kode_tps;indikator;politik_uang;riwayat_kekerasan;tanggal
{t2};netralitas ASN | logistik terlambat;ya;tidak;2024-02-12
{t3};;1;1;2024-02-12
""")
    result = cli("import", "ratings", path, "--source", "bawaslu")
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        got = dict(conn.execute(text("""
            SELECT t.kode, r.indicators FROM rating r JOIN tps t ON t.id = r.tps_id
            WHERE r.source = 'bawaslu' AND r.rated_on = '2024-02-12'""")).all())
    assert got == {t2: ["logistik_terlambat", "netralitas_asn", "politik_uang"],
                   t3: ["politik_uang", "riwayat_kekerasan"]}


def test_bad_ratings_file_is_rejected_whole_naming_every_row(cli, engine, demo, tmp_path):
    t0, kel = demo["tps"][0], demo["kelurahan"][0]
    path = write_csv(tmp_path / "bad.csv", f"""
sumber,kode_tps,kode,kelas,tanggal
polri,{kel}-999,,rawan,10/02/2024
polri,{t0},,agak rawan,10/02/2024
kpu,{t0},,tinggi,31/02/2024
tni,{t0},,rawan,10/02/2024
kpu,{t0},,sedang,11/02/2024
polri,,,rawan,10/02/2024
""")
    report = tmp_path / "report.csv"
    before = snapshot(engine)
    result = cli("import", "ratings", path, "--report", report)
    assert result.exit_code == 1
    out = result.output
    assert "Tidak ada yang ditulis ke basis data" in out
    assert "baris 1, kolom \'kode_tps'" in out and "TPS tidak ada di pemilu aktif" in out
    assert "baris 2, kolom \'kelas'" in out and "agak rawan" in out
    assert "baris 3, kolom \'tanggal'" in out
    assert "baris 4, kolom \'sumber'" in out and "sumber tidak dikenal" in out
    assert "baris 5" not in out                                 # the good row is not blamed
    assert "baris 6, kolom \'kode_tps'" in out
    assert snapshot(engine) == before                         # nothing, not even audit
    lines = report.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "baris,kolom,tingkat,masalah,nilai" and len(lines) == 6


def test_ratings_without_any_source_are_refused(cli, engine, demo, tmp_path):
    path = write_csv(tmp_path / "nosrc.csv", f"kode_tps,kelas,tanggal\n{demo['tps'][0]},rawan,"
                     "10/02/2024")
    before = snapshot(engine)
    result = cli("import", "ratings", path)
    assert result.exit_code == 1 and "source" in result.output
    assert snapshot(engine) == before


# ------------------------------------------------------------------ personnel

def test_personnel_file_sets_counts_and_reimport_changes_nothing(cli, engine, demo, tmp_path):
    t0, kel = demo["tps"][0], demo["kelurahan"][1]
    path = write_csv(tmp_path / "personel.csv", f"""
Instansi;Sasaran;Kode Kecamatan;Jumlah;Satuan;Keterangan
Linmas;{t0};;2;;
TNI;{kel};;7;Yonif 742;BKO
Polri;cadangan;52.71.01;13;;cadangan Polsek
Polri;Cadangan;;55;;cadangan kota
""")
    result = cli("import", "personnel", path)
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        counts = conn.execute(text("""
            SELECT
              (SELECT sum(count) FROM personnel_assignment a JOIN tps t ON t.id = a.tps_id
                WHERE t.kode = :t AND a.agency = 'linmas'),
              (SELECT count FROM personnel_assignment WHERE agency = 'tni'
                AND kelurahan_kode = :k AND unit = 'Yonif 742'),
              (SELECT sum(count) FROM personnel_assignment WHERE target = 'reserve'
                AND agency = 'polri' AND kecamatan_kode = '52.71.01'),
              (SELECT sum(count) FROM personnel_assignment WHERE target = 'reserve'
                AND agency = 'polri' AND kecamatan_kode IS NULL)"""),
            {"t": t0, "k": kel}).one()
    assert tuple(counts) == (2, 7, 13, 55)
    after = snapshot(engine)
    again = cli("import", "personnel", path)
    assert again.exit_code == 0, again.output
    assert "0 baru, 0 diperbarui, 4 tidak berubah" in again.output
    assert data_part(snapshot(engine)) == data_part(after)


def test_bad_personnel_file_is_rejected_whole(cli, engine, demo, tmp_path):
    kel = demo["kelurahan"][0]
    path = write_csv(tmp_path / "bad_personel.csv", f"""
instansi,sasaran,jumlah
polri,{kel},-4
linmas,{kel}-999,2
satpam,{kel},2
tni,{kel},dua
polri,{kel},3
""")
    before = snapshot(engine)
    result = cli("import", "personnel", path)
    assert result.exit_code == 1
    out = result.output
    assert "baris 1, kolom \'jumlah'" in out and "jumlah -4 negatif" in out
    assert "baris 2, kolom \'sasaran'" in out and "TPS tidak ada di pemilu aktif" in out
    assert "baris 3, kolom \'instansi'" in out
    assert "baris 4, kolom \'jumlah'" in out
    assert "baris 5" not in out
    assert snapshot(engine) == before


# ------------------------------------------------------------------ incidents

def test_incident_file_goes_in_once(cli, engine, demo, tmp_path):
    lon, lat = _tps_point(engine, demo["tps"][0])
    lon2, lat2 = _tps_point(engine, demo["tps"][4], dx=-0.0002)
    path = write_csv(tmp_path / "kejadian.csv", f"""
Kategori;Tingkat;Waktu Kejadian;Lintang;Bujur;Uraian
intimidasi;sedang;14/02/2024 09:30;{str(lat).replace('.', ',')};{str(lon).replace('.', ',')};intimidasi saksi
Politik uang;ringan;2024-02-14T10:15;{lat2};{lon2};bagi amplop
""", bom=True)
    before = snapshot(engine)
    result = cli("import", "incidents", path)
    assert result.exit_code == 0, result.output
    assert "2 baru" in result.output
    after = snapshot(engine)
    assert after["incidents"] == before["incidents"] + 2 and after["audit"] == before["audit"] + 1
    again = cli("import", "incidents", path)
    assert again.exit_code == 0 and "0 baru, 2 tidak berubah" in again.output
    assert data_part(snapshot(engine)) == data_part(after)


def test_incidents_from_geojson(cli, engine, demo, tmp_path):
    lon, lat = _tps_point(engine, demo["tps"][5])
    doc = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"kategori": "protes_saksi", "tingkat": "berat",
                       "waktu": "2024-02-14T13:40", "uraian": "protes saksi"}}]}
    path = tmp_path / "kejadian.geojson"
    path.write_text(json.dumps(doc))
    result = cli("import", "incidents", path)
    assert result.exit_code == 0, result.output
    assert "1 baru" in result.output


def test_bad_incident_file_is_rejected_whole(cli, engine, demo, tmp_path):
    lon, lat = _tps_point(engine, demo["tps"][0], dx=0.0004)
    path = write_csv(tmp_path / "bad_kejadian.csv", f"""
kategori,tingkat,waktu,lat,lon
pencurian_ayam,sedang,2024-02-14T09:00,{lat},{lon}
intimidasi,parah,2024-02-14T09:00,{lat},{lon}
intimidasi,sedang,kemarin,{lat},{lon}
intimidasi,sedang,2024-02-14T09:00,{lon},{lat}
intimidasi,sedang,2024-02-14T09:05,{lat},{lon}
""")
    before = snapshot(engine)
    result = cli("import", "incidents", path)
    assert result.exit_code == 1
    out = result.output
    assert "baris 1, kolom \'kategori'" in out
    assert "baris 2, kolom \'tingkat'" in out
    assert "baris 3, kolom \'waktu'" in out
    assert "baris 4, kolom \'lat'" in out and "tertukar" in out
    assert "baris 5" not in out
    assert snapshot(engine) == before


# ------------------------------------------------------------------ readiness

ITEMS = ("lokasi_tenda", "kotak_suara", "bilik_suara", "surat_suara", "tinta", "segel",
         "formulir", "kpps_hadir", "linmas_hadir", "ptps_hadir", "penerangan", "posko_kesehatan")


def test_readiness_file_goes_in_and_reimport_changes_nothing(cli, engine, demo, tmp_path):
    t0, t1 = demo["tps"][0], demo["tps"][1]
    header = ";".join(("kode_tps",) + ITEMS + ("catatan",))
    path = write_csv(tmp_path / "kesiapan.csv", f"""
{header}
{t0};{';'.join(['ya'] * 12)};lengkap
{t1};{';'.join(['1'] * 4 + ['0'] * 8)};
""")
    result = cli("import", "readiness", path)
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        states = dict(conn.execute(text("SELECT t.kode, r.state FROM tps_readiness r JOIN tps t "
                                        "ON t.id = r.tps_id WHERE t.kode IN (:a, :b)"),
                                   {"a": t0, "b": t1}).all())
    assert states == {t0: "siap", t1: "belum"}     # kpps_hadir (critical) missing
    after = snapshot(engine)
    again = cli("import", "readiness", path)
    assert again.exit_code == 0 and "0 baru, 2 tidak berubah" in again.output
    assert data_part(snapshot(engine)) == data_part(after)


def test_bad_readiness_file_is_rejected_whole(cli, engine, demo, tmp_path):
    kel = demo["kelurahan"][0]
    header = ",".join(("kode_kelurahan", "tps") + ITEMS)
    path = write_csv(tmp_path / "bad_kesiapan.csv", f"""
{header}
{kel},999,{','.join(['1'] * 12)}
{kel},1,{','.join(['mungkin'] + ['1'] * 11)}
{kel},,{','.join(['1'] * 12)}
""")
    before = snapshot(engine)
    result = cli("import", "readiness", path)
    assert result.exit_code == 1
    out = result.output
    assert "baris 1, kolom \'tps'" in out
    assert "baris 2, kolom \'lokasi_tenda'" in out
    assert "baris 3, kolom \'tps'" in out
    assert snapshot(engine) == before



def test_incidents_from_a_geopackage(cli, engine, demo, tmp_path):
    import geopandas as gpd
    import shapely
    lon, lat = _tps_point(engine, demo["tps"][3], dx=0.0001)
    frame = gpd.GeoDataFrame({"kategori": ["intimidasi"], "tingkat": ["ringan"],
                              "waktu": ["2024-02-14T08:10"], "uraian": ["dari gpkg"]},
                             geometry=[shapely.Point(lon, lat)], crs=4326)
    path = tmp_path / "kejadian.gpkg"
    frame.to_file(path, driver="GPKG")
    result = cli("import", "incidents", path)
    assert result.exit_code == 0, result.output
    assert "1 baru" in result.output


def test_dry_run_checks_and_counts_but_writes_nothing(cli, engine, demo, tmp_path):
    path = write_csv(tmp_path / "dry.csv", f"kode_tps,kelas,tanggal\n{demo['tps'][4]},rawan,"
                     "13/02/2024")
    before = snapshot(engine)
    result = cli("import", "ratings", path, "--source", "polri", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "1 baru" in result.output and "uji coba, tidak ada yang ditulis" in result.output
    assert snapshot(engine) == before
