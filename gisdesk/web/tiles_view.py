"""Vector tiles for the map: ``/tiles/<layer>/<z>/<x>/<y>.pbf`` (Mapbox Vector Tile).

The tile itself comes from gisdesk.layers.tiles (PostGIS ``ST_AsMVT``; aggregates at low zoom).
Here: who may see which layer (a layer the role may not see answers 404, exactly like an
unknown one), 400 for a tile outside the zoom's grid, and caching:

- ``Cache-Control: private, max-age=60`` and an ETag built from the role, the role's visible
  layer set and the data version (analysis run, incidents, readiness, audit log). A browser
  revalidates with If-None-Match and gets 304 without the tile being built; no shared cache
  may keep a tile, and a supervisor's tag never matches a viewer's. Quick-count tiles (a
  layer needing a secret permission) are ``no-store`` and never kept in the cache below.
- a small in-process cache of recent tile bytes keyed by the data version, so the expensive
  low-zoom aggregates are built once per data change (a tile's content depends only on the
  layer and the data; the permission check happens before the cache is asked).

Also here: gzip for the map's text-like responses (HTML, GeoJSON layers, tiles, JSON, the
app's own JS/CSS) when the browser accepts it, as one small ``after_app_request``.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import threading
import zlib
from collections import OrderedDict

from flask import Blueprint, Response, current_app, request
from flask_login import current_user

from gisdesk import layers as registry
from gisdesk.layers import tiles
from gisdesk.errors import NotFound
from gisdesk.maps import data
from gisdesk.web.auth import SECRET_PERMISSIONS, requires
from gisdesk.web.dbs import read_engine

bp = Blueprint("tiles", __name__)
MAX_AGE = 60
CACHE_ENTRIES = 512
CACHE_BYTES = 64 * 1024 * 1024


class _TileCache:
    """Least recently used tile bytes, bounded by count and total size; thread-safe."""

    def __init__(self, entries: int = CACHE_ENTRIES, max_bytes: int = CACHE_BYTES):
        self.entries, self.max_bytes = entries, max_bytes
        self._data: OrderedDict = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key, value: bytes) -> None:
        with self._lock:
            if key in self._data:
                return
            self._data[key] = value
            self._size += len(value)
            while self._data and (len(self._data) > self.entries or self._size > self.max_bytes):
                _, old = self._data.popitem(last=False)
                self._size -= len(old)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._size = 0


CACHE = _TileCache()


def _engine():
    return read_engine()  # read-only views: the replica when configured (gisdesk.web.dbs)


def _etag(role: str, visible: dict, version: str, layer_id: str, z: int, x: int, y: int) -> str:
    parts = [role or "", ",".join(sorted(visible)), version, layer_id, f"{z}/{x}/{y}"]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


@bp.route("/tiles/<layer>/<int(signed=True):z>/<int(signed=True):x>/<int(signed=True):y>.pbf")
@requires("view")
def tile(layer: str, z: int, x: int, y: int):
    visible = registry.visible_layers(current_user.role, current_app.extensions["gisdesk.layers"])
    found = visible.get(layer)
    if found is None:
        raise NotFound(f"Lapisan '{layer}' tidak ada.", field="layer")
    tiles.check_tile(z, x, y)  # 400 for a tile outside the grid of its zoom
    # a secret layer (the quick count) is never cached, in the browser or here
    secret = found.permission in SECRET_PERMISSIONS
    engine = _engine()
    with engine.connect() as conn:
        election = data.active_election(conn)
        election_id = election["id"] if election else None
        version = tiles.data_version(conn, election_id)
        etag = _etag(current_user.role, visible, version, found.id, z, x, y)
        if etag in request.if_none_match and not secret:
            response = Response(status=304)
        else:
            key = (str(engine.url), version, *tiles.tile_key(found, z, x, y))
            body = None if secret else CACHE.get(key)
            if body is None:
                body = tiles.tile(conn, found, z, x, y, election_id, current_user.role)
                if not secret:
                    CACHE.put(key, body)
            response = Response(body, mimetype=tiles.MIME)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-store" if secret else f"private, max-age={MAX_AGE}"
    response.headers["Vary"] = "Cookie, Authorization, Accept-Encoding"
    return response


# --- gzip ---------------------------------------------------------------------------------

COMPRESSIBLE = {"text/html", "text/css", "text/javascript", "application/javascript",
                "application/json", "application/geo+json", tiles.MIME}
MIN_BYTES = 1024
_STATIC_GZ: dict = {}   # (endpoint, path, etag) -> gzipped bytes of a static file
_STATIC_LOCK = threading.Lock()


def _accepts_gzip() -> bool:
    return "gzip" in (request.headers.get("Accept-Encoding") or "").lower()


def _gzip_stream(chunks):
    """Gzip a streamed body chunk by chunk; closes the source (and its connection) at the end
    or when the client goes away."""
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    try:
        for chunk in chunks:
            if isinstance(chunk, str):
                chunk = chunk.encode()
            out = packer.compress(chunk)
            if out:
                yield out
        yield packer.flush()
    finally:
        close = getattr(chunks, "close", None)
        if close:
            close()


def _vary(response) -> None:
    vary = response.headers.get("Vary")
    if not vary:
        response.headers["Vary"] = "Accept-Encoding"
    elif "accept-encoding" not in vary.lower():
        response.headers["Vary"] = vary + ", Accept-Encoding"


def _close(source, response) -> None:
    """Close the file a static response was read from, once its bytes are in memory."""
    close = getattr(source, "close", None)
    if close is not None and source is not response.response:
        close()


def compress(response):
    if (response.status_code != 200 or "Content-Encoding" in response.headers
            or response.mimetype not in COMPRESSIBLE or not _accepts_gzip()
            or "Content-Range" in response.headers):
        return response
    if response.is_streamed and not response.direct_passthrough:
        response.response = _gzip_stream(response.response)
        response.headers.pop("Content-Length", None)
    else:
        source = response.response  # a file (static, vendor): closed once replaced
        static = request.endpoint in ("static", "assets.vendor")
        key = (request.endpoint, request.path, response.get_etag()[0]) if static else None
        body = _STATIC_GZ.get(key) if key else None
        if body is None:
            response.direct_passthrough = False
            raw = response.get_data()
            if len(raw) < MIN_BYTES:
                _close(source, response)
                return response
            buf = io.BytesIO()
            with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=6, mtime=0) as gz:
                gz.write(raw)
            body = buf.getvalue()
            if key and key[2]:
                with _STATIC_LOCK:
                    if len(_STATIC_GZ) > 256:
                        _STATIC_GZ.clear()
                    _STATIC_GZ[key] = body
        response.set_data(body)
        _close(source, response)
    response.headers["Content-Encoding"] = "gzip"
    _vary(response)
    return response


def init_app(app) -> None:
    app.register_blueprint(bp)
    if app.config.get("GISDESK_GZIP", True):
        app.after_request_funcs.setdefault(None, []).insert(0, compress)
