"""A minimal Mapbox Vector Tile reader for the tests (protobuf by hand; no extra package).

``decode(data) -> {layer name: {"extent": int, "features": [{"type", "properties",
"geometry": [[(x, y), ...], ...]}]}}`` with tile coordinates (0..extent, y down)."""
from __future__ import annotations

import struct


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def _fields(buf: bytes):
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 2:
            n, i = _varint(buf, i)
            value, i = buf[i:i + n], i + n
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wire}")
        yield field, wire, value


def _packed(buf: bytes) -> list[int]:
    out, i = [], 0
    while i < len(buf):
        v, i = _varint(buf, i)
        out.append(v)
    return out


def _zigzag(n: int) -> int:
    return (n >> 1) ^ -(n & 1)


def _value(buf: bytes):
    for field, _, v in _fields(buf):
        if field == 1:
            return v.decode()
        if field == 2:
            return struct.unpack("<f", v)[0]
        if field == 3:
            return struct.unpack("<d", v)[0]
        if field in (4, 5):
            return v if v < 1 << 63 else v - (1 << 64)
        if field == 6:
            return _zigzag(v)
        if field == 7:
            return bool(v)
    return None


def _geometry(cmds: list[int]) -> list[list[tuple[int, int]]]:
    parts, cur, x, y, i = [], [], 0, 0, 0
    while i < len(cmds):
        cmd, count = cmds[i] & 7, cmds[i] >> 3
        i += 1
        if cmd == 7:
            continue
        for _ in range(count):
            x += _zigzag(cmds[i])
            y += _zigzag(cmds[i + 1])
            i += 2
            if cmd == 1 and cur:
                parts.append(cur)
                cur = []
            cur.append((x, y))
    if cur:
        parts.append(cur)
    return parts


def decode(data: bytes) -> dict:
    layers = {}
    for field, _, lbuf in _fields(data):
        if field != 3:
            continue
        name, keys, values, raw, extent = None, [], [], [], 4096
        for f, _, v in _fields(lbuf):
            if f == 1:
                name = v.decode()
            elif f == 2:
                raw.append(v)
            elif f == 3:
                keys.append(v.decode())
            elif f == 4:
                values.append(_value(v))
            elif f == 5:
                extent = v
        features = []
        for fbuf in raw:
            feat = {"type": None, "properties": {}, "geometry": []}
            for f, _, v in _fields(fbuf):
                if f == 2:
                    tags = _packed(v)
                    feat["properties"] = {keys[tags[j]]: values[tags[j + 1]]
                                          for j in range(0, len(tags), 2)}
                elif f == 3:
                    feat["type"] = {1: "Point", 2: "LineString", 3: "Polygon"}.get(v)
                elif f == 4:
                    feat["geometry"] = _geometry(_packed(v))
            features.append(feat)
        layers[name] = {"extent": extent, "features": features}
    return layers
