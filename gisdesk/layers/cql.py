"""CQL2 filters (OGC API Features Part 3) compiled to parameterised SQL.

pygeofilter parses CQL2-text and CQL2-JSON into a tree; this module walks the tree and writes
a WHERE fragment over a layer's source (alias ``s``). Only the layer's declared properties
(queryables) and ``geometry`` may be named, and every literal, even a number, travels as a
bind parameter: no text from the filter is ever pasted into SQL. Supported: comparisons,
AND/OR/NOT, LIKE, IN, BETWEEN, IS NULL, CASEI/LOWER on strings, and the spatial predicates
(S_INTERSECTS, S_WITHIN, S_CONTAINS, S_DISJOINT, ...) with a BBOX or a WKT/GeoJSON geometry
in CRS84 or ``filter-crs``. No Flask here.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pygeofilter import ast, values

from gisdesk.errors import InputRejected
from gisdesk.layers import crs as crs_mod

TEXT, JSON = "cql2-text", "cql2-json"
LANGS = (TEXT, JSON)
MAX_FILTER = 20_000           # characters: a filter is a question, not a payload
SPATIAL = {ast.GeometryIntersects: "ST_Intersects", ast.GeometryDisjoint: "ST_Disjoint",
           ast.GeometryContains: "ST_Contains", ast.GeometryWithin: "ST_Within",
           ast.GeometryTouches: "ST_Touches", ast.GeometryCrosses: "ST_Crosses",
           ast.GeometryOverlaps: "ST_Overlaps", ast.GeometryEquals: "ST_Equals"}
COMPARE = {ast.Equal: "=", ast.NotEqual: "<>", ast.LessThan: "<", ast.LessEqual: "<=",
           ast.GreaterThan: ">", ast.GreaterEqual: ">="}
GEOMETRY_NAMES = ("geometry", "geom")
QUERYABLE_TYPES = ("string", "integer", "number", "boolean", "datetime")


def queryables(layer) -> dict:
    """name -> Property for the properties a filter may name (lists are not queryable)."""
    return {p.name: p for p in layer.properties if p.type in QUERYABLE_TYPES}


def parse(raw: str, lang: str | None):
    """The pygeofilter tree of a filter; InputRejected (field 'filter') when it is not CQL2."""
    lang = (lang or "").strip().lower() or (JSON if raw.lstrip().startswith("{") else TEXT)
    if lang not in LANGS:
        raise InputRejected(f"filter-lang '{lang[:40]}' tidak didukung; pilih cql2-text atau "
                            "cql2-json", field="filter-lang")
    if len(raw) > MAX_FILTER or "\x00" in raw:
        raise InputRejected("filter terlalu panjang atau berisi karakter tidak sah",
                            field="filter")
    try:
        if lang == JSON:
            from pygeofilter.parsers.cql2_json import parse as parse_json
            return parse_json(_between_as_pygeofilter_reads_it(json.loads(raw)))
        from pygeofilter.parsers.cql2_text import parse as parse_text
        return parse_text(raw)
    except Exception as exc:  # lark/pygeofilter raise many kinds; all mean "not CQL2"
        raise InputRejected(f"filter bukan {lang} yang sah: {str(exc).splitlines()[0][:160]}",
                            field="filter") from None


def _between_as_pygeofilter_reads_it(node):
    """CQL2 1.0 writes BETWEEN as args [value, low, high]; pygeofilter 0.4 reads the draft
    form [value, [low, high]]. Accept both."""
    if isinstance(node, list):
        return [_between_as_pygeofilter_reads_it(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: _between_as_pygeofilter_reads_it(v) for k, v in node.items()}
    args = node.get("args")
    if str(node.get("op", "")).lower() == "between" and isinstance(args, list) \
            and len(args) == 3:
        node["args"] = [args[0], [args[1], args[2]]]
    return node


class _Compiler:
    def __init__(self, layer, filter_crs: crs_mod.Crs):
        self.props = queryables(layer)
        self.layer = layer
        self.crs = filter_crs
        self.params: dict[str, Any] = {}

    def bind(self, value: Any) -> str:
        key = f"q{len(self.params)}"
        self.params[key] = value
        return f":{key}"

    def fail(self, message: str):
        raise InputRejected(message, field="filter")

    # --- conditions -----------------------------------------------------------------------
    def cond(self, node) -> str:
        if isinstance(node, ast.And):
            return f"({self.cond(node.lhs)} AND {self.cond(node.rhs)})"
        if isinstance(node, ast.Or):
            return f"({self.cond(node.lhs)} OR {self.cond(node.rhs)})"
        if isinstance(node, ast.Not):
            return f"(NOT {self.cond(node.sub_node)})"
        if type(node) in COMPARE:
            kind = self.kind_of(node.lhs, node.rhs)
            if kind == "boolean" and type(node) not in (ast.Equal, ast.NotEqual):
                self.fail("Nilai benar/salah hanya bisa dibandingkan dengan = atau <>")
            return f"({self.expr(node.lhs, kind)} {COMPARE[type(node)]} " \
                   f"{self.expr(node.rhs, kind)})"
        if isinstance(node, ast.Between):
            kind = self.kind_of(node.lhs, node.low, node.high)
            return (f"({self.expr(node.lhs, kind)} {'NOT ' if node.not_ else ''}BETWEEN "
                    f"{self.expr(node.low, kind)} AND {self.expr(node.high, kind)})")
        if isinstance(node, ast.In):
            kind = self.kind_of(node.lhs, *node.sub_nodes)
            items = ", ".join(self.expr(v, kind) for v in node.sub_nodes)
            return f"({self.expr(node.lhs, kind)} {'NOT ' if node.not_ else ''}IN ({items}))"
        if isinstance(node, ast.Like):
            if self.kind_of(node.lhs) != "string" or not isinstance(node.pattern, str):
                self.fail("LIKE hanya untuk atribut teks dengan pola teks")
            self.literal(node.pattern, "string")
            if (len(node.pattern) - len(node.pattern.rstrip("\\"))) % 2:
                self.fail("Pola LIKE tidak boleh berakhir dengan '\\' tunggal")
            # CQL2's wildcards are SQL's: '%' any run, '_' one character, '\' escapes
            op = "ILIKE" if node.nocase else "LIKE"
            return (f"({self.expr(node.lhs, 'string')} {'NOT ' if node.not_ else ''}{op} "
                    f"{self.bind(node.pattern)})")
        if isinstance(node, ast.IsNull):
            return f"({self.expr(node.lhs, self.kind_of(node.lhs))} IS " \
                   f"{'NOT ' if node.not_ else ''}NULL)"
        if type(node) in SPATIAL:
            return f"{SPATIAL[type(node)]}({self.geom(node.lhs)}, {self.geom(node.rhs)})"
        if isinstance(node, ast.Include):
            return "FALSE" if node.not_ else "TRUE"
        if isinstance(node, bool):
            return "TRUE" if node else "FALSE"
        self.fail(f"Operator {type(node).__name__} tidak didukung; yang didukung: "
                  "= <> < <= > >=, AND, OR, NOT, LIKE, IN, BETWEEN, IS NULL, S_INTERSECTS "
                  "dan predikat spasial lain")

    # --- expressions ------------------------------------------------------------------------
    def kind_of(self, *nodes) -> str:
        """The declared type the operands share, taken from the property they name."""
        for node in nodes:
            inner = node.arguments[0] if isinstance(node, ast.Function) and node.arguments \
                else node
            if isinstance(inner, ast.Attribute):
                return self.prop(inner.name).type
        self.fail("Perbandingan perlu setidaknya satu atribut (queryable)")

    def prop(self, name: str):
        prop = self.props.get(name)
        if prop is None:
            self.fail(f"Atribut '{name[:60]}' tidak bisa disaring di '{self.layer.id}'. "
                      f"Yang bisa: {', '.join(self.props)}, geometry")
        return prop

    def expr(self, node, kind: str) -> str:
        if isinstance(node, ast.Attribute):
            prop = self.prop(node.name)
            if prop.type != kind:
                self.fail(f"'{prop.name}' bertipe {prop.type}, tidak bisa dibandingkan "
                          f"dengan {kind}")
            return f's."{prop.name}"'
        if isinstance(node, ast.Function) and node.name.lower() in ("lower", "casei") \
                and len(node.arguments) == 1 and kind == "string":
            return f"lower({self.expr(node.arguments[0], kind)})"
        if isinstance(node, (ast.Node, values.Geometry, values.Envelope)):
            self.fail(f"Ungkapan {type(node).__name__} tidak didukung di sini")
        return self.bind(self.literal(node, kind))

    def literal(self, value, kind: str):
        if kind == "datetime" and isinstance(value, str):  # '2024-02-14T08:00Z' as text
            try:
                value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                self.fail(f"Waktu {value[:40]!r} tidak sah (pakai RFC 3339)")
        ok = {"string": isinstance(value, str),
              "integer": isinstance(value, int) and not isinstance(value, bool)
              and -2**63 <= value < 2**63,
              "number": isinstance(value, (int, float)) and not isinstance(value, bool)
              and value == value and abs(value) != float("inf"),
              "boolean": isinstance(value, bool),
              "datetime": isinstance(value, (dt.datetime, dt.date))}[kind]
        if not ok:
            self.fail(f"Nilai {str(value)[:40]!r} tidak cocok dengan tipe {kind}")
        if kind == "string":  # PostgreSQL text holds neither NUL nor lone surrogates
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                self.fail("Teks dalam filter bukan UTF-8 yang sah")
            if "\x00" in value:
                self.fail("Teks dalam filter berisi karakter NUL")
        if kind == "datetime":
            if not isinstance(value, dt.datetime):
                value = dt.datetime(value.year, value.month, value.day)
            value = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
            return value.astimezone(dt.timezone.utc)
        return float(value) if kind == "number" else value

    def geom(self, node) -> str:
        if isinstance(node, ast.Attribute):
            if node.name.lower() not in GEOMETRY_NAMES:
                self.fail(f"'{node.name[:60]}' bukan geometri; pakai 'geometry'")
            return "s.geom"
        if isinstance(node, ast.Function) and node.name.lower() == "bbox":
            corners = list(node.arguments)
        elif isinstance(node, values.Envelope):
            # pygeofilter's CQL2-JSON parser fills Envelope(x1, x2, y1, y2) from the bbox
            # array in its own order [west, south, east, north]
            corners = [node.x1, node.x2, node.y1, node.y2]
        elif isinstance(node, values.Geometry):
            return self.shape(node.geometry)
        else:
            self.fail("Predikat spasial perlu 'geometry' dan BBOX(...) atau geometri WKT")
        if len(corners) not in (4, 6) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in corners):
            self.fail("BBOX perlu 4 (atau 6) angka")
        w, s, e, n = (corners if len(corners) == 4 else corners[:2] + corners[3:5])
        w, s, e, n = crs_mod.to_lonlat_order(self.crs, [w, s, e, n])
        self.on_earth([w, e, w, e], [s, s, n, n])
        return self.transformed(f"ST_MakeEnvelope({self.bind(float(w))}, {self.bind(float(s))}"
                                f", {self.bind(float(e))}, {self.bind(float(n))}, "
                                f"{self.bind(self.crs.srid)})")

    def on_earth(self, xs, ys) -> None:
        try:
            crs_mod.check_xy(self.crs, [float(x) for x in xs], [float(y) for y in ys],
                             "filter")
        except (TypeError, ValueError):
            self.fail("Koordinat geometri dalam filter tidak sah")

    def shape(self, geometry: dict) -> str:
        coords = list(_positions(geometry.get("coordinates")))
        if not coords:
            self.fail("Geometri dalam filter tanpa koordinat")
        xs, ys = zip(*((c[1], c[0]) if self.crs.lat_first else (c[0], c[1]) for c in coords))
        if self.crs.geographic and not all(abs(x) <= 180 and abs(y) <= 90
                                           for x, y in zip(xs, ys)):
            self.fail("Koordinat geometri dalam filter di luar jangkauan")
        self.on_earth(xs, ys)
        text = json.dumps(geometry)
        sql = f"ST_GeomFromGeoJSON(CAST({self.bind(text)} AS text))"
        if self.crs.lat_first:
            sql = f"ST_FlipCoordinates({sql})"
        return self.transformed(f"ST_SetSRID({sql}, {self.bind(self.crs.srid)})")

    def transformed(self, sql: str) -> str:
        return sql if self.crs.srid == 4326 else f"ST_Transform({sql}, 4326)"


def _positions(coords):
    """Every [x, y, ...] position in GeoJSON coordinates, however deeply nested."""
    if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
        if len(coords) < 2:
            raise InputRejected("Posisi geometri perlu dua angka", field="filter")
        yield coords
    elif isinstance(coords, (list, tuple)):
        for part in coords:
            yield from _positions(part)


def compile_filter(layer, raw: str, lang: str | None = None,
                   filter_crs: crs_mod.Crs = crs_mod.DEFAULT) -> tuple[str, dict]:
    """(SQL fragment over alias ``s``, bind parameters) for a CQL2 filter on ``layer``."""
    compiler = _Compiler(layer, filter_crs)
    sql = compiler.cond(parse(raw, lang))
    return sql, compiler.params
