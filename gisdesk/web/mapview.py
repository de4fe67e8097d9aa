"""The coordinator map page and its JSON: layers (streamed GeoJSON), gap table, totals, search.

Views are thin: they parse the request, call gisdesk.maps / gisdesk.layers.sources, respond.
A layer the user's role may not see answers 404, exactly like one that does not exist.
"""
from __future__ import annotations

import hashlib
import logging

from flask import (Blueprint, Response, current_app, jsonify, render_template, request,
                   url_for)
from flask_login import current_user
from sqlalchemy import text

from gisdesk import layers as registry
from gisdesk.layers import sources as layer_sources
from gisdesk.errors import NotFound
from gisdesk.maps import briefing, data
from gisdesk.maps.builder import map_parts, tiles_threshold
from gisdesk.maps.labels import VOCABULARIES
from gisdesk.web.auth import requires
from gisdesk.web.dbs import read_engine
from gisdesk.web.input_guard import int_param

LOGGER = logging.getLogger(__name__)
bp = Blueprint("mapview", __name__)
PAGING_ARGS = {"bbox", "limit", "offset", "since", "until"}
LIVE_SOURCES = {"incidents"}   # layers the map polls: small, answered with an ETag (304)
POLL_SECONDS = 20


def _engine():
    return read_engine()  # read-only views: the replica when configured (gisdesk.web.dbs)


def _visible() -> dict:
    return registry.visible_layers(current_user.role, current_app.extensions["gisdesk.layers"])


@bp.route("/map")
@requires("view")
def map_page():
    with _engine().connect() as conn:
        election = data.active_election(conn)
        parts = map_parts(
            conn, _visible(), election=election,
            layer_source=lambda layer: {"url": url_for(".layer_geojson", layer_id=layer.id)},
            extra_config={"gaps_url": url_for(".gaps"), "search_url": url_for(".search"),
                          "strip_url": url_for(".strip"), "user": current_user.username,
                          "analysis_url": url_for(".analysis_state"),
                          "analysis_version": election and election["version"],
                          **_plan_config(), **_live_config(conn, election)})
        summary = data.summary(conn, election["id"], **_scope()) if election else None
        kecamatan = conn.execute(text("SELECT kode, nama FROM kecamatan ORDER BY kode")).all()
    return render_template("map.html", parts=parts, election=election, summary=summary,
                           kecamatan=kecamatan, as_of=data.wita(election and election["as_of"]),
                           kelas_labels=VOCABULARIES["kelas"],
                           print_url=url_for(".briefing_page"))


def _plan_config() -> dict:
    """The what-if panel, for those who may move personnel (supervisor, admin)."""
    if not current_user.can("review"):
        return {}
    return {"plan_url": _endpoint_url("bulk.create_plan"), "suggestions_url": url_for(".suggestions")}


def _scope() -> dict:
    """The strip's scope from the URL (the map's filter state): ``kecamatan=52.71.01`` and
    ``kelas=rawan,sangat_rawan`` (absent: every class; empty: none)."""
    kelas = request.args.get("kelas")
    return {"kecamatan_kode": request.args.get("kecamatan") or None,
            "classes": None if kelas is None else [k for k in kelas.split(",") if k]}


@bp.route("/map/strip")
@requires("view")
def strip():
    """The totals strip alone, for the scope the filters picked (map.js swaps it in)."""
    with _engine().connect() as conn:
        election = data.active_election(conn)
        summary = data.summary(conn, election["id"], **_scope()) if election else None
    return render_template("partials/map_strip.html", election=election, summary=summary,
                           as_of=data.wita(election and election["as_of"]),
                           kelas_labels=VOCABULARIES["kelas"])


def _endpoint_url(endpoint: str, **values) -> str | None:
    return url_for(endpoint, **values) if endpoint in current_app.view_functions else None


def _live_config(conn, election) -> dict:
    """What map.js needs for click-to-report, TPS links and polling the live layers."""
    can_report = current_user.can("report")
    pinned = bool(election) and bool(conn.execute(text(
        "SELECT pinned_as_of IS NOT NULL FROM election WHERE id = :e"),
        {"e": election["id"]}).scalar())
    return {
        "can_report": can_report,
        "report_url": _endpoint_url("entry.report_page") if can_report else None,
        # "__TPS__" is replaced by the TPS code in the browser
        "readiness_url": _endpoint_url("readiness.tps_page", tps_kode="__TPS__")
        if can_report else None,
        # where a clicked point falls (inside the election's kelurahan or not)
        "coords_url": _endpoint_url("entry.parse_coordinates") if can_report else None,
        "live_layers": sorted(lid for lid, layer in _visible().items()
                              if layer.source in LIVE_SOURCES),
        "tps_layers": sorted(lid for lid, layer in _visible().items() if layer.source == "tps"),
        "poll_seconds": float(current_app.config.get("MAP_POLL_SECONDS", POLL_SECONDS)),
        # a pinned analysis time (demo, tests) keeps the time filter fixed; else it follows now
        "time_pinned": pinned,
    }


