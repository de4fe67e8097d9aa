"""The OpenAPI 3.0 document of /api: generic OGC paths plus one set of paths per collection
the caller may see, each with its own property filters (served at /api/openapi)."""
from __future__ import annotations

from flask import Response, current_app, request, url_for

from gisdesk.api import bp
from gisdesk.api.ogc import DEFAULT_LIMIT, EXPORT_RULE, MAX_LIMIT, MAX_OFFSET, visible
from gisdesk.layers import crs as crs_mod
from gisdesk.layers.schemas import PROPERTY_SCHEMAS, feature_properties
from gisdesk.web.auth import requires

OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"
# a property filter ``name=value`` takes one value of the property's type (a list matches
# when it holds the value)
FILTER_SCHEMAS = {**PROPERTY_SCHEMAS, "integer": {"type": "integer", "format": "int32"},
                  "array": {"type": "string", "description": "cocok bila daftar memuat nilai ini"}}
ERRORS = {code: {"$ref": f"#/components/responses/{name}"} for code, name in
          (("400", "BadRequest"), ("401", "Unauthorized"), ("403", "Forbidden"),
           ("404", "NotFound"), ("500", "ServerError"))}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


def _json(schema_ref: str, description: str, *, media="application/json",
          html: bool = True) -> dict:
    content = {media: {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}
    if html:
        content["text/html"] = {"schema": {"type": "string"}}
    return {"description": description, "content": content}


def _op(op_id: str, summary: str, ok: dict, parameters=(), tags=("Capabilities",)) -> dict:
    return {"get": {"operationId": op_id, "summary": summary, "tags": list(tags),
                    "parameters": list(parameters), "responses": {"200": ok, **ERRORS}}}


def _collection_paths(layer) -> dict:
    base = f"/collections/{layer.id}"
    filters = [{"name": p.name, "in": "query", "required": False, "style": "form",
                "explode": True, "description": f"{p.title}: sama dengan nilai ini",
                "schema": FILTER_SCHEMAS[p.type]} for p in layer.properties]
    params = [_ref(n) for n in ("f_items", "bbox", "bbox-crs", "crs", "limit", "offset",
                                "filter", "filter-lang", "filter-crs", "sortby", "properties")]
    if layer.time_field:
        params.append(_ref("datetime"))
    features = {"allOf": [{"$ref": "#/components/schemas/FeatureCollection"}, {
        "type": "object", "properties": {"features": {"type": "array", "items": {
            "allOf": [{"$ref": "#/components/schemas/Feature"},
                      {"type": "object",
                       "properties": {"properties": feature_properties(layer)}}]}}}}]}
    items_ok = {"description": f"Fitur {layer.title}",
                "content": {"application/geo+json": {"schema": features},
                    "text/html": {"schema": {"type": "string"}},
                    "text/csv": {"schema": {"type": "string"}}}}
    feature_ok = {"description": "Satu fitur", "content": {
        "application/geo+json": {"schema": {"$ref": "#/components/schemas/Feature"}},
        "text/html": {"schema": {"type": "string"}}}}
    fid = {"name": "featureId", "in": "path", "required": True,
           "description": f"Kunci fitur ('{layer.properties[0].name}')",
           "schema": {"type": "string"}}
    tags = (layer.id,)
    queryables_ok = {"description": "Queryables (JSON Schema)", "content": {
        "application/schema+json": {"schema": {"type": "object"}}}}
    return {
        f"{base}/queryables": _op(f"queryables_{layer.id}", f"Queryables {layer.title}",
                                  queryables_ok, [], tags),
        base: _op(f"describe_{layer.id}", f"Keterangan koleksi {layer.title}",
                  _json("Collection", "Koleksi"), [_ref("f")], tags),
        f"{base}/items": _op(f"items_{layer.id}", f"Fitur {layer.title}", items_ok,
                             params + filters, tags),
        f"{base}/items/{{featureId}}": _op(f"item_{layer.id}", f"Satu fitur {layer.title}",
                                           feature_ok, [fid, _ref("f")], tags),
    }


def _components() -> dict:
    error = {"type": "object", "required": ["code", "description"],
             "properties": {"code": {"type": "string"}, "description": {"type": "string"},
                            "field": {"type": "string"}}}
    link = {"type": "object", "required": ["href"],
            "properties": {k: {"type": "string"} for k in ("href", "rel", "type", "title")}}
    links = {"type": "array", "items": {"$ref": "#/components/schemas/Link"}}
    feature = {"type": "object", "required": ["type", "geometry", "properties"],
               "properties": {"type": {"type": "string", "enum": ["Feature"]},
                              "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                              "geometry": {"type": "object", "nullable": True},
                              "properties": {"type": "object", "nullable": True},
                              "links": links}}
    return {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "Token API pribadi (buat di /akun)"},
            "basic": {"type": "http", "scheme": "basic",
                      "description": "Nama pengguna + token API pribadi sebagai kata sandi "
                                     "(hanya GET/HEAD; kata sandi akun tidak berlaku)"},
            "session": {"type": "apiKey", "in": "cookie", "name": "session"}},
        "parameters": {
            "f": {"name": "f", "in": "query", "required": False,
                  "schema": {"type": "string", "enum": ["json", "html"]}},
            "f_items": {"name": "f", "in": "query", "required": False,
                        "description": "csv adalah ekspor: perlu hak 'export'",
                        "schema": {"type": "string", "enum": ["json", "html", "csv"]}},
            "bbox": {"name": "bbox", "in": "query", "required": False, "style": "form",
                     "explode": False, "description": "barat,selatan,timur,utara (CRS84, atau "
                     "bbox-crs); 6 angka dengan ketinggian juga diterima",
                     "schema": {"type": "array", "minItems": 4, "maxItems": 6,
                                "items": {"type": "number"}}},
            **{name: {"name": name, "in": "query", "required": False,
                      "description": text, "schema": {"type": "string", "format": "uri",
                                                      "enum": crs_mod.offered()}}
               for name, text in (("crs", "CRS keluaran (Part 2)"),
                                  ("bbox-crs", "CRS dari bbox"),
                                  ("filter-crs", "CRS geometri dalam filter"))},
            "filter": {"name": "filter", "in": "query", "required": False,
                       "description": "CQL2 (Part 3), mis. kelas = 'rawan' AND dpt > 250",
                       "schema": {"type": "string"}},
            "filter-lang": {"name": "filter-lang", "in": "query", "required": False,
                            "schema": {"type": "string", "enum": ["cql2-text", "cql2-json"],
                                       "default": "cql2-text"}},
            "sortby": {"name": "sortby", "in": "query", "required": False, "style": "form",
                       "explode": False, "description": "atribut,-atribut (turun)",
                       "schema": {"type": "array", "items": {"type": "string"}}},
            "properties": {"name": "properties", "in": "query", "required": False,
                           "style": "form", "explode": False,
                           "description": "hanya atribut ini (dipisah koma)",
                           "schema": {"type": "array", "items": {"type": "string"}}},
            "limit": {"name": "limit", "in": "query", "required": False, "style": "form",
                      "explode": False, "schema": {"type": "integer", "minimum": 1,
                                                   "maximum": MAX_LIMIT,
                                                   "default": DEFAULT_LIMIT}},
            "offset": {"name": "offset", "in": "query", "required": False,
                       "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET,
                                  "default": 0}},
            "datetime": {"name": "datetime", "in": "query", "required": False,
                         "style": "form", "explode": False,
                         "description": "waktu RFC 3339 atau interval a/b, ../b, a/..",
                         "schema": {"type": "string"}}},
        "schemas": {
            "Error": error, "Link": link, "Feature": feature,
            "FeatureCollection": {
                "type": "object", "required": ["type", "features"],
                "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]},
                               "features": {"type": "array",
                                            "items": {"$ref": "#/components/schemas/Feature"}},
                               "numberMatched": {"type": "integer", "minimum": 0},
                               "numberReturned": {"type": "integer", "minimum": 0},
                               "timeStamp": {"type": "string", "format": "date-time"},
                               "links": links}},
            "Landing": {"type": "object", "required": ["links"],
                        "properties": {"title": {"type": "string"},
                                       "description": {"type": "string"}, "links": links}},
            "Conformance": {"type": "object", "required": ["conformsTo"],
                            "properties": {"conformsTo": {"type": "array",
                                                          "items": {"type": "string"}},
                                           "links": links}},
            "Collection": {"type": "object", "required": ["id", "links"],
                           "properties": {"id": {"type": "string"},
                                          "title": {"type": "string"},
                                          "description": {"type": "string"},
                                          "itemType": {"type": "string"},
                                          "crs": {"type": "array",
                                                  "items": {"type": "string"}},
                                          "extent": {"type": "object"}, "links": links}},
            "Collections": {"type": "object", "required": ["links", "collections"],
                            "properties": {"links": links, "collections": {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/Collection"}}}}},
        "responses": {name: {"description": text, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Error"}}}} for name, text in (
            ("BadRequest", "Parameter tidak sah (namanya ada di 'field')"),
            ("Unauthorized", "Belum masuk / token tidak sah"),
            ("Forbidden", "Peran tidak berwenang (mis. ekspor CSV tanpa hak 'export')"),
            ("NotFound", "Tidak ada (atau tidak boleh dilihat)"),
            ("ServerError", "Kesalahan server"))},
    }


def document(layers: dict, server_url: str) -> dict:
    """The OpenAPI 3.0 document for ``layers`` (those the caller may see)."""
    paths = {
        "/": _op("landing", "Halaman awal", _json("Landing", "Halaman awal"), [_ref("f")]),
        "/conformance": _op("conformance", "Kelas kesesuaian",
                            _json("Conformance", "Kesesuaian"), [_ref("f")]),
        "/collections": _op("collections", "Daftar koleksi",
                            _json("Collections", "Koleksi"), [_ref("f")]),
    }
    for layer in layers.values():
        paths.update(_collection_paths(layer))
    return {
        "openapi": "3.0.3",
        "info": {"title": "gisdesk · OGC API Features", "version": "1.0.0",
                 "description": EXPORT_RULE},
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}, {"basic": []}, {"session": []}],
        "tags": [{"name": "Capabilities"}] + [{"name": layer.id, "description": layer.title}
                                             for layer in layers.values()],
        "paths": paths,
        "components": _components(),
    }


@bp.get("/openapi")
@requires("view")
def openapi():
    server = url_for("api.landing", _external=True).rstrip("/")
    doc = document(visible(), server)
    body = current_app.json.dumps(doc)
    response = Response(body)
    # the version parameter matters: GDAL 3.6 refuses the document without it (and then
    # filters on the client)
    response.headers["Content-Type"] = (OPENAPI_JSON if request.args.get("f") != "json"
                                        else "application/json")
    return response
