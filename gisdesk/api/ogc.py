"""OGC API Features Part 1 (Core, GeoJSON, HTML, OAS 3.0) over the layer registry, and the
file downloads /export/<layer>.<fmt>.

Views parse the request, call gisdesk.layers.sources / gisdesk.layers.exports, respond. A layer the
user's role may not see is absent from /api/collections and 404 everywhere else.

Readers never compute the analysis: they read the last committed results. Item pages carry
their version and as_of (``analysis`` in the JSON, "keadaan per" in HTML) and an ETag made
of the results' version and everything else they show (304 when unchanged).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import (Response, current_app, jsonify, render_template, request, send_file,
                   url_for)
from flask_login import current_user

from gisdesk import layers as registry
from gisdesk.layers import crs as crs_mod, exports, schemas, sources as layer_sources, writers
from gisdesk.api import bp, downloads
from gisdesk.errors import Forbidden, InputRejected, NotFound
from gisdesk.indonesian import angka
from gisdesk.layers.tiles import data_version
from gisdesk.maps import data
from gisdesk.layers.writers import RENDERERS
from gisdesk.web.auth import requires
from gisdesk.web.dbs import read_engine, read_write_engine

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
MAX_OFFSET = 2**31 - 1
GEOJSON = "application/geo+json"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"
CONFORMANCE = (
    [f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{c}"
     for c in ("core", "geojson", "oas30", "html")]
    + ["http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"]
    + [f"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/{c}"
       for c in ("queryables", "queryables-query-parameters", "filter", "features-filter")]
    + [f"http://www.opengis.net/spec/cql2/1.0/conf/{c}"
       for c in ("cql2-text", "cql2-json", "basic-cql2", "advanced-comparison-operators",
                 "case-insensitive-comparison", "basic-spatial-functions",
                 "basic-spatial-functions-plus", "spatial-functions")])
SCHEMA_JSON = "application/schema+json"
MEDIA = {"json": "application/json", "geojson": GEOJSON, "html": "text/html",
         "csv": "text/csv"}
EXPORT_RULE = (
    "Hak akses: setiap peran yang boleh melihat peta (viewer ke atas) boleh membaca API ini "
    f"per halaman dalam JSON/GeoJSON atau HTML (limit bawaan {DEFAULT_LIMIT}, paling banyak "
    f"{angka(MAX_LIMIT)} fitur per halaman). Unduhan berkas (f=csv di sini, /export/<lapisan>.geojson|"
    ".csv|.gpkg, dan `gisdesk export`) adalah ekspor: perlu hak 'export' (planner, supervisor, "
    "admin) serta hak melihat lapisan itu, dan tercatat di log audit. Lapisan yang tidak boleh "
    "dilihat peran Anda tidak muncul sama sekali.")


# --- helpers -----------------------------------------------------------------------------------

def _engine():
    return current_app.extensions["gisdesk.engine"]


def visible() -> dict:
    return registry.visible_layers(current_user.role, current_app.extensions["gisdesk.layers"])


def _layer(collection_id: str):
    layer = visible().get(collection_id)
    if layer is None:
        raise NotFound(f"Koleksi '{collection_id}' tidak ada.", field="collectionId")
    return layer


def _format(choices: tuple[str, ...]) -> str:
    """``f`` when given, else the Accept header; JSON when nothing says otherwise."""
    asked = request.args.get("f")
    if asked is not None:
        fmt = {"geojson": "json", "text/html": "html"}.get(asked.lower(), asked.lower())
        if fmt not in choices:
            raise InputRejected(f"f='{asked[:40]}' tidak didukung di sini; pilih: "
                                f"{', '.join(choices)}", field="f")
        return fmt
    offered = [MEDIA[c] for c in choices] + (["application/geo+json"] if "json" in choices
                                             else [])
    best = request.accept_mimetypes.best_match(offered, default=offered[0])
    return next((c for c in choices if MEDIA[c] == best), "json")


def _election_id() -> int | None:
    """The active election (None: boundaries still show, election layers are empty)."""
    with read_engine().connect() as conn:
        election = data.active_election(conn)
    return election and election["id"]


def _etag(conn, election: dict | None) -> str:
    """The results' version, plus a digest of everything else the page depends on."""
    version = election and election["version"]
    seen = data_version(conn, election and election["id"])
    digest = hashlib.sha256("|".join((seen, current_user.role, request.full_path)).encode())
    return f"v{version or 0}-{digest.hexdigest()[:24]}"


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    try:
        value = default if raw in (None, "") else int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise InputRejected(f"'{name}' harus bilangan bulat {low}..{high}", field=name)
    return value


