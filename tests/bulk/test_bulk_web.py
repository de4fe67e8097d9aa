"""Uploads on /unggah (Flask test client, real PostGIS): roles, whole-file rejection with a
downloadable report, idempotent re-upload, the size limit; and the /audit page."""
from __future__ import annotations

import io
import re
import zipfile

import pytest

from sqlalchemy import text

from bulk.conftest import data_part, form_token, snapshot


def _upload(client, token, kind, name, body: bytes, **fields):
    data = {"csrf_token": token, "kind": kind, "file": (io.BytesIO(body), name), **fields}
    return client.post("/unggah", data=data, content_type="multipart/form-data")


def test_supervisor_uploads_ratings_then_the_same_file_changes_nothing(as_role, engine, demo):
    client, _ = as_role("supervisor")
    token = form_token(client)
    body = (f"kode_tps;kelas;tanggal\n{demo['tps'][0]};tinggi;2024-02-11\n"
            f"{demo['tps'][1]};sedang;2024-02-11\n").encode()
    resp = _upload(client, token, "ratings", "kpu rating.csv", body, source="kpu")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200, page[:500]
    assert "2 baru" in page
    after = snapshot(engine)
    resp = _upload(client, token, "ratings", "kpu rating.csv", body, source="kpu")
    assert resp.status_code == 200 and "2 tidak berubah" in resp.get_data(as_text=True)
    assert data_part(snapshot(engine)) == data_part(after)
    with engine.connect() as conn:
        name = conn.execute(text("SELECT filename FROM import_batch ORDER BY id DESC LIMIT 1")
                            ).scalar()
    assert name == "kpu_rating.csv"                 # a safe name, never the client's path


def test_bad_upload_is_422_naming_every_row_with_a_csv_report(as_role, engine, demo):
    client, _ = as_role("supervisor")
    token = form_token(client)
    kel = demo["kelurahan"][0]
    body = (f"instansi;sasaran;jumlah\npolri;{kel};-3\nlinmas;{kel}-999;2\npolri;{kel};4\n"
            ).encode()
    before = snapshot(engine)
    resp = _upload(client, token, "personnel", "personel.csv", body)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "jumlah -3 negatif" in page and "TPS tidak ada di pemilu aktif" in page
    assert "Tidak ada data yang disimpan" in page
    assert snapshot(engine) == before
    link = page.split('href="/unggah/laporan/')[1].split('"')[0]
    report = client.get(f"/unggah/laporan/{link}")
    assert report.status_code == 200 and report.mimetype == "text/csv"
    text_ = report.get_data().decode("utf-8-sig")
    assert text_.splitlines()[0] == "baris,kolom,tingkat,masalah,nilai"
    assert "1,jumlah,salah" in text_ and "2,sasaran,salah" in text_
    assert "None" not in text_
    other, _ = as_role("admin")                        # a report is its uploader's only
    assert other.get(f"/unggah/laporan/{link}").status_code == 404


def test_json_clients_get_the_problems_as_json(as_role, engine, demo):
    client, _ = as_role("supervisor")
    token = form_token(client)
    body = f"kode_tps,kelas,tanggal\n{demo['tps'][0]},agak rawan,2024-02-11\n".encode()
    resp = client.post("/unggah", data={"csrf_token": token, "kind": "ratings",
                                        "source": "polri",
                                        "file": (io.BytesIO(body), "r.csv")},
                       headers={"Accept": "application/json"})
    assert resp.status_code == 422
    problems = resp.get_json()["problems"]
    assert [(p["row"], p["field"]) for p in problems] == [(1, "kelas")]


def test_desk_staff_uploads_readiness_from_a_zip_but_not_ratings(as_role, engine, demo):
    client, _ = as_role("desk_staff")
    token = form_token(client)
    items = ("lokasi_tenda,kotak_suara,bilik_suara,surat_suara,tinta,segel,formulir,kpps_hadir,"
             "linmas_hadir,ptps_hadir,penerangan,posko_kesehatan")
    with engine.connect() as conn:     # a TPS where the demo desk officer may record
        kode = conn.execute(text("SELECT t.kode FROM tps t JOIN users u ON u.kelurahan_kode = "
                                 "t.kelurahan_kode WHERE u.username = 'petugas' ORDER BY t.kode "
                                 "LIMIT 1")).scalar_one()
    table = f"kode_tps,{items}\n{kode},{','.join(['1'] * 12)}\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("kesiapan.csv", table)
    resp = _upload(client, token, "readiness", "kesiapan.zip", buffer.getvalue())
    assert resp.status_code == 200, resp.get_data(as_text=True)[:400]
    before = snapshot(engine)
    resp = _upload(client, token, "ratings", "r.csv", b"kode_tps,kelas,tanggal\n", source="kpu")
    assert resp.status_code == 403
    resp = _upload(client, token, "personnel", "p.csv", b"instansi,sasaran,jumlah\n")
    assert resp.status_code == 403
    assert snapshot(engine) == before


