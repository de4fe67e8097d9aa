"""Refuse malformed input once, before any view runs (and so before a streamed response starts).

Every request passes through ``guard()``: the path, each query parameter, each header value,
each form field and upload name, and a JSON body are checked for what PostgreSQL or Python
cannot take and no user means: NUL bytes, lone UTF-16 surrogates, JSON nested deeper than
``MAX_DEPTH``, integers outside PostgreSQL's bigint and non-finite or absurd numbers. The
answer is 422 with a message and the field (``InputRejected``), never a 500. The JSON body,
once parsed here, is what ``request.get_json()`` returns to the view (parsed once).

Invalid JSON as such is left to the views, which say in their own words what they expect.
"""
from __future__ import annotations

import json
import math
import re

from flask import request

from gisdesk.errors import InputRejected

BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
MAX_DEPTH = 32                     # the deepest real body (a GeoJSON polygon) needs 6
BIGINT = 2 ** 63 - 1
MAX_FLOAT = 1e15                   # no quantity in the product comes near it
MAX_INT_DIGITS = 19


class _Huge(str):
    """An integer literal too long to be a number of this product (kept to name its field)."""


def _int(literal: str):
    return _Huge(literal) if len(literal.lstrip("-")) > MAX_INT_DIGITS else int(literal)


def _no_constant(name: str):
    return _Huge(name)             # NaN, Infinity, -Infinity: refused with their field below


def check_text(value: str, field: str) -> None:
    """422 when ``value`` holds a NUL byte or a lone surrogate."""
    bad = BAD_TEXT.search(value)
    if bad:
        what = "byte NUL" if bad.group() == "\x00" else "karakter Unicode rusak (surrogate)"
        raise InputRejected(f"Isian '{field}' mengandung {what}; kirim teks biasa.",
                            field=field)


def _check_number(value, field: str) -> None:
    if isinstance(value, _Huge) or (isinstance(value, int) and not isinstance(value, bool)
                                    and abs(value) > BIGINT):
        raise InputRejected(f"Angka pada '{field}' terlalu besar.", field=field)
    if isinstance(value, float) and (not math.isfinite(value) or abs(value) > MAX_FLOAT):
        raise InputRejected(f"Angka pada '{field}' di luar batas.", field=field)


def check_json_value(value) -> None:
    """Walk a parsed JSON value without recursion: depth, text and numbers (named by path)."""
    stack = [(value, "body", 1)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InputRejected(f"JSON bersarang terlalu dalam (paling dalam {MAX_DEPTH}).",
                                field=path)
        if isinstance(item, dict):
            for key, child in item.items():
                check_text(key, path)
                stack.append((child, key if path == "body" else f"{path}.{key}", depth + 1))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item))
        elif isinstance(item, _Huge):
            _check_number(item, path)
        elif isinstance(item, str):
            check_text(item, path)
        else:
            _check_number(item, path)


def parse_json(raw: bytes):
    """The body as JSON, checked; None when it is not JSON at all (the view says so)."""
    try:
        value = json.loads(raw, parse_int=_int, parse_constant=_no_constant)
    except RecursionError:
        raise InputRejected(f"JSON bersarang terlalu dalam (paling dalam {MAX_DEPTH}).",
                            field="body") from None
    except ValueError:
        return None
    check_json_value(value)
    return value


def guard() -> None:
    """before_request: every part of the request a view or the database could read."""
    check_text(request.path, "path")
    for key, values in request.args.lists():
        check_text(key, key)
        for value in values:
            check_text(value, key)
    for name, value in request.headers.items():
        check_text(value, name)
    if request.is_json:
        body = parse_json(request.get_data(cache=True))
        if body is not None:
            # what request.get_json() returns to the view: parsed (and checked) once
            request._cached_json = (body, body)
    elif request.method not in ("GET", "HEAD") and request.mimetype in (
            "multipart/form-data", "application/x-www-form-urlencoded"):
        for key, values in request.form.lists():
            check_text(key, key)
            for value in values:
                check_text(value, key)
        for key, upload in request.files.items():
            check_text(upload.filename or "", key)


def int_param(raw: str | None, field: str, *, lo: int = 0, hi: int = 2 ** 31 - 1,
              default: int | None = None) -> int | None:
    """A whole-number query parameter within [lo, hi], or 422 naming it (checked before any
    query runs or any byte of a streamed answer is sent)."""
    if raw in (None, ""):
        return default
    text_ = raw.strip()
    if not text_.lstrip("-").isdigit() or len(text_) > 12:
        raise InputRejected(f"'{field}' harus bilangan bulat {lo} sampai {hi:,}."
                            .replace(",", "."), field=field)
    value = int(text_)
    if not lo <= value <= hi:
        raise InputRejected(f"'{field}' harus antara {lo} dan {hi:,}.".replace(",", "."),
                            field=field)
    return value