def _args() -> dict[str, list[str]]:
    return {k: request.args.getlist(k) for k in request.args}


def _here(**changes) -> str:
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        args[key] = [str(value)]
    return url_for(request.endpoint, _external=True, **request.view_args, **args)


def _link(href: str, rel: str, media: str, title: str) -> dict:
    return {"href": href, "rel": rel, "type": media, "title": title}


def _self_links(fmt: str, title: str) -> list[dict]:
    other = "html" if fmt == "json" else "json"
    media = lambda f: MEDIA[f]  # noqa: E731
    return [_link(_here(f=fmt), "self", media(fmt), title),
            _link(_here(f=other), "alternate", media(other), f"{title} ({other.upper()})")]


def _respond(doc: dict, fmt: str, template: str, **context):
    if fmt == "html":
        return render_template(f"api/{template}", doc=doc, **context)
    return jsonify(doc)


def collection_doc(conn, layer, election_id) -> dict:
    items = url_for("api.items", collection_id=layer.id, _external=True)
    ext = layer_sources.extent(conn, layer, election_id=election_id)
    extent = {"spatial": {"bbox": [ext["bbox"] or [-180, -90, 180, 90]],
                          "crs": exports.CRS84}}
    if ext["interval"]:
        extent["temporal"] = {"interval": [ext["interval"]],
                              "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return {
        "id": layer.id, "title": layer.title, "description": layer.description,
        "itemType": "feature", "crs": crs_mod.offered(), "storageCrs": exports.CRS84,
        "extent": extent,
        "links": [
            _link(url_for("api.collection", collection_id=layer.id, _external=True), "self",
                  "application/json", layer.title),
            _link(items, "items", GEOJSON, f"{layer.title} (GeoJSON)"),
            _link(items + "?f=html", "items", "text/html", f"{layer.title} (HTML)"),
            _link(url_for("api.queryables", collection_id=layer.id, _external=True),
                  "http://www.opengis.net/def/rel/ogc/1.0/queryables", SCHEMA_JSON,
                  f"Atribut yang bisa disaring ({layer.title})"),
        ],
    }


# --- OGC API Features --------------------------------------------------------------------------

@bp.get("", strict_slashes=False)
@requires("view")
def landing():
    fmt = _format(("json", "html"))
    root = lambda e: url_for(e, _external=True)  # noqa: E731
    doc = {"title": "gisdesk · OGC API Features", "description": EXPORT_RULE,
           "links": _self_links(fmt, "Halaman awal API") + [
               _link(root("api.openapi"), "service-desc", OPENAPI_JSON, "Dokumen OpenAPI 3.0"),
               _link(root("api.conformance"), "conformance", "application/json",
                     "Kelas kesesuaian (conformance)"),
               _link(root("api.collections"), "data", "application/json", "Koleksi")]}
    return _respond(doc, fmt, "page.html", kind="landing")


@bp.get("/conformance")
@requires("view")
def conformance():
    fmt = _format(("json", "html"))
    doc = {"conformsTo": CONFORMANCE, "links": _self_links(fmt, "Kesesuaian")}
    return _respond(doc, fmt, "page.html", kind="conformance")


@bp.get("/collections")
@requires("view")
def collections():
    fmt = _format(("json", "html"))
    election_id = _election_id()
    with read_engine().connect() as conn:
        docs = [collection_doc(conn, layer, election_id) for layer in visible().values()]
    doc = {"links": _self_links(fmt, "Koleksi"), "collections": docs}
    return _respond(doc, fmt, "page.html", kind="collections")


@bp.get("/collections/<collection_id>")
@requires("view")
def collection(collection_id: str):
    layer = _layer(collection_id)
    fmt = _format(("json", "html"))
    with read_engine().connect() as conn:
        doc = collection_doc(conn, layer, _election_id())
    doc["links"][0:1] = _self_links(fmt, layer.title)
    return _respond(doc, fmt, "page.html", kind="collection")


