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
    # the kelurahan of the rows, as single ratings queue them (not a full refresh)
    assert queued[1] == "import.ratings" and set(queued[0]) <= {
        t0.split("-")[0], kel, demo["kelurahan"][3]}

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



def _last_tps(engine, n: int, skip: int = 0) -> list[str]:
    """TPS no other test of this module touches (the demo fixture names the first six)."""
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT kode FROM tps ORDER BY kode DESC LIMIT :n "
                                      "OFFSET :s"), {"n": n, "s": skip}).scalars())


def _readiness_rows(engine, kode, since):
    """(state now, its check time, [(state, check time)] of the checks recorded since
    ``since``, oldest check first) of one TPS."""
    with engine.connect() as conn:
        state = conn.execute(text("SELECT r.state, coalesce(r.checked_at, r.updated_at) "
                                  "FROM tps_readiness r JOIN tps t ON t.id = r.tps_id "
                                  "WHERE t.kode = :k"), {"k": kode}).one()
        history = conn.execute(text("SELECT h.state, h.checked_at FROM tps_readiness_history h "
                                    "JOIN tps t ON t.id = h.tps_id WHERE t.kode = :k "
                                    "AND h.recorded_at >= :s ORDER BY h.checked_at"),
                               {"k": kode, "s": since}).all()
    return state[0], state[1], [tuple(h) for h in history]


def test_readiness_file_check_times_order_the_state_not_the_rows(cli, engine, demo, tmp_path):
    import datetime as dt
    t5, t6 = _last_tps(engine, 2)
    since = dt.datetime.now(dt.timezone.utc)
    demo_time = max(_readiness_rows(engine, k, since)[1] for k in (t5, t6))
    wita = dt.timezone(dt.timedelta(hours=8))
    early = (demo_time + dt.timedelta(hours=1)).astimezone(wita).replace(second=0, microsecond=0)
    late, latest = early + dt.timedelta(minutes=90), early + dt.timedelta(hours=2)
    header = ";".join(("kode_tps", "waktu_cek") + ITEMS)
    # an offline log, newest first: TPS 5 complete at `late`, not yet at `early`
    path = write_csv(tmp_path / "log_kesiapan.csv", f"""
{header}
{t5};{late:%d/%m/%Y %H:%M};{';'.join(['ya'] * 12)}
{t5};{early:%d/%m/%Y %H:%M};{';'.join(['ya'] * 4 + ['tidak'] * 8)}
{t6};{latest.isoformat()};{';'.join(['ya'] * 12)}
""")
    result = cli("import", "readiness", path)
    assert result.exit_code == 0, result.output
    state, at, history = _readiness_rows(engine, t5, since)
    assert (state, at) == ("siap", late)            # the later check, though it came first
    assert history == [("belum", early), ("siap", late)]
    # a later file with an older check of TPS 6 adds to its history, not to its state
    older = write_csv(tmp_path / "terlambat.csv", f"""
kode_tps,checked_at,{','.join(ITEMS)}
{t6},{early:%Y-%m-%d %H:%M},{','.join(['0'] * 12)}
""")
    result = cli("import", "readiness", older)
    assert result.exit_code == 0, result.output
    state, at, history = _readiness_rows(engine, t6, since)
    assert (state, at) == ("siap", latest)
    assert history == [("belum", early), ("siap", latest)]


def test_readiness_file_without_check_times_is_checked_at_import_time(cli, engine, demo,
                                                                      tmp_path):
    import datetime as dt
    t7, = _last_tps(engine, 1, skip=2)
    path = write_csv(tmp_path / "tanpa_waktu.csv", f"""
kode_tps,{','.join(ITEMS)}
{t7},{','.join(['1'] * 12)}
""")
    started = dt.datetime.now(dt.timezone.utc)
    assert cli("import", "readiness", path).exit_code == 0
    state, at, history = _readiness_rows(engine, t7, started)
    assert state == "siap" and len(history) == 1 and history[0][1] == at
    assert started <= at <= dt.datetime.now(dt.timezone.utc)


def test_readiness_file_with_a_check_time_ahead_of_the_clock_is_rejected_whole(
        cli, engine, demo, tmp_path):
    import datetime as dt
    t8, t9 = _last_tps(engine, 2, skip=3)
    ahead = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=30)).isoformat()
    path = write_csv(tmp_path / "jam_salah.csv", f"""
kode_tps;diperiksa_pada;{';'.join(ITEMS)}
{t8};2024-02-14T07:30;{';'.join(['ya'] * 12)}
{t9};{ahead};{';'.join(['ya'] * 12)}
{t8};kemarin pagi;{';'.join(['ya'] * 12)}
{t8};2024-02-14T07:30;{';'.join(['ya'] * 12)}
""")
    before = snapshot(engine)
    result = cli("import", "readiness", path)
    assert result.exit_code == 1
    out = result.output
    assert "baris 2, kolom 'diperiksa_pada'" in out and "masa depan" in out
    assert "baris 3, kolom 'diperiksa_pada'" in out and "tidak terbaca" in out
    assert "baris 4, kolom 'kode_tps'" in out and "waktu pemeriksaan yang sama" in out
    assert "baris 1," not in out
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
