"""Stock QGIS (Debian's python3-qgis 3.22, offscreen, no plugins, no request hooks) reads
every collection a role may see through the README's recipe: Layer > Add WFS / OGC API -
Features with an authentication configuration of type Basic (user name + personal token).
QGIS imports only under the system python3, so it runs in a subprocess."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text

from conftest import DEMO_USERS

READER = Path(__file__).with_name("qgis_reader.py")


def read_with_qgis(url: str, user: str, token: str, layers: list[str]) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": os.environ.get("HOME", "/tmp")}
    proc = subprocess.run(["/usr/bin/python3", str(READER), url, user, token, ",".join(layers)],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("role", ["viewer", "supervisor"])
def test_stock_qgis_reads_every_collection_the_role_may_see(live, demo, app, engine, role):
    token = demo["tokens"][role]
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    visible = [c["id"] for c in api.get("/api/collections", headers=headers).json[
        "collections"]]
    assert ("quickcount" in visible) == (role == "supervisor")
    read = read_with_qgis(f"{live.url}/api", DEMO_USERS[role], token, visible)
    for layer in visible:
        got = read[layer]
        assert got["valid"], (layer, got)
        matched = api.get(f"/api/collections/{layer}/items?limit=1", headers=headers).json[
            "numberMatched"]
        assert got["count"] == matched, layer
    with engine.connect() as conn:
        assert read["tps"]["count"] == conn.execute(text("SELECT count(*) FROM tps")).scalar()
    # one type per attribute: booleans, times and lists keep their types in QGIS
    tps, incidents = read["tps"]["fields"], read["incidents"]["fields"]
    assert tps["escalated"] == "Boolean" and tps["dpt"] == "Integer"
    assert tps["reasons"] == "StringList" and incidents["occurred_at"] == "DateTime"
    assert read["tps"]["crs"] == "EPSG:4326"


OWSLIB = """
import json, sys
from owslib.ogcapi.features import Features
from owslib.util import Authentication
api = Features(sys.argv[1], auth=Authentication(sys.argv[2], sys.argv[3]))
page = api.collection_items("tps", limit=1000, filter="kelas = 'rawan'",
                            crs="http://www.opengis.net/def/crs/EPSG/0/32750")
print(json.dumps({"matched": page["numberMatched"], "first": page["features"][0]["geometry"],
                  "collections": [c["id"] for c in api.collections()["collections"]]}))
"""


def test_the_readme_owslib_lines_read_filtered_tps_in_utm(live, demo, engine):
    proc = subprocess.run(["/usr/bin/python3", "-c", OWSLIB, f"{live.url}/api",
                           DEMO_USERS["planner"], demo["tokens"]["planner"]],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout)
    with engine.connect() as conn:
        rawan = conn.execute(text("SELECT count(*) FROM tps_risk WHERE kelas = 'rawan'")).scalar()
    assert got["matched"] == rawan > 0 and "tps" in got["collections"]
    x, y = got["first"]["coordinates"]
    assert 300_000 < x < 500_000 and 9_000_000 < y < 9_100_000  # UTM 50S metres