@bp.route("/map/layers/<layer_id>.geojson")
@requires("view")
def layer_geojson(layer_id: str):
    layer = _visible().get(layer_id)
    if layer is None:
        raise NotFound(f"Lapisan '{layer_id}' tidak ada.", field="layer")
    args = {k: request.args.get(k) for k in PAGING_ARGS}
    filters = {k: (v if len(v) > 1 else v[0])
               for k, v in request.args.lists() if k not in PAGING_ARGS}
    conn = _engine().connect()
    try:
        election = data.active_election(conn)
        chunks = layer_sources.geojson_feature_collection(
            conn, layer, election_id=election["id"] if election else None, bbox=args["bbox"],
            filters=filters, limit=_int(args["limit"], "limit"),
            offset=_int(args["offset"], "offset") or 0, since=args["since"],
            until=args["until"])
    except Exception:
        conn.close()
        raise
    if layer.source in LIVE_SOURCES:
        return _with_etag(chunks, conn)
    return Response(_closing(chunks, conn), mimetype="application/geo+json")


def _with_etag(chunks, conn) -> Response:
    """A polled (small) layer: whole body in memory, ETag of its bytes, 304 when unchanged."""
    try:
        body = "".join(chunks).encode()
    finally:
        conn.close()
    etag = hashlib.sha256(body).hexdigest()[:32]
    if etag in request.if_none_match:
        response = Response(status=304)
    else:
        response = Response(body, mimetype="application/geo+json")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache, private"
    return response


def _closing(chunks, conn):
    """Stream the chunks, then give the connection back, even if the client went away."""
    try:
        yield from chunks
    finally:
        conn.close()


def _int(raw: str | None, field: str) -> int | None:
    return int_param(raw, field)


@bp.route("/map/gaps.json")
@requires("view")
def gaps():
    with _engine().connect() as conn:
        election = data.active_election(conn)
        rows = data.gap_rows(conn, election["id"], kecamatan_kode=request.args.get("kecamatan"),
                             limit=_int(request.args.get("limit"), "limit")) if election else []
    return jsonify({"election_id": election and election["id"], "rows": rows})


@bp.route("/map/cetak")
@requires("view")
def briefing_page():
    """The briefing print (A4 landscape) for the city or ``?kecamatan=``."""
    ctx = _briefing()
    kec = {"kecamatan": ctx["summary"]["scope"]["kecamatan_kode"]} if ctx else {}
    return render_template("briefing.html", **(ctx or {}), standalone=False,
                           back_url=url_for(".map_page", **kec),
                           pdf_url=url_for(".briefing_pdf", **kec))


@bp.route("/map/cetak.pdf")
@requires("view")
def briefing_pdf():
    ctx = _briefing()
    body = briefing.pdf(ctx)
    scope = ctx["summary"]["scope"]["kecamatan_kode"] or "kota"
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="briefing-{scope}.pdf"'})


def _briefing() -> dict:
    with _engine().connect() as conn:
        election = data.active_election(conn)
        if election is None:
            raise NotFound("Belum ada pemilihan aktif untuk dicetak.", field="election")
        return briefing.context(conn, election["id"], role=current_user.role,
                                layers=current_app.extensions["gisdesk.layers"],
                                kecamatan_kode=request.args.get("kecamatan") or None,
                                printed_by=current_user.username,
                                big_from=tiles_threshold())


@bp.route("/map/suggestions.json")
@requires("view")
def suggestions():
    """The stored suggestions with what a what-if needs to replay them as moves."""
    with _engine().connect() as conn:
        election = data.active_election(conn)
        limit = _int(request.args.get("limit"), "limit")
        rows = data.suggestion_moves(conn, election["id"], limit=limit) if election else []
    return jsonify({"version": election and election["version"], "rows": rows})


@bp.route("/map/summary.json")
@requires("view")
def summary():
    with _engine().connect() as conn:
        election = data.active_election(conn)
        totals = data.summary(conn, election["id"], **_scope()) if election else None
    if election:
        election = {**election, "voting_date": election["voting_date"].isoformat(),
                    "as_of": election["as_of"] and election["as_of"].isoformat()}
    return jsonify({"election": election, "summary": totals})


@bp.route("/map/analysis.json")
@requires("view")
def analysis_state():
    """The stored results' version and as_of: the map polls it (ETag = version) and reloads
    its analysis layers and gap table when the version changes."""
    with _engine().connect() as conn:
        state = data.results_state(data.active_election(conn))
    etag = f"v{state['version'] or 0}"
    response = Response(status=304) if etag in request.if_none_match else jsonify(state)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache, private"
    return response


@bp.route("/map/search")
@requires("view")
def search():
    with _engine().connect() as conn:
        election = data.active_election(conn)
        hits = data.search(conn, election["id"] if election else -1, request.args.get("q", ""))
    return jsonify({"results": hits})


def init_app(app) -> None:
    layers_dir = app.extensions["gisdesk.settings"].layers_dir
    # invalid layer files stop the app at start, naming file and field (fail early, not per view)
    app.extensions["gisdesk.layers"] = registry.load(layers_dir)
    app.register_blueprint(bp)
