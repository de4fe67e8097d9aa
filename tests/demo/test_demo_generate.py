"""The demo generator on its own (no database): deterministic, plausible, inside the city."""
from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gisdesk.demo import taxonomy as tx
from gisdesk.demo.generate import generate, incident_content_hash, tps_digest
from gisdesk.entry.taxonomy import load_taxonomy


@pytest.fixture(scope="module")
def demo(kelurahan_frame):
    return generate(kelurahan_frame, seed=2024)


def _digest(data) -> str:
    t = data.tps
    return tps_digest(zip(t.kode, t.lon, t.lat, t.dpt))


def test_same_seed_gives_the_same_tps_and_incidents(kelurahan_frame, demo):
    again = generate(kelurahan_frame, seed=2024)
    assert _digest(again) == _digest(demo)
    assert list(again.incidents.id) == list(demo.incidents.id)
    assert list(again.incidents.content_hash) == list(demo.incidents.content_hash)
    assert again.ratings.equals(demo.ratings)


def test_another_seed_gives_another_demo(kelurahan_frame, demo):
    other = generate(kelurahan_frame, seed=7)
    assert _digest(other) != _digest(demo)
    assert set(other.incidents.id).isdisjoint(demo.incidents.id)


def test_tps_count_and_dpt_match_the_city(demo):
    t = demo.tps
    assert len(t) == tx.N_TPS == 1248
    assert abs(t.dpt.sum() - 315_549) <= 0.005 * 315_549
    assert t.dpt.max() <= 300 and t.dpt.min() > 0
    assert ((t.dpt >= 230) & (t.dpt <= 300)).mean() > 0.75
    assert t.kode.is_unique
    for kode, group in t.groupby("kelurahan_kode"):
        assert sorted(group.nomor) == list(range(1, len(group) + 1)), kode


def test_denser_centre_gets_more_tps_per_km2(kelurahan_frame, demo):
    area = kelurahan_frame.to_crs(32750).set_index("kode").area / 1e6
    per_km2 = demo.tps.groupby("kelurahan_kode").size() / area
    by_kec = per_km2.groupby(per_km2.index.str[:8]).median()
    assert by_kec["52.71.03"] > by_kec["52.71.06"]      # Cakranegara denser than Sandubaya


def test_tps_points_fall_in_their_own_kelurahan_only(kelurahan_frame, demo):
    polys = kelurahan_frame.set_index("kode").geometry
    t = demo.tps
    for kode, poly in polys.items():
        inside = shapely.contains_xy(poly, t.lon.to_numpy(), t.lat.to_numpy())
        assert (inside == (t.kelurahan_kode == kode).to_numpy()).all(), kode


def test_alamat_names_a_street_and_a_lingkungan(demo):
    regular = demo.tps[~demo.tps.lokasi_khusus]
    assert regular.alamat.str.match(r"^Jl\. .+ / Lingkungan .+$").all()


def test_incidents_are_hashed_from_their_content(demo):
    for record in demo.incidents.to_dict("records"):
        assert record["content_hash"] == incident_content_hash(record)
    assert demo.incidents.id.is_unique


def test_demo_incident_categories_are_entry_categories():
    assert set(tx.INCIDENT_CATEGORIES) <= set(load_taxonomy().categories)
    assert set(tx.ESCALATING_CATEGORIES) <= set(tx.INCIDENT_CATEGORIES)


def test_facilities_lie_inside_the_city(kelurahan_frame, demo):
    city = kelurahan_frame.union_all()
    f = demo.facilities
    assert shapely.contains_xy(city, f.lon.to_numpy(), f.lat.to_numpy()).all()


def test_hot_kelurahan_are_a_handful(demo):
    assert 5 <= len(set(demo.hot)) <= 8
    assert demo.lagging[0] in demo.hot


def test_as_of_needs_a_time_zone(kelurahan_frame):
    with pytest.raises(ValueError, match="time zone"):
        generate(kelurahan_frame, as_of=dt.datetime(2024, 2, 14, 10))


def test_projected_input_is_accepted(kelurahan_frame, demo):
    utm = gpd.GeoDataFrame(kelurahan_frame, geometry="geometry").to_crs(32750)
    t = generate(utm, seed=2024).tps
    assert len(t) == 1248
    assert np.allclose(t.lon, demo.tps.lon, atol=1e-6)