@bp.get("/collections/<collection_id>/items")
@requires("view")
def items(collection_id: str):
    layer = _layer(collection_id)
    fmt = _format(("json", "html", "csv"))
    limit = _limit()
    offset = _int_arg("offset", 0, 0, MAX_OFFSET)
    selection = exports.parse_selection(layer, _args())
    if fmt == "csv" and not exports.may_export(current_user.role, layer):
        raise Forbidden("Unduhan CSV adalah ekspor: perlu hak 'export' (planner ke atas). "
                        "Peran Anda boleh membaca halaman JSON/HTML.", field="f")
    # one snapshot for the results' version, the count and the rows, so they agree
    conn = read_engine().connect().execution_options(isolation_level="REPEATABLE READ")
    try:
        election = data.active_election(conn)
        election_id = election and election["id"]
        etag = _etag(conn, election)
        if fmt == "json" and etag in request.if_none_match:
            conn.close()
            return _with_version(Response(status=304), etag, election)
        if fmt == "csv":
            return _csv_page(conn, layer, selection, election_id, limit, offset)
        # one row more than asked says whether a next page exists, without counting
        rows = exports.rows(conn, layer, selection, election_id=election_id,
                            limit=limit + 1, offset=offset)
        # numberMatched (optional in Part 1) stays exact: counted on the first page only
        # (a reader starts there), known for free on the last page, left out in between
        matched = (exports.count(conn, layer, selection, election_id=election_id)
                   if offset == 0 else None)
        # the query runs now (first row fetched): a value the database refuses fails
        # before a response starts
        first = next(rows, None)
        rows = itertools.chain([first] if first is not None else [], rows)
        if fmt == "html":
            rows = list(rows)
            conn.close()
            more = len(rows) > limit
            return render_template("api/items.html", layer=layer, rows=rows[:limit],
                                   matched=matched, offset=offset,
                                   analysis=data.results_state(election),
                                   links=_page_links(fmt, limit, offset, more))
    except Exception:
        conn.close()
        raise
    links = {more: _page_links("json", limit, offset, more) for more in (True, False)}

    def tail(returned: int, more: bool) -> dict:  # runs while streaming: no request here
        known = matched if matched is not None else None if more else offset + returned
        return {**({"numberMatched": known} if known is not None else {}),
                "numberReturned": returned, "links": links[more]}
    head = {"type": "FeatureCollection", "name": layer.id, "timeStamp": _now(),
            "analysis": data.results_state(election)}
    chunks = writers.feature_collection_chunks(layer, rows, limit, head, tail)
    return _with_version(Response(_closing(chunks, conn), mimetype=GEOJSON,
                                  headers={"Content-Crs": f"<{selection.crs.uri}>"}),
                         etag, election)


def _with_version(response: Response, etag: str, election: dict | None) -> Response:
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache, private"
    response.headers["X-Analysis-Version"] = str((election and election["version"]) or "")
    return response


def _limit() -> int:
    """``limit`` as asked, capped at MAX_LIMIT (Part 1 lets the server return fewer; the
    links then say the page size used). Not a positive integer: 400."""
    raw = request.args.get("limit")
    try:
        value = DEFAULT_LIMIT if raw in (None, "") else int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise InputRejected(f"'limit' harus bilangan bulat 1..{MAX_LIMIT} (lebih besar "
                            "dibatasi ke maksimum)", field="limit")
    return min(value, MAX_LIMIT)


def _csv_page(conn, layer, selection, election_id, limit, offset):
    try:
        chunks = exports.stream(conn, layer, "csv", selection, election_id=election_id,
                                limit=limit, offset=offset)
        matched = exports.count(conn, layer, selection, election_id=election_id)
        with _engine().begin() as audit_conn:
            exports.record(audit_conn, current_user.username, layer, "csv", selection,
                           max(0, min(limit, matched - offset)), "api", limit=limit,
                           offset=offset)
    except Exception:
        conn.close()
        raise
    return _download(_closing(chunks, conn), layer.id, "csv")


def _page_links(fmt: str, limit: int, offset: int, more: bool) -> list[dict]:
    media = GEOJSON if fmt == "json" else "text/html"
    capped = request.args.get("limit", "").isdigit() and int(request.args["limit"]) > limit
    links = [_link(_here(f=fmt, limit=limit), "self", media,
                   f"Halaman ini (limit dibatasi ke {MAX_LIMIT})" if capped
                   else "Halaman ini")]
    for other in ("json", "html", "csv"):
        if other != fmt:
            links.append(_link(_here(f=other, limit=limit), "alternate",
                               GEOJSON if other == "json" else MEDIA[other],
                               f"Halaman ini ({other.upper()})"))
    if more:
        # Part 1 leaves the next link to the server: a program reading JSON gets the rest in
        # pages of the maximum size, whatever its first page was (GDAL 3.6 asks limit=10 and
        # then only follows these links: 3 requests instead of 125 for the city's TPS)
        step = MAX_LIMIT if fmt == "json" else limit
        links.append(_link(_here(f=fmt, offset=offset + limit, limit=step), "next", media,
                           "Halaman berikutnya"))
    if offset > 0:
        links.append(_link(_here(f=fmt, offset=max(0, offset - limit), limit=limit), "prev",
                           media, "Halaman sebelumnya"))
    links.append(_link(url_for("api.collection", collection_id=request.view_args[
        "collection_id"], _external=True), "collection", "application/json", "Koleksi"))
    return links


