"""The coordinator map: Folium page parts, the standalone briefing map, and the map's queries.

No Flask here: the web edge (gisdesk.web.mapview) and the CLI both call into this package.
"""
from __future__ import annotations


def build_standalone_map(conn, election_id: int, role: str = "viewer", **kwargs) -> str:
    # imported on use: gisdesk.layers imports gisdesk.maps.labels, and the builder imports layers
    from gisdesk.maps.standalone import build_standalone_map as build
    return build(conn, election_id, role=role, **kwargs)
