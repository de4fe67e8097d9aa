"""Layer sources on real PostGIS: bbox, filter whitelist, paging, literal filter values."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from gisdesk import layers
from gisdesk.layers import sources as layer_sources
from gisdesk.errors import InputRejected
from map.seed import AS_OF, kelas_of

LAYERS = layers.load(Path(__file__).resolve().parents[2] / "layers")


@pytest.fixture
def db(engine, seeded):
    with engine.connect() as conn:
        yield conn, seeded["election_id"]


def rows(conn, layer_id, election_id, **kw):
    return list(layer_sources.features(conn, LAYERS[layer_id], election_id=election_id, **kw))


def test_kecamatan_features_carry_the_stored_personnel_sums(db):
    conn, eid = db
    got = {p["kecamatan_kode"]: p for p, _ in rows(conn, "kecamatan", eid)}
    ampenan, mataram = got["52.71.01"], got["52.71.02"]
    # shortfall sums the short kelurahan only; surplus the ones with more than needed
    assert (ampenan["polri_required"], ampenan["polri_assigned"]) == (16, 9)
    assert (ampenan["polri_short"], ampenan["polri_surplus"]) == (7, 0)
    assert (mataram["polri_short"], mataram["polri_surplus"]) == (0, 2)
    assert (mataram["linmas_short"], mataram["linmas_surplus"]) == (0, 2)
    assert ampenan["n_tps"] == 20 and ampenan["tni_assigned"] == 0


def test_tps_features_carry_the_declared_properties_and_geometry(db):
    conn, eid = db
    got = rows(conn, "tps", eid)
    assert len(got) == 30
    props, geometry = got[0]
    assert list(props) == [p.name for p in LAYERS["tps"].properties]
    assert geometry["type"] == "Point" and len(geometry["coordinates"]) == 2
    assert props["tps_label"].startswith("TPS ")
    assert isinstance(props["reasons"], list)


def test_bbox_keeps_only_features_inside(db):
    conn, eid = db
    inside = rows(conn, "tps", eid, bbox="116.07,-8.59,116.09,-8.57")
    assert inside and {p["kelurahan_kode"] for p, _ in inside} == {"52.71.01.1004"}
    assert rows(conn, "tps", eid, bbox=[0, 0, 1, 1]) == []
    with pytest.raises(InputRejected) as caught:
        rows(conn, "tps", eid, bbox="116.1,-8.5,116.0")
    assert caught.value.field == "bbox"


def test_filters_are_limited_to_declared_properties(db):
    conn, eid = db
    rawan = rows(conn, "tps", eid, filters={"kelas": ["rawan", "sangat_rawan"]})
    assert len(rawan) == sum(1 for i in range(30) if kelas_of(i) in ("rawan", "sangat_rawan"))
    assert rows(conn, "tps", eid, filters={"nomor": "3", "kecamatan_kode": "52.71.02"})
    for bad in ("geom", "password_hash", "kelas; DROP TABLE tps"):
        with pytest.raises(InputRejected) as caught:
            rows(conn, "tps", eid, filters={bad: "x"})
        assert caught.value.field == bad
    with pytest.raises(InputRejected) as caught:
        rows(conn, "tps", eid, filters={"nomor": "tiga"})
    assert caught.value.field == "nomor"


def test_a_filter_value_that_looks_like_sql_is_taken_literally(db):
    conn, eid = db
    for value in ("x' OR '1'='1", "52.71.01.1004-001'; DELETE FROM tps; --", "%"):
        assert rows(conn, "tps", eid, filters={"tps_kode": value}) == []
    assert layer_sources.count(conn, LAYERS["tps"], election_id=eid) == 30


def test_array_filter_matches_contained_value(db):
    conn, eid = db
    got = rows(conn, "tps", eid, filters={"reasons": "Bawaslu: rawan (indikator politik uang)"})
    assert len(got) == 3 and all(p["disagree"] for p, _ in got)


def test_paging_is_stable_and_complete(db):
    conn, eid = db
    pages = [rows(conn, "tps", eid, limit=7, offset=o) for o in range(0, 30, 7)]
    codes = [p["tps_kode"] for page in pages for p, _ in page]
    assert len(codes) == 30 and codes == sorted(codes) and len(set(codes)) == 30
    with pytest.raises(InputRejected):
        rows(conn, "tps", eid, limit=-1)


def test_fixed_where_of_a_layer_applies(db):
    conn, eid = db
    got = rows(conn, "disagreement", eid)
    assert len(got) == 3 and all(p["disagree"] for p, _ in got)


def test_time_window_uses_the_layer_time_field(db):
    conn, eid = db
    recent = rows(conn, "incidents", eid, since=AS_OF - dt.timedelta(hours=24), until=AS_OF)
    assert [p["tingkat"] for p, _ in recent] == ["berat"]  # the rejected one is never shown
    assert len(rows(conn, "incidents", eid)) == 2
    with pytest.raises(InputRejected) as caught:
        rows(conn, "tps", eid, since="2024-02-13T00:00:00Z")
    assert caught.value.field == "since"
    with pytest.raises(InputRejected):
        rows(conn, "incidents", eid, since="kemarin")


def test_geojson_stream_is_one_valid_feature_collection(db):
    conn, eid = db
    chunks = list(layer_sources.geojson_feature_collection(
        conn, LAYERS["kelurahan"], election_id=eid))
    assert len(chunks) == 3 + 2  # head, 3 features, tail: one feature per chunk
    fc = json.loads("".join(chunks))
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 3
    first = fc["features"][0]
    assert first["id"] == "52.71.01.1004" and first["geometry"]["type"] == "MultiPolygon"
    assert first["properties"]["polri_gap"] == 6


def test_bad_arguments_fail_before_any_chunk(db):
    conn, eid = db
    with pytest.raises(InputRejected):
        layer_sources.geojson_feature_collection(conn, LAYERS["tps"], election_id=eid,
                                                 filters={"nope": 1})