def test_readiness_upload_with_a_check_time_ahead_of_the_clock_is_refused_by_row(
        as_role, engine, demo):
    import datetime as dt
    client, _ = as_role("supervisor")
    token = form_token(client)
    items = ("lokasi_tenda,kotak_suara,bilik_suara,surat_suara,tinta,segel,formulir,kpps_hadir,"
             "linmas_hadir,ptps_hadir,penerangan,posko_kesehatan")
    ahead = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2)).isoformat()
    body = (f"kode_tps,waktu_cek,{items}\n{demo['tps'][2]},2024-02-14 07:00,{'1,' * 11}1\n"
            f"{demo['tps'][3]},{ahead},{'1,' * 11}1\n").encode()
    before = snapshot(engine)
    resp = client.post("/unggah", data={"csrf_token": token, "kind": "readiness",
                                        "file": (io.BytesIO(body), "kesiapan.csv")},
                       headers={"Accept": "application/json"})
    assert resp.status_code == 422
    problems = resp.get_json()["problems"]
    assert [(p["row"], p["field"]) for p in problems] == [(2, "waktu_cek")]
    assert "masa depan" in problems[0]["reason"]
    assert snapshot(engine) == before

def test_unsafe_zip_is_refused_before_extraction(as_role, engine):
    client, _ = as_role("supervisor")
    token = form_token(client)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../etc/evil.csv", "a,b\n1,2\n")
    before = snapshot(engine)
    resp = _upload(client, token, "personnel", "p.zip", buffer.getvalue())
    assert resp.status_code == 422 and "jalur tidak aman" in resp.get_data(as_text=True)
    assert snapshot(engine) == before


def test_viewer_cannot_upload_anything(as_role, engine, demo):
    client, _ = as_role("viewer")
    assert client.get("/unggah").status_code == 403
    token = form_token(client, "/saran")
    resp = _upload(client, token, "incidents", "k.csv", b"kategori,tingkat,waktu,lat,lon\n")
    assert resp.status_code == 403


def test_too_large_upload_gets_a_clear_413(app, as_role, engine):
    client, _ = as_role("supervisor")
    token = form_token(client)
    before = snapshot(engine)
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 2048
    try:
        resp = _upload(client, token, "incidents", "big.csv", b"x" * 10_000)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert resp.status_code == 413
    page = resp.get_data(as_text=True)
    assert "Berkas terlalu besar" in page and "batas unggah" in page
    assert snapshot(engine) == before


def test_upload_without_csrf_token_is_refused(as_role, engine, demo):
    client, _ = as_role("supervisor")
    resp = client.post("/unggah", data={"kind": "ratings", "file": (io.BytesIO(b"a"), "a.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 400


def test_audit_page_lists_entries_filters_and_shows_the_chain(as_role, engine, demo):
    from gisdesk.audit_sequencer import drain
    drain(engine)       # what the worker's sequencer does within a second in production
    client, _ = as_role("supervisor")
    page = client.get("/audit?action=import").get_data(as_text=True)
    assert "Rantai hash utuh" in page
    assert ">Impor penilaian kerawanan</td>" in page and ">Masuk</td>" not in page
    assert re.search(r"\d{2}-\d{2}-\d{4} \d{2}:\d{2} WITA", page)
    everything = client.get("/audit").get_data(as_text=True)
    assert ">Masuk</td>" in everything
    assert client.get("/audit?page=2").status_code == 200
    desk, _ = as_role("desk_staff")
    assert desk.get("/audit").status_code == 403


def test_audit_page_says_when_the_chain_is_broken(as_role, engine, demo, monkeypatch):
    from gisdesk import audit
    monkeypatch.setattr(audit, "verify_chain", lambda conn: [{"id": 7, "reason": "entry edited"}])
    client, _ = as_role("admin")
    page = client.get("/audit").get_data(as_text=True)
    assert "Rantai hash RUSAK" in page and "Entri 7" in page


@pytest.mark.parametrize("kind", ["ratings", "personnel", "incidents", "readiness"])
def test_each_kind_has_a_template_file_its_importer_accepts(as_role, engine, demo, kind):
    client, _ = as_role("supervisor")
    page = client.get("/unggah").get_data(as_text=True)
    assert f'href="/unggah/contoh/{kind}.csv"' in page
    template = client.get(f"/unggah/contoh/{kind}.csv")
    assert template.status_code == 200 and template.mimetype == "text/csv"
    body = template.get_data()
    header = body.decode("utf-8-sig").splitlines()[0]
    assert "kode_tps" in header or "kategori" in header
    before = snapshot(engine)
    resp = client.post("/unggah", data={"csrf_token": form_token(client), "kind": kind,
                                        "dry_run": "1", "file": (io.BytesIO(body), f"{kind}.csv")})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200, page[page.find("notice"):][:600]
    assert "2 baru" in page and "uji coba, tidak disimpan" in page
    assert snapshot(engine) == before
