"""The layer registry: one TOML file per layer in ``layers/``, validated when loaded.

A layer says where its rows come from (a source in gisdesk.layers.sources), who may see and
export it, how the map draws it, and its stable attribute schema (``[[properties]]``) shared
by the map, the API and the exports. Built-in layers go through the same door as additions:
adding a layer is adding a file. Errors name the file and the field (``gisdesk layers check``).
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gisdesk.errors import ConfigError
from gisdesk.layers.sources import SOURCES
from gisdesk.maps.labels import VOCABULARIES
from gisdesk.roles import PERMISSIONS, allowed

TYPES = ("string", "integer", "number", "boolean", "datetime", "array")
GEOMETRIES = ("Point", "MultiPolygon")
STYLE_KINDS = ("category", "graduated", "single", "heat")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
KNOWN_PERMISSIONS = frozenset().union(*PERMISSIONS.values())
TOP_KEYS = {"id", "title", "description", "geometry", "source", "permission",
            "export_permission", "default_visible", "time_field", "order", "cluster",
            "where", "style", "popup", "properties"}


@dataclass(frozen=True)
class Property:
    name: str
    type: str
    title: str
    vocabulary: str | None = None  # coded values shown with labels from gisdesk.maps.labels


@dataclass(frozen=True)
class Layer:
    id: str
    title: str
    description: str
    geometry: str
    source: str
    properties: tuple[Property, ...]
    style: dict[str, Any]
    popup: dict[str, Any]
    permission: str = "view"
    export_permission: str = "export"
    default_visible: bool = True
    time_field: str | None = None
    order: int = 50               # drawing order on the map: low first (below)
    cluster: bool = False         # points grouped with MarkerCluster
    where: dict[str, Any] = field(default_factory=dict)  # fixed filter (e.g. disagree = true)
    path: str = ""

    def property(self, name: str) -> Property | None:
        return next((p for p in self.properties if p.name == name), None)

    def public_config(self) -> dict:
        """What the browser needs to draw this layer (no SQL, no permissions)."""
        style = dict(self.style)
        if isinstance(style.get("colors"), dict):  # JSON may sort keys: keep the file's order
            style["color_order"] = list(style["colors"])
        return {"id": self.id, "title": self.title, "description": self.description,
                "geometry": self.geometry, "default_visible": self.default_visible,
                "time_field": self.time_field, "cluster": self.cluster, "style": style,
                "popup": self.popup, "properties": [p.__dict__ for p in self.properties]}


# value types of a layer file, as its errors say them
_KIND = {str: "teks", int: "bilangan bulat", float: "angka", bool: "true/false", list: "daftar",
         dict: "tabel"}


class _Check:
    """Collects problems in one file, each naming FILE and FIELD."""

    def __init__(self, path: Path):
        self.path = path
        self.problems: list[str] = []

    def bad(self, fld: str, reason: str) -> None:
        self.problems.append(f"{self.path.name}: kolom '{fld}': {reason}")

    def need(self, data: dict, key: str, kind: type, prefix: str = "") -> Any:
        value = data.get(key)
        if value is None:
            self.bad(prefix + key, "wajib diisi")
        elif not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.bad(prefix + key, f"harus {_KIND.get(kind, kind.__name__)}, bukan "
                                   f"{_KIND.get(type(value), type(value).__name__)}")
            return None
        return value

    def opt(self, data: dict, key: str, kind: type, default: Any, prefix: str = "") -> Any:
        return default if key not in data else self.need(data, key, kind, prefix)


def _parse(path: Path) -> tuple[Layer | None, list[str]]:
    chk = _Check(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return None, [f"{path.name}: bukan TOML yang sah: {exc}"]
    for key in sorted(set(data) - TOP_KEYS):
        chk.bad(key, "kolom tidak dikenal (salah ketik?)")
    layer_id = chk.need(data, "id", str)
    if layer_id and not NAME_RE.match(layer_id):
        chk.bad("id", "pakai huruf kecil, angka dan '_' (id menjadi bagian URL)")
    if layer_id and path.stem != layer_id:
        chk.bad("id", f"harus sama dengan nama berkas ('{path.stem}')")
    title = chk.need(data, "title", str)
    geometry = chk.need(data, "geometry", str)
    if geometry and geometry not in GEOMETRIES:
        chk.bad("geometry", f"harus salah satu dari {', '.join(GEOMETRIES)}")
    source = chk.need(data, "source", str)
    if source and source not in SOURCES:
        chk.bad("source", f"sumber '{source}' tidak dikenal; yang ada: {', '.join(sorted(SOURCES))}")
    for key in ("permission", "export_permission"):
        perm = chk.opt(data, key, str, None)
        if perm and perm not in KNOWN_PERMISSIONS:
            chk.bad(key, f"hak '{perm}' tidak dikenal; yang ada: "
                         f"{', '.join(sorted(KNOWN_PERMISSIONS))}")
    props = _properties(chk, data.get("properties"), SOURCES.get(source or ""))
    names = {p.name: p for p in props}
    time_field = chk.opt(data, "time_field", str, None)
    if time_field and names.get(time_field, Property("", "", "")).type != "datetime":
        chk.bad("time_field", f"'{time_field}' harus properti datetime yang dideklarasikan")
    where = chk.opt(data, "where", dict, {}) or {}
    for key in where:
        if key not in names:
            chk.bad(f"where.{key}", "bukan properti yang dideklarasikan")
    style = chk.need(data, "style", dict) or {}
    _style(chk, style, names)
    popup = chk.opt(data, "popup", dict, {}) or {}
    _popup(chk, popup, names)
    flags = {"default_visible": chk.opt(data, "default_visible", bool, True),
             "order": chk.opt(data, "order", int, 50),
             "cluster": chk.opt(data, "cluster", bool, False),
             "description": chk.opt(data, "description", str, "")}
    layer = None
    if not chk.problems:
        layer = Layer(
            id=layer_id, title=title, geometry=geometry, source=source,
            properties=tuple(props), style=style, popup=popup,
            permission=data.get("permission", "view"),
            export_permission=data.get("export_permission", "export"),
            time_field=time_field, where=where, path=str(path), **flags)
    return layer, chk.problems


def _properties(chk: _Check, raw: Any, source) -> list[Property]:
    if not isinstance(raw, list) or not raw:
        chk.bad("properties", "perlu paling sedikit satu [[properties]] (yang pertama "
                              "adalah kunci)")
        return []
    out: list[Property] = []
    for i, item in enumerate(raw):
        prefix = f"properties[{i}]."
        if not isinstance(item, dict):
            chk.bad(f"properties[{i}]", "harus berupa tabel")
            continue
        name = chk.need(item, "name", str, prefix)
        kind = chk.need(item, "type", str, prefix)
        title = chk.need(item, "title", str, prefix)
        vocab = chk.opt(item, "vocabulary", str, None, prefix)
        if kind and kind not in TYPES:
            chk.bad(prefix + "type", f"harus salah satu dari {', '.join(TYPES)}")
        if vocab and vocab not in VOCABULARIES:
            chk.bad(prefix + "vocabulary", f"tidak dikenal; yang ada: {', '.join(VOCABULARIES)}")
        if name and source is not None and name not in source.columns:
            chk.bad(prefix + "name", f"sumber '{source.name}' tidak punya kolom '{name}'; yang ada: "
                                     f"{', '.join(source.columns)}")
        if name and any(p.name == name for p in out):
            chk.bad(prefix + "name", f"'{name}' dideklarasikan dua kali")
        if name and kind and title:
            out.append(Property(name, kind, title, vocab))
    return out


def _style(chk: _Check, style: dict, names: dict) -> None:
    kind = style.get("kind")
    if kind not in STYLE_KINDS:
        chk.bad("style.kind", f"harus salah satu dari {', '.join(STYLE_KINDS)}")
        return
    if kind in ("category", "graduated") and style.get("field") not in names:
        chk.bad("style.field", "harus menyebut properti yang dideklarasikan")
    colours = style.get("colors")
    if kind == "category":
        if not isinstance(colours, dict) or not colours:
            chk.bad("style.colors", "perlu tabel nilai = \"#rrggbb\"")
            colours = {}
        bad = [k for k, v in colours.items() if not COLOUR_RE.match(str(v))]
    elif kind == "graduated":
        breaks = style.get("breaks")
        if not isinstance(breaks, list) or not breaks \
                or any(not isinstance(b, (int, float)) for b in breaks) or breaks != sorted(breaks):
            chk.bad("style.breaks", "perlu daftar angka yang naik")
            breaks = []
        if not isinstance(colours, list) or len(colours) != len(breaks) + 1:
            chk.bad("style.colors", "perlu satu warna lebih banyak dari style.breaks")
            colours = []
        labels = style.get("labels")
        if labels is not None and (not isinstance(labels, list) or len(labels) != len(breaks) + 1):
            chk.bad("style.labels", "perlu satu label per warna")
        bad = [v for v in colours if not COLOUR_RE.match(str(v))]
    else:
        bad = [v for k, v in style.items() if k.endswith("color") and not COLOUR_RE.match(str(v))]
    if bad:
        chk.bad("style.colors", f"warna harus '#rrggbb': {bad}")
    if kind == "heat" and style.get("weight_field") not in (None, *names):
        chk.bad("style.weight_field", "harus menyebut properti yang dideklarasikan")


def _popup(chk: _Check, popup: dict, names: dict) -> None:
    if popup.get("title_field") not in (None, *names):
        chk.bad("popup.title_field", "harus menyebut properti yang dideklarasikan")
    fields = popup.get("fields", [])
    if not isinstance(fields, list):
        chk.bad("popup.fields", "harus daftar nama properti")
        return
    for i, name in enumerate(fields):
        if name not in names:
            chk.bad(f"popup.fields[{i}]", f"'{name}' bukan properti yang dideklarasikan")


def check(directory: Path | str) -> list[str]:
    """Every problem in every layer file of ``directory``; an empty list means all good."""
    directory = Path(directory)
    if not directory.is_dir():
        return [f"{directory}: layers directory not found"]
    problems: list[str] = []
    for path in sorted(directory.glob("*.toml")):
        problems.extend(_parse(path)[1])
    return problems


def load(directory: Path | str) -> dict[str, Layer]:
    """All layers of ``directory`` keyed by id, in drawing order; ConfigError on any problem."""
    problems = check(directory)
    if problems:
        raise ConfigError("Berkas lapisan tidak sah:\n  " + "\n  ".join(problems))
    layers = [_parse(p)[0] for p in sorted(Path(directory).glob("*.toml"))]
    return {layer.id: layer for layer in sorted(layers, key=lambda l: (l.order, l.id))}


def visible_layers(role: str | None, layers: dict[str, Layer]) -> dict[str, Layer]:
    """The layers a role may see; the others must look as if they did not exist."""
    return {k: v for k, v in layers.items() if allowed(role, v.permission)}
