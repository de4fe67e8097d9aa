"""JSON Schemas of a layer's declared properties: one type per attribute, everywhere.

The declared ``[[properties]]`` types of ``layers/*.toml`` become the OpenAPI schema of the
features, the Part 3 queryables and the column types of the exports (see gisdesk.layers.writers:
GPKG column types, the CSV's ``.csvt``). A list is always a JSON array of strings.
"""
from __future__ import annotations

PROPERTY_SCHEMAS = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "datetime": {"type": "string", "format": "date-time"},
    "array": {"type": "array", "items": {"type": "string"}},
}
GEOMETRY_FORMATS = {"Point": "geometry-point", "MultiPolygon": "geometry-multipolygon"}


def property_schema(prop) -> dict:
    return {"title": prop.title, **PROPERTY_SCHEMAS[prop.type]}


def queryables(layer, schema_id: str) -> dict:
    """Part 3 queryables: what a ``filter`` may name (lists are not filterable)."""
    from gisdesk.layers.cql import queryables as names

    props = {"geometry": {"title": "Geometri", "format": GEOMETRY_FORMATS[layer.geometry],
                          "x-ogc-role": "primary-geometry"}}
    props.update({name: property_schema(p) for name, p in names(layer).items()})
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": schema_id,
            "type": "object", "title": layer.title,
            "description": f"Atribut yang bisa dipakai di 'filter' (CQL2) untuk {layer.id}",
            "properties": props, "additionalProperties": False}


def feature_properties(layer) -> dict:
    """The schema of a feature's ``properties`` object (OpenAPI; nullable values)."""
    return {"type": "object", "properties": {
        p.name: {**property_schema(p), "nullable": True} for p in layer.properties}}