@bp.get("/collections/<collection_id>/queryables")
@requires("view")
def queryables(collection_id: str):
    """Part 3: the properties a ``filter`` may name, as a JSON Schema."""
    layer = _layer(collection_id)
    body = schemas.queryables(layer, url_for("api.queryables", collection_id=layer.id,
                                             _external=True))
    return Response(current_app.json.dumps(body), mimetype=SCHEMA_JSON)


@bp.get("/collections/<collection_id>/items/<feature_id>")
@requires("view")
def item(collection_id: str, feature_id: str):
    layer = _layer(collection_id)
    fmt = _format(("json", "html"))
    key = layer.properties[0].name
    missing = NotFound(f"Fitur '{feature_id}' tidak ada di '{layer.id}'.", field="featureId")
    try:
        selection = exports.Selection(filters={key: exports._clean(feature_id, "featureId")})
        with read_engine().connect() as conn:
            found = list(exports.rows(conn, layer, selection, election_id=_election_id(),
                                      limit=1))
    except InputRejected:  # not even of the key's type
        raise missing from None
    if not found:
        raise missing
    props, geometry = found[0]
    links = _self_links(fmt, "Fitur ini") + [
        _link(url_for("api.collection", collection_id=layer.id, _external=True), "collection",
              "application/json", layer.title)]
    if fmt == "html":
        return render_template("api/items.html", layer=layer, rows=found, matched=1,
                               offset=0, links=links)
    feature = {"type": "Feature", "id": props.get(key), "geometry": geometry,
               "properties": props, "links": links}
    return Response(current_app.json.dumps(feature), mimetype=GEOJSON)


# --- file downloads ("export what I see") -------------------------------------------------------

@downloads.get("/export/<layer_id>.<any(geojson, csv, gpkg, zip):fmt>")
@requires("export")
def download(layer_id: str, fmt: str):
    layer = _layer(layer_id)
    if not exports.may_export(current_user.role, layer):
        raise Forbidden(f"Peran Anda tidak boleh mengekspor '{layer.id}'.", field="layer")
    selection = exports.parse_selection(layer, _args())
    election_id = _election_id()
    if RENDERERS[fmt].write is not None:
        tmpdir = tempfile.mkdtemp(prefix="gisdesk-export-")
        path = Path(tmpdir) / f"{layer.id}.{fmt}"
        try:
            exports.write_file(read_write_engine(), [layer], path, fmt, selection,
                               election_id=election_id, actor=current_user.username,
                               via="web")
            handle = open(path, "rb")
        finally:
            path.unlink(missing_ok=True)   # the open handle keeps the bytes until sent
            os.rmdir(tmpdir)
        return send_file(handle, mimetype=RENDERERS[fmt].media_type, as_attachment=True,
                         download_name=_filename(layer.id, fmt))
    conn = read_engine().connect().execution_options(isolation_level="REPEATABLE READ")
    try:
        n = exports.count(conn, layer, selection, election_id=election_id)
        with _engine().begin() as audit_conn:
            exports.record(audit_conn, current_user.username, layer, fmt, selection, n, "web")
        chunks = exports.stream(conn, layer, fmt, selection, election_id=election_id)
    except Exception:
        conn.close()
        raise
    return _download(_closing(chunks, conn), layer.id, fmt)


def _filename(layer_id: str, fmt: str) -> str:
    """``tps-20240214-1000-WITA.csv``: the desk's local time, as every page shows it."""
    zone = ZoneInfo(current_app.extensions["gisdesk.settings"].timezone)
    return f"{layer_id}-{dt.datetime.now(zone):%Y%m%d-%H%M}-WITA.{fmt}"


def _download(chunks, layer_id: str, fmt: str) -> Response:
    response = Response(chunks, mimetype=RENDERERS[fmt].media_type.split(";")[0])
    if fmt == "csv":
        response.headers["Content-Type"] = RENDERERS[fmt].media_type
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{_filename(layer_id, fmt)}"')
    return response


def _closing(chunks, conn):
    """Stream the chunks, then give the connection back, even if the client went away."""
    try:
        yield from chunks
    finally:
        conn.close()


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace(
        "+00:00", "Z")
