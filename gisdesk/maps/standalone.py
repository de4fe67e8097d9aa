"""A self-contained briefing map (``gisdesk map -o FILE.html``): one HTML file with the data,
Leaflet, the plugins, map.js and the styles all inline, so it opens anywhere, offline, and
never asks a CDN. It shows what ``role`` may see, as the data stood when it was written.
"""
from __future__ import annotations

import base64
import json
import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Connection, text

from gisdesk import layers as registry
from gisdesk.config import load_settings
from gisdesk.errors import NotFound
from gisdesk.indonesian import JINJA_FILTERS
from gisdesk.layers.sources import features
from gisdesk.maps import data, vendor
from gisdesk.maps.builder import map_parts
from gisdesk.maps.labels import VOCABULARIES

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"
TEMPLATES = vendor.ROOT / "templates"


def _inline_css(lib: vendor.VendorLib, name: str) -> str:
    """The stylesheet with its images as data: URIs (the layer-control icon needs them)."""
    css = (lib.directory / name).read_text(encoding="utf-8")

    def data_uri(match: re.Match) -> str:
        path = lib.directory / match.group(1)
        if not path.is_file():
            return match.group(0)
        return "url(data:image/png;base64," + base64.b64encode(path.read_bytes()).decode() + ")"
    return re.sub(r"url\((images/[\w.-]+\.png)\)", data_uri, css)


def _script_safe(source: str) -> str:
    # a "</script" inside inline code would end the element early
    return re.sub(r"</(script)", r"<\\/\1", source, flags=re.IGNORECASE)


def build_standalone_map(conn: Connection, election_id: int, role: str = "viewer",
                         layers_dir: Path | str | None = None) -> str:
    election = data.election(conn, election_id)
    if election is None:
        raise NotFound(f"Pemilihan {election_id} tidak ada.", field="election_id")
    all_layers = registry.load(layers_dir or load_settings().layers_dir)
    visible = registry.visible_layers(role, all_layers)

    def inline(layer) -> dict:
        rows = features(conn, layer, election_id=election_id)
        return {"data": {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": geometry, "properties": props}
            for props, geometry in rows]}}

    parts = map_parts(conn, visible, election=election, layer_source=inline,
                      extra_config={"gaps": data.gap_rows(conn, election_id),
                                    "search_url": None, "gaps_url": None})
    css = [_inline_css(vendor.LIBS[lib], name) for lib, name in parts.css]
    css.append((STATIC / "gisdesk.css").read_text(encoding="utf-8"))
    css.append((STATIC / "map.css").read_text(encoding="utf-8"))
    scripts = [(vendor.LIBS[lib].directory / name).read_text(encoding="utf-8")
               for lib, name in parts.js]
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(["html"]))
    env.filters.update(JINJA_FILTERS)
    return env.get_template("map_standalone.html").render(
        parts=parts, election=election, summary=data.summary(conn, election_id),
        as_of=data.wita(election["as_of"]), kelas_labels=VOCABULARIES["kelas"],
        kecamatan=conn.execute(text("SELECT kode, nama FROM kecamatan ORDER BY kode")).all(),
        styles=css, scripts=[_script_safe(s) for s in scripts],
        # in JSON "<" may always be written as \u003c: no text in the data can close the element
        config=json.dumps(parts.config, ensure_ascii=False).replace("<", "\\u003c"),
        folium_script=_script_safe(parts.script),
        # the address bar and the server-drawn strip need the app: map_state.js stays out
        map_js="\n".join(_script_safe((STATIC / name).read_text(encoding="utf-8"))
                          for name in ("map.js", "map_time.js")))
