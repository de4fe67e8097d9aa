/* gisdesk coordinator map: the overlays declared in layers/*.toml, drawn on Folium's map,
 * with filters, legend, gap table and search. Same file for the app page (data fetched from
 * /map/layers/<id>.geojson) and the standalone briefing map (data inline in the config). */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("gisdesk-map-config").textContent);
  var map = window[cfg.map];
  var V = cfg.vocabularies;
  // cluster colour = the most worrying class inside (khusus is its own class, shown above rawan)
  var RANK = {kurang_rawan: 1, rawan: 2, khusus: 3, sangat_rawan: 4};
  var svg = L.svg({padding: 0.3}); // polygons in SVG: crisp outlines, DOM paths; points on canvas
  // points get a pane above the polygons, or the kelurahan shading would catch their clicks
  L.control.scale({imperial: false}).addTo(map);   // metres only (Folium's adds feet)
  map.createPane("gd-points").style.zIndex = 450;
  var dots = L.canvas({pane: "gd-points", padding: 0.3});
  passThrough(dots);
  var tiled = cfg.tiled || null;  // big election: TPS and boundaries come as vector tiles
  if (tiled) map.createPane("gd-tiles").style.zIndex = 410;
  var state = {layers: {}, kecamatan: "", classes: null, hours: 24};
  var ref = cfg.election && cfg.election.as_of ? new Date(cfg.election.as_of) : new Date();
  var liveRef = ref;  // ``ref`` moves with the time slider; this is where it returns
  var fmtTime = new Intl.DateTimeFormat("id-ID", {timeZone: "Asia/Makassar", day: "numeric",
    month: "short", year: "numeric", hour: "2-digit", minute: "2-digit"});
  var fmtNum = new Intl.NumberFormat("id-ID");

  // The points' canvas covers the whole map, so the polygons (SVG, below it) never saw a
  // click or a hover. Where no point is hit, hand the event to the path under the pointer.
  function passThrough(renderer) {
    var fire = renderer._fireEvent;
    renderer._fireEvent = function (layers, e, type) {
      if (layers || !this._map || !e || e.clientX === undefined) return fire.call(this, layers, e, type);
      var under = pathUnder(this, e), kind = type || e.type;
      if (kind === "mousemove" && under !== this._gdUnder) {
        if (this._gdUnder) fire.call(this, [this._gdUnder], e, "mouseout");
        if (under) fire.call(this, [under], e, "mouseover");
        this._gdUnder = under;
      }
      return fire.call(this, under ? [under] : false, e, type);
    };
    var out = renderer._handleMouseOut;
    renderer._handleMouseOut = function (e) {  // onto a point, a marker or off the map
      out.call(this, e);
      if (this._gdUnder) fire.call(this, [this._gdUnder], e, "mouseout");
      this._gdUnder = null;
    };
  }
  function pathUnder(renderer, e) {
    var els = document.elementsFromPoint ? document.elementsFromPoint(e.clientX, e.clientY) : [];
    for (var i = 0; i < els.length; i++) {
      if (els[i] === renderer._container || els[i].tagName !== "path") continue;
      var layer = map._targets[L.Util.stamp(els[i])];
      if (layer && layer !== map) return layer;
    }
    return null;
  }
  function $(sel) { return document.querySelector(sel); }
  function esc(v) {
    return String(v).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  function propOf(layer, name) {
    return layer.properties.filter(function (p) { return p.name === name; })[0];
  }
  function fmt(layer, name, value) {
    var prop = propOf(layer, name) || {type: "string"};
    if (value === null || value === undefined || value === "") return "—";
    if (prop.vocabulary && V[prop.vocabulary]) return esc(V[prop.vocabulary][value] || value);
    if (prop.type === "boolean") return value ? "Ya" : "Tidak";
    if (prop.type === "datetime") return esc(fmtTime.format(new Date(value))) + " WITA";
    if (prop.type === "integer" || prop.type === "number") return esc(fmtNum.format(value));
    return esc(value);
  }

  // --- styles -------------------------------------------------------------------------
  function colourFor(layer, p) {
    var s = layer.style, v = p[s.field];
    if (s.kind === "category") return (s.colors[v]) || s.missing_color || "#8a8f98";
    if (s.kind === "graduated") {
      if (v === null || v === undefined) return s.missing_color || "#ffffff";
      var i = 0;
      while (i < s.breaks.length && v >= s.breaks[i]) i++;
      return s.colors[i];
    }
    return s.fill_color || s.color;
  }
  function pathStyle(layer, p) {
    var s = layer.style;
    return {renderer: svg, className: "gd-layer-" + layer.id, color: s.color || "#555", weight: s.weight || 1,
            dashArray: s.dash || null, fill: s.fill !== false, fillColor: colourFor(layer, p),
            fillOpacity: s.fill === false ? 0 : (s.fill_opacity || 0.5)};
  }
  function pointLeaf(layer, p, latlng) {
    var s = layer.style;
    if (s.shape === "diamond" || s.shape === "square") { // few features: DOM icons, distinct shapes
      var size = (s.radius || 6) * 2;
      return L.marker(latlng, {icon: L.divIcon({className: "gd-icon gd-" + s.shape,
        iconSize: [size, size], html: '<span style="background:' + colourFor(layer, p) +
        ";border-color:" + (s.color || "#000") + '"></span>'}), keyboard: false});
    }
    return L.circleMarker(latlng, {renderer: dots, pane: "gd-points", radius: s.radius || 6, color: s.color || "#fff",
      weight: s.weight || 1, fill: s.fill !== false, fillColor: colourFor(layer, p),
      fillOpacity: s.fill === false ? 0 : (s.fill_opacity || 0.9)});
  }

  // --- popups -------------------------------------------------------------------------
  function popupHtml(layer, p, at) {
    var pop = layer.popup || {}, rows = [], lists = [];
    (pop.fields || []).forEach(function (name) {
      var prop = propOf(layer, name);
      if (prop.type === "array") {
        if (p[name] === undefined) return;  // not carried (a vector tile's aggregate)
        var items = p[name] || [];
        lists.push('<div class="gd-reasons"><b>' + esc(prop.title) + "</b>" + (items.length
          ? "<ul>" + items.map(function (r) { return "<li>" + esc(r) + "</li>"; }).join("") + "</ul>"
          : ' <span class="muted">tidak ada catatan</span>') + "</div>");
        return;
      }
      if (p[name] === null || p[name] === undefined || p[name] === "") return;
      var v = fmt(layer, name, p[name]);
      if (prop.vocabulary === "kelas") v = '<i class="gd-chip k-' + esc(p[name]) + '"></i>' + v;
      if (/_gap$/.test(name) && p[name] > 0) v = '<b class="gd-short">' + v + "</b>";
      if (name === "disagree" && p[name]) v = '<b class="gd-short">Ya, periksa penilaiannya</b>';
      rows.push("<tr><th>" + esc(prop.title) + "</th><td>" + v + "</td></tr>");
    });
    var title = pop.title_field ? fmt(layer, pop.title_field, p[pop.title_field]) : esc(layer.title);
    return '<div class="gd-popup"><h3>' + title + '</h3><p class="muted">' + esc(layer.title) +
      "</p>" + lists.join("") + "<table>" + rows.join("") + "</table>" + tpsActions(layer, p, at) + "</div>";
  }

  // --- reporting from the map (only for roles that may report: cfg.can_report) -------------
  var canReport = !!(cfg.can_report && cfg.report_url);
  var NEAR_TPS_M = 150;
  function isTpsLayer(layer) { return (cfg.tps_layers || []).indexOf(layer.id) >= 0; }
  function reportHref(latlng, tps) {
    return cfg.report_url + "?lat=" + latlng.lat.toFixed(6) + "&lon=" + latlng.lng.toFixed(6) +
      (tps ? "&tps=" + encodeURIComponent(tps) : "");
  }
  function tpsActions(layer, p, at) {
    if (!canReport || !isTpsLayer(layer) || !p.tps_kode) return "";
    var st = state.layers[layer.id], item = st && st.items && st.items.filter(function (it) {
      return it.props.tps_kode === p.tps_kode; })[0];
    var links = [], where = at || (item && item.leaf.getLatLng && item.leaf.getLatLng());
    if (where) {
      links.push('<a class="gd-act" data-act="report-tps" href="' + esc(reportHref(where, p.tps_kode)) +
        '">Laporkan kejadian di TPS ini</a>');
    }
    if (cfg.readiness_url) {
      links.push('<a class="gd-act" data-act="readiness" href="' +
        esc(cfg.readiness_url.replace("__TPS__", encodeURIComponent(p.tps_kode))) + '">Perbarui kesiapan</a>');
    }
    return links.length ? '<div class="gd-actions">' + links.join("") + "</div>" : "";
  }
  function nearestTps(latlng) { // any TPS within NEAR_TPS_M, whatever the filters show
    var best = null;
    (cfg.tps_layers || []).forEach(function (id) {
      var st = state.layers[id];
      (st && st.items || []).forEach(function (it) {
        if (!it.leaf || !it.leaf.getLatLng) return;
        var d = map.distance(latlng, it.leaf.getLatLng());
        if (d <= NEAR_TPS_M && (!best || d < best.d)) best = {d: d, props: it.props};
      });
    });
    return best;
  }
  function reportBlock(latlng) {
    var near = nearestTps(latlng), tps = near && near.props.tps_kode;
    return '<div class="gd-report"><p class="gd-coords">' + latlng.lat.toFixed(6) + ", " + latlng.lng.toFixed(6) +
      "</p>" + (near ? '<p class="muted">Dekat ' + esc(near.props.tps_label || ("TPS " + tps.slice(-3))) +
      (near.props.kelurahan_nama ? ", " + esc(near.props.kelurahan_nama) : "") + " (" +
      Math.round(near.d) + " m)</p>" : "") + '<a class="gd-act primary" data-act="report-here" href="' +
      esc(reportHref(latlng, tps)) + '">Buka formulir laporan</a></div>';
  }
  // A click on a point feature opens that feature's popup only. A click on the map background
  // opens "report here"; on a polygon (kelurahan shading covers the city) the polygon's popup
  // gets the same block for the clicked point.
  function markFeatureClick(e) {
    if (e.originalEvent) e.originalEvent.gdFeature = true;
    state.clickAt = {latlng: e.latlng, at: Date.now()};
  }
  function recentClick() {
    var c = state.clickAt;
    state.clickAt = null;
    return c && Date.now() - c.at < 1000 ? c.latlng : null;
  }
  var reportPopup = L.popup({maxWidth: 280, className: "gd-report-popup"});
  // The background may lie outside the city (sea, neighbouring kabupaten, a filtered-away
  // kelurahan): the server says where the point falls, and outside no report is offered,
  // since the server would refuse it. Offline the form is offered (it queues and checks).
  function outsideHtml(d) {
    var km = d.distance_m ? (d.distance_m / 1000).toLocaleString("id-ID", {maximumFractionDigits: 1}) : null;
    return '<div class="gd-popup gd-outside"><h3>Di luar wilayah kerja</h3><p>Titik ini di luar wilayah pemilu' +
      (km ? " (" + km + " km dari batas terdekat" + (d.kelurahan_nama ? ", Kelurahan " +
      esc(d.kelurahan_nama) : "") + ")" : "") + '. Laporan hanya dapat dibuat di dalam wilayah.</p></div>';
  }
  function reportHere(latlng) {
    return '<div class="gd-popup"><h3>Laporkan kejadian di sini</h3>' + reportBlock(latlng) + "</div>";
  }
  if (canReport) {
    map.on("click", function (e) {
      if (e.originalEvent && e.originalEvent.gdFeature) return;
      var latlng = e.latlng;
      reportPopup.setLatLng(latlng).setContent('<div class="gd-popup"><p class="muted">Memeriksa titik…</p></div>').openOn(map);
      if (!cfg.coords_url) { reportPopup.setContent(reportHere(latlng)); return; }
      fetch(cfg.coords_url + "?q=" + encodeURIComponent(latlng.lat.toFixed(6) + ", " + latlng.lng.toFixed(6)),
            {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .catch(function () { return null; })
        .then(function (d) {
          if (!reportPopup.isOpen() || !reportPopup.getLatLng().equals(latlng)) return;  // clicked elsewhere since
          reportPopup.setContent(d && d.inside === false ? outsideHtml(d) : reportHere(latlng));
        });
    });
  }

  // --- layers -------------------------------------------------------------------------
  // A cluster is a ring showing its mix of classes (so one red TPS does not paint a whole
  // district red), with the count inside; its border takes the most worrying class present.
  function clusterIcon(cluster) {
    var worst = "kurang_rawan", n = cluster.getChildCount(), counts = {}, layer = cluster._group.gdLayer;
    cluster.getAllChildMarkers().forEach(function (m) {
      var k = m.feature.properties.kelas || "_none";
      counts[k] = (counts[k] || 0) + 1;
      if ((RANK[k] || 0) > (RANK[worst] || 0)) worst = k;
    });
    var stops = [], at = 0, order = (layer.style.color_order || []).concat(["_none"]);
    order.forEach(function (k) {
      if (!counts[k]) return;
      var colour = layer.style.colors[k] || layer.style.missing_color || "#8a8f98";
      var end = at + counts[k] * 100 / n;
      stops.push(colour + " " + at.toFixed(1) + "% " + end.toFixed(1) + "%");
      at = end;
    });
    var size = n < 10 ? 32 : n < 100 ? 38 : 46;
    return L.divIcon({html: '<div style="background:conic-gradient(' + stops.join(",") +
      ')"><span>' + n + "</span></div>", iconSize: [size, size],
      className: "marker-cluster gd-cluster k-" + worst});
  }
  function makeGroup(layer) {
    if (layer.tiles) return tileLayer(layer);
    if (layer.style.kind === "heat") {
      return cfg.heat && L.heatLayer ? L.heatLayer([], {radius: layer.style.radius || 25,
        blur: layer.style.blur || 15, maxZoom: 16}) : null;
    }
    if (layer.cluster && L.markerClusterGroup) {
      var group = L.markerClusterGroup({chunkedLoading: true, showCoverageOnHover: false,
        maxClusterRadius: 45, disableClusteringAtZoom: 17, spiderfyOnMaxZoom: false,
        iconCreateFunction: clusterIcon});
      group.gdLayer = layer;
      return group;
    }
    return L.featureGroup();
  }
  function addData(layer, fc) {
    var st = state.layers[layer.id];
    st.items = fc.features.filter(function (f) { return f.geometry; }).map(function (f) {
      var p = f.properties, leaf;
      if (layer.geometry === "Point") {
        var c = f.geometry.coordinates, ll = L.latLng(c[1], c[0]);
        if (layer.style.kind === "heat") return {props: p, latlng: ll};
        leaf = pointLeaf(layer, p, ll);
      } else {
        leaf = L.geoJSON(f, {renderer: svg, className: "gd-layer-" + layer.id, style: function () { return pathStyle(layer, p); }})
          .getLayers()[0];
        if (layer.id === "kelurahan" || propOf(layer, "kelurahan_nama")) {
          leaf.bindTooltip(esc(p.kelurahan_nama || ""), {sticky: true, direction: "top"});
        }
      }
      leaf.feature = f;
      leaf.on("click", markFeatureClick);  // before bindPopup's handler: runs first
      var area = canReport && layer.geometry !== "Point";
      leaf.bindPopup(function () {
        var at = area ? recentClick() : null;
        return at ? popupHtml(layer, p).replace(/<\/div>$/, '<h4 class="gd-report-h">Laporkan kejadian di sini</h4>' +
          reportBlock(at) + "</div>") : popupHtml(layer, p);
      }, {maxWidth: 320});
      return {props: p, leaf: leaf};
    });
  }
  function keep(layer, p) {
    if (state.kecamatan && propOf(layer, "kecamatan_kode") &&
        (p.kecamatan_kode || String(p.kelurahan_kode || "").slice(0, 8)) !== state.kecamatan) {
      return false;
    }
    if (state.classes && propOf(layer, "kelas") && !state.classes[p.kelas || "_none"]) return false;
    if (layer.time_field) {
      var hours = layer.style.kind === "heat" ? layer.style.window_hours : state.hours;
      if (hours) {
        var t = new Date(p[layer.time_field]);
        if (t > ref || t < new Date(ref.getTime() - hours * 3600e3)) return false;
      }
    }
    return true;
  }
  // The time slider replays the day: the layers with a time show what had happened by ``at``
  // (within the chosen window); null goes back to the results' time (or now, when live).
  function setTime(at) {
    state.replay = at ? new Date(at) : null;
    ref = state.replay || liveRef;
    cfg.layers.forEach(function (l) { if (l.time_field && state.layers[l.id]) render(l.id); });
  }
  function render(id) {
    var st = state.layers[id], layer = st.config;
    if (st.group && layer.tiles) {  // styles read the filters: draw the tiles again
      if (map.hasLayer(st.group)) st.group.redraw();
      return;
    }
    if (!st.group || !st.items) return;
    var shown = st.items.filter(function (it) { return keep(layer, it.props); });
    st.shown = shown.length;
    if (layer.style.kind === "heat") {
      var w = layer.style.weights || {};
      st.group.setLatLngs(shown.map(function (it) {
        return [it.latlng.lat, it.latlng.lng, w[it.props[layer.style.weight_field]] || 0.5];
      }));
    } else if (st.group.addLayers) {
      st.group.clearLayers();
      st.group.addLayers(shown.map(function (it) { return it.leaf; }));
    } else {
      st.group.clearLayers();
      shown.forEach(function (it) { st.group.addLayer(it.leaf); });
    }
    if (layer.geometry === "MultiPolygon") restack();
    document.body.dispatchEvent(new CustomEvent("gisdesk:rendered", {detail: id}));
  }
  function restack() { // data arrives in any order; outlines must stay above the shading
    cfg.layers.forEach(function (l) {
      var st = state.layers[l.id];
      if (l.geometry === "MultiPolygon" && st && st.group && map.hasLayer(st.group)) st.group.bringToFront();
    });
  }
  function renderAll() { Object.keys(state.layers).forEach(render); renderGaps(); }

  function load(layer) {
    if (layer.data) return Promise.resolve(layer.data);
    return fetch(layer.url, {credentials: "same-origin", headers: {Accept: "application/geo+json"}})
      .then(function (r) {
        if (r.status === 401) { sessionEnded(); throw new Error("401"); }
        if (!r.ok) throw new Error(layer.id + ": HTTP " + r.status);
        var st = state.layers[layer.id];
        if (st) st.etag = r.headers.get("ETag");
        return r.json();
      }).then(function (fc) {
        var st = state.layers[layer.id];
        if (st) st.sig = signature(fc);
        return fc;
      });
  }
  // what "changed" means for a polled layer when there is no ETag: ids, statuses, severities
  function signature(fc) {
    return (fc.features || []).map(function (f) {
      var p = f.properties || {};
      return [f.id, p.status, p.tingkat, p.occurred_at].join(":");
    }).join("|");
  }
  function sessionEnded() {
    status('Sesi Anda berakhir. <a href="/login?next=/map">Masuk lagi</a> untuk memuat data.', true);
  }
  function status(html, bad) {
    var el = $("#map-status");
    if (el) { el.innerHTML = html; el.className = bad ? "map-status bad" : "map-status"; }
  }


  // --- vector tiles (cfg.tiled: an election too big for GeoJSON) ----------------------------
  // Below cfg.tiled.point_min_zoom a TPS tile holds one point per kab/kota, kecamatan or
  // kelurahan (p.level) with counts per class and the personnel shortfall; from there on, the
  // TPS themselves. Styles read the filters; a filter change redraws the tiles.
  if (L.DomEvent && !L.DomEvent.fakeStop) {
    // Leaflet 1.9 dropped fakeStop, which VectorGrid 1.3 calls on a feature click
    L.DomEvent.fakeStop = function (e) { L.DomEvent.stopPropagation(e); };
  }
  var LEVEL = {kabkota: "Kabupaten/kota", kecamatan: "Kecamatan", kelurahan: "Kelurahan/desa", grid: "Kelompok TPS"};
  var CLASS_KEYS = ["kurang_rawan", "rawan", "sangat_rawan", "khusus"];
  function aggCount(p) {
    if (!state.classes) return p.n_tps || 0;
    var n = 0;
    CLASS_KEYS.forEach(function (k) { if (state.classes[k]) n += p["n_" + k] || 0; });
    if (state.classes._none) n += p.n_belum_dinilai || 0;
    return n;
  }
  function aggKept(p) {
    if (!state.kecamatan || !p.kode) return true;
    var k = String(p.kode);
    return k.length <= state.kecamatan.length ? state.kecamatan.indexOf(k) === 0 : k.indexOf(state.kecamatan) === 0;
  }
  function aggColour(layer, p) {  // the most worrying class with a real share (10 %) of the TPS
    var n = p.n_tps || 1, colours = layer.style.colors || {};
    if ((p.n_khusus || 0) / n >= 0.1) return colours.khusus;
    if ((p.n_sangat_rawan || 0) / n >= 0.1) return colours.sangat_rawan;
    if (((p.n_rawan || 0) + (p.n_sangat_rawan || 0)) / n >= 0.1) return colours.rawan;
    return colours.kurang_rawan || "#2e7d32";
  }
  function tileStyle(layer, p) {
    var s = layer.style;
    if (p.level && layer.geometry === "Point") {
      var n = aggCount(p);
      if (!n || !aggKept(p)) return [];
      var short = (p.polri_short || 0) > 0 || (p.linmas_short || 0) > 0;
      return {radius: Math.min(30, 4 + 1.6 * Math.log2(1 + n)), fill: true, fillColor: aggColour(layer, p),
              fillOpacity: 0.75, color: short ? "#b3261e" : "#ffffff", weight: short ? 2.5 : 1.5};
    }
    if (!keep(layer, p)) return [];
    if (layer.geometry === "Point") {
      return {radius: s.radius || 6, fill: s.fill !== false, fillColor: colourFor(layer, p),
              fillOpacity: s.fill === false ? 0 : (s.fill_opacity || 0.9), color: s.color || "#fff",
              weight: s.weight || 1};
    }
    var st = pathStyle(layer, p);
    delete st.renderer;
    delete st.className;
    return st;
  }
  function tileLayer(layer) {
    if (!L.vectorGrid) return null;
    var styles = {}, key = layer.properties[0].name, seq = 0;
    styles[layer.id] = function (p) { return tileStyle(layer, p); };
    var grid = L.vectorGrid.protobuf(layer.tiles, {
      rendererFactory: L.canvas.tile, vectorTileLayerStyles: styles, interactive: true,
      pane: layer.geometry === "Point" ? "gd-points" : "gd-tiles", maxZoom: tiled.max_zoom || 19,
      fetchOptions: {credentials: "same-origin"},
      // an id per feature also makes VectorGrid keep each tile's features (tileStats)
      getFeatureId: function (f) { var p = f.properties || {}; return p.kode || p[key] || "f" + (++seq); }});
    // Leaflet 1.9 asks a clicked small circle for getLatLng(); VectorGrid's points have no
    // latlng of their own (only a point in their tile): give them one
    var createLayer = grid._createLayer;
    grid._createLayer = function (feat, pxPerExtent) {
      var made = createLayer.call(this, feat, pxPerExtent);
      if (made._point && !made._latlng) {
        made.getLatLng = function () {
          var r = this._renderer;
          return r && r._map ? r._map.layerPointToLatLng(this._point.add(r.getOffset())) : map.getCenter();
        };
      }
      return made;
    };
    grid.on("click", function (e) { tileClick(layer, e); });
    grid.on("load", function () { document.body.dispatchEvent(new CustomEvent("gisdesk:tiles", {detail: layer.id})); });
    return grid;
  }
  function tilesReady(group) {  // the first tiles in view have arrived (or 20 s passed)
    if (!map.hasLayer(group)) return Promise.resolve();
    return new Promise(function (resolve) {
      group.once("load", resolve);
      setTimeout(resolve, 20000);
    });
  }
  function aggPopup(layer, p) {
    var rows = [], V_K = V.kelas || {};
    function row(label, v, short) {
      rows.push("<tr><th>" + esc(label) + "</th><td>" + (short && v > 0 ? '<b class="gd-short">' + fmtNum.format(v) + "</b>" : fmtNum.format(v || 0)) + "</td></tr>");
    }
    row("Jumlah TPS", p.n_tps);
    CLASS_KEYS.concat(["belum_dinilai"]).forEach(function (k) {
      if (p["n_" + k]) rows.push('<tr><th><i class="gd-chip k-' + k + '"></i>' + esc(V_K[k] || (k === "belum_dinilai" ? "Belum dinilai" : k)) +
        "</th><td>" + fmtNum.format(p["n_" + k]) + "</td></tr>");
    });
    if (p.n_kelurahan > 1) row("Kelurahan/desa", p.n_kelurahan);
    if (p.kelurahan_short !== undefined && p.n_kelurahan > 1) row("Kelurahan/desa kekurangan personel", p.kelurahan_short, true);
    if (p.polri_required !== undefined) {
      row("Polri dibutuhkan", p.polri_required); row("Polri ditugaskan", p.polri_assigned);
      row("Kekurangan Polri", p.polri_short, true);
      row("Linmas dibutuhkan", p.linmas_required); row("Linmas ditugaskan", p.linmas_assigned);
      row("Kekurangan Linmas", p.linmas_short, true);
      row("TPS belum siap", p.not_ready); row("Kejadian terbaru", p.incidents_recent);
    }
    return '<div class="gd-popup gd-agg"><h3>' + esc(p.nama || p.kode || LEVEL[p.level]) + '</h3><p class="muted">' +
      esc(LEVEL[p.level] || "") + (p.kode && p.level !== "kabkota" ? " " + esc(p.kode) : "") + " · " + esc(layer.title) +
      "</p><table>" + rows.join("") + '</table><p class="muted small">Perbesar peta untuk melihat TPS satu per satu.</p></div>';
  }
  function withReport(layer, html, at) {
    return canReport && layer.geometry !== "Point" ? html.replace(/<\/div>$/, '<h4 class="gd-report-h">Laporkan kejadian di sini</h4>' +
      reportBlock(at) + "</div>") : html;
  }
  function tileClick(layer, e) {
    var p = (e.layer && e.layer.properties) || {}, at = e.latlng;
    var popup = L.popup({maxWidth: 320}).setLatLng(at);
    if (p.level && (layer.geometry === "Point" || p.level !== "kecamatan" || !propOf(layer, "kecamatan_kode"))) {
      popup.setContent(aggPopup(layer, p)).openOn(map);
      return;
    }
    if (p.level === "kecamatan") {  // kelurahan layer at low zoom: kecamatan with gaps summed
      popup.setContent(withReport(layer, popupHtml(layer, Object.assign({}, p, {kelurahan_nama: "Kecamatan " +
        (p.kecamatan_nama || p.kecamatan_kode)})), at)).openOn(map);
      return;
    }
    var key = layer.properties[0].name, id = p[key];
    if (!tiled.item_url || id === undefined || id === null) {
      popup.setContent(withReport(layer, popupHtml(layer, p, at), at)).openOn(map);
      return;
    }
    popup.setContent('<div class="gd-popup"><p class="muted">Memuat…</p></div>').openOn(map);
    var url = tiled.item_url.replace("__LAYER__", encodeURIComponent(layer.id)).replace("__ID__", encodeURIComponent(id));
    fetch(url + "?f=json", {credentials: "same-origin", headers: {Accept: "application/geo+json"}})
      .then(function (r) {
        if (r.status === 401) { sessionEnded(); throw new Error("401"); }
        return r.ok ? r.json() : {properties: p};
      })
      .then(function (f) { popup.setContent(withReport(layer, popupHtml(layer, f.properties || p, at), at)); },
            function () { popup.setContent(withReport(layer, popupHtml(layer, p, at), at)); });
  }
  function tileStats() {  // what the tiles in view hold (for the tests and the curious)
    var out = {};
    cfg.layers.forEach(function (l) {
      var st = state.layers[l.id], g = st && st.group;
      if (!l.tiles || !g || !g._vectorTiles) return;
      var c = {features: 0, levels: {}};
      Object.keys(g._vectorTiles).forEach(function (k) {
        var r = g._vectorTiles[k];
        Object.keys(r._layers || {}).forEach(function (id) {
          var f = r._layers[id], lvl = (f.properties && f.properties.level) || "feature";
          c.features++;
          c.levels[lvl] = (c.levels[lvl] || 0) + 1;
        });
      });
      out[l.id] = c;
    });
    return out;
  }
  function searchBox(kind, kode) {  // where a kelurahan/kecamatan is, without its polygon
    return fetch(cfg.search_url + "?q=" + encodeURIComponent(kode), {credentials: "same-origin",
      headers: {Accept: "application/json"}}).then(function (r) { return r.ok ? r.json() : {results: []}; })
      .then(function (j) { return (j.results || []).filter(function (h) { return h.kind === kind && h.kode === kode; })[0]; });
  }

  // --- layer control and legend -------------------------------------------------------------
  var bases = {"Tanpa peta dasar": L.layerGroup()};
  (cfg.basemaps || []).forEach(function (b) { bases[b.name] = window[b.var]; });
  var chosen = null;
  try { chosen = window.localStorage.getItem("gisdesk.basemap"); } catch (e) { /* private mode */ }
  (bases[chosen] || bases["Tanpa peta dasar"]).addTo(map);
  map.on("baselayerchange", function (e) {
    try { window.localStorage.setItem("gisdesk.basemap", e.name); } catch (err) { /* ignore */ }
  });
  var overlays = {};
  var control = L.control.layers(bases, overlays, {collapsed: false}).addTo(map);
  // Layer control and legend fold away behind their titles (they cover the east of the city);
  // each user's choice is kept in this browser.
  var memoryKey = "gisdesk." + (cfg.user || "-") + ".";
  function remembered(name, fallback) {
    try { var v = window.localStorage.getItem(memoryKey + name); return v === null ? fallback : v === "1"; }
    catch (e) { return fallback; }
  }
  function remember(name, on) {
    try { window.localStorage.setItem(memoryKey + name, on ? "1" : "0"); } catch (e) { /* private mode */ }
  }
  (function foldableControl() {
    var box = control.getContainer(), button = L.DomUtil.create("button", "gd-fold");
    button.type = "button";
    button.textContent = "Lapisan";
    box.insertBefore(button, box.firstChild);
    function set(open) {
      box.classList.toggle("gd-folded", !open);
      button.setAttribute("aria-expanded", open ? "true" : "false");
    }
    set(remembered("layers_open", false));  // folded until this user opens it
    L.DomEvent.on(button, "click", function (e) {
      L.DomEvent.stop(e);
      var open = box.classList.contains("gd-folded");
      set(open);
      remember("layers_open", open);
    });
  })();

  var legend = L.control({position: "bottomright"});
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "gd-legend");
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  legend.addTo(map);
  function swatch(colour, cls) { return '<i class="' + (cls || "") + '" style="background:' + colour + '"></i>'; }
  function legendEntries(layer) {
    var s = layer.style, out = [];
    var shape = layer.geometry === "MultiPolygon" ? "sq" : (s.shape || "dot");
    if (s.kind === "category") {
      var vocab = V[(propOf(layer, s.field) || {}).vocabulary] || {};
      (s.color_order || Object.keys(s.colors)).forEach(function (k) {
        var label = vocab[k] || k;
        if (out.some(function (e) { return e.indexOf(">" + esc(label) + "<") >= 0; })) return;
        out.push(swatch(s.colors[k], shape) + "<span>" + esc(label) + "</span>");
      });
      if (s.missing_label) out.push(swatch(s.missing_color, shape) + "<span>" + esc(s.missing_label) + "</span>");
    } else if (s.kind === "graduated") {
      s.colors.forEach(function (c, i) {
        out.push(swatch(c, "sq") + "<span>" + esc((s.labels || [])[i] || "") + "</span>");
      });
    } else if (s.kind === "heat") {
      out.push('<i class="heat"></i><span>sedikit → banyak</span>');
    } else if (layer.geometry === "MultiPolygon" && s.fill === false) {
      out.push('<i class="line" style="border-top-color:' + s.color + (s.dash ? ";border-top-style:dashed" : "") +
        '"></i><span>' + esc(layer.title) + "</span>");
    } else {
      out.push(swatch(s.fill === false ? "transparent" : (s.fill_color || s.color),
        shape + (s.fill === false ? " ring" : "")).replace("<i ", '<i data-c="' + s.color + '" ') +
        "<span>" + esc(layer.title) + "</span>");
    }
    return out;
  }
  function renderLegend() {
    var html = cfg.layers.filter(function (l) {
      var st = state.layers[l.id]; return st && st.group && map.hasLayer(st.group);
    }).map(function (l) {
      var entries = legendEntries(l);
      if (l.tiles && l.geometry === "Point" && isTpsLayer(l)) {
        entries.push('<i class="dot agg"></i><span>Lingkaran besar: jumlah TPS per kab/kota, kecamatan atau ' +
          "kelurahan (tepi merah: kurang personel). Perbesar untuk melihat TPS.</span>");
      }
      return "<section><h4>" + esc(l.title) + "</h4>" + entries.map(function (e) {
        return '<div class="row">' + e + "</div>"; }).join("") + "</section>";
    }).join("");
    // on phones the map needs the room: folded unless this user opened it
    var open = remembered("legend_open", window.innerWidth >= 800) ? " open" : "";
    legend.getContainer().innerHTML = "<details" + open + "><summary>Legenda</summary>" +
      (html || '<p class="muted">Tidak ada lapisan aktif.</p>') + "</details>";
    legend.getContainer().querySelector("details").addEventListener("toggle", function (e) {
      remember("legend_open", e.target.open);
    });
    legend.getContainer().querySelectorAll("i[data-c]").forEach(function (i) {
      i.style.borderColor = i.getAttribute("data-c");
    });
  }
  map.on("overlayadd overlayremove", renderLegend);

  // --- filters ----------------------------------------------------------------------------
  function readFilters() {
    var sel = $("#f-kecamatan"), boxes = document.querySelectorAll("input[name=kelas]");
    state.kecamatan = sel ? sel.value : "";
    if (boxes.length) {
      state.classes = {};
      boxes.forEach(function (b) { state.classes[b.value] = b.checked; });
    }
    var win = document.querySelector("input[name=window]:checked");
    state.hours = win ? Number(win.value) : 24;
  }
  function onFilter(e) {
    applyFilters(e && e.target && e.target.id === "f-kecamatan", "user");
  }
  // Read the filter controls and redraw; ``by`` says who changed them ("user", "url"), for
  // the listeners of gisdesk:filters (the address bar, the totals strip).
  function applyFilters(kecamatanChanged, by) {
    readFilters();
    if (tiled && kecamatanChanged) loadGaps();
    renderAll();
    if (kecamatanChanged) zoomToKecamatan(state.kecamatan);
    document.body.dispatchEvent(new CustomEvent("gisdesk:filters", {detail: {by: by,
      kecamatan: state.kecamatan, classes: state.classes, hours: state.hours}}));
  }
  function zoomToKecamatan(kode) {
    if (tiled && kode) {
      searchBox("kecamatan", kode).then(function (h) {
        if (h && h.bbox) map.fitBounds([[h.bbox[1], h.bbox[0]], [h.bbox[3], h.bbox[2]]], {padding: [20, 20]});
      });
      return;
    }
    var kec = state.layers.kecamatan;
    var item = kode && kec && kec.items && kec.items.filter(function (it) {
      return it.props.kecamatan_kode === kode; })[0];
    if (item) map.fitBounds(item.leaf.getBounds(), {padding: [20, 20]});
    else map.fitBounds(cfg.bounds);
  }
  document.querySelectorAll("#map-filters select, #map-filters input").forEach(function (el) {
    el.addEventListener("change", onFilter);
  });

  // --- gap table ------------------------------------------------------------------------
  var gaps = cfg.gaps || null;
  function renderGaps() {
    var body = $("#gap-rows");
    if (!body || !gaps) return;
    var rows = (state.preview || gaps).filter(function (g) {
      return (!state.kecamatan || g.kecamatan_kode === state.kecamatan) &&
             (g.polri_gap > 0 || g.linmas_gap > 0 || g.whatif);
    });
    var limit = Number(body.getAttribute("data-limit") || 15);
    $("#gap-count").textContent = rows.length ? rows.length + " kelurahan kekurangan personel" :
      "Tidak ada kelurahan yang kekurangan personel.";
    body.innerHTML = rows.slice(0, limit).map(function (g) {
      var reasons = (g.reasons || []).slice(0, 2).map(esc).join("; ");
      function n(v, short) { return '<td class="num' + (short && v > 0 ? " short" : "") + '">' + fmtNum.format(v) + "</td>"; }
      var kode = esc(g.kelurahan_kode);
      var changed = g.whatif ? " whatif" : "";
      return '<tr tabindex="0" class="main' + changed + '" data-kode="' + kode + '"><td><b>' +
        esc(g.kelurahan_nama) + '</b><small>' + esc(g.kecamatan_nama) + "</small></td>" +
        n(g.polri_required) + n(g.polri_assigned) + n(Math.max(g.polri_gap, 0), true) +
        n(g.linmas_required) + n(g.linmas_assigned) + n(Math.max(g.linmas_gap, 0), true) + "</tr>" +
        '<tr class="why' + changed + '" data-kode="' + kode + '"><td colspan="7">' + (g.whatif ? "<b>Simulasi:</b> " + esc(g.whatif) + "; " : "") +
        (reasons || "&nbsp;") + "</td></tr>";
    }).join("");
  }
  // The what-if (map_whatif.js) shows gaps as they would be after its moves: the table and the
  // kelurahan shading read these rows until preview(null) puts the stored results back.
  function preview(rows) {
    state.preview = rows;
    var st = state.layers.kelurahan, byKode = {};
    (rows || []).forEach(function (g) { byKode[g.kelurahan_kode] = g; });
    (st && st.items || []).forEach(function (it) {
      var g = byKode[it.props.kelurahan_kode];
      it.leaf.setStyle(pathStyle(st.config, g ? Object.assign({}, it.props, {polri_gap: g.polri_gap,
        linmas_gap: g.linmas_gap}) : it.props));
    });
    renderGaps();
  }
  function onGapRow(e) {
    var tr = e.target.closest("tr[data-kode]");
    if (!tr || (e.type === "keydown" && e.key !== "Enter")) return;
    document.querySelectorAll("#gap-rows tr").forEach(function (r) {
      r.classList.toggle("selected", r.getAttribute("data-kode") === tr.getAttribute("data-kode"));
    });
    selectKelurahan(tr.getAttribute("data-kode"));
  }
  function selectKelurahan(kode) {
    if (tiled) {
      searchBox("kelurahan", kode).then(function (h) {
        if (!h || !h.bbox) return;
        var mapEl = map.getContainer();
        if (mapEl.getBoundingClientRect().top < 0 || window.innerWidth < 800) mapEl.scrollIntoView({block: "start"});
        map.fitBounds([[h.bbox[1], h.bbox[0]], [h.bbox[3], h.bbox[2]]], {padding: [30, 30], maxZoom: 16, animate: false});
      });
      return true;
    }
    var st = state.layers.kelurahan;
    if (!st || !st.items) return false;
    var item = st.items.filter(function (it) { return it.props.kelurahan_kode === kode; })[0];
    if (!item) return false;
    if (!map.hasLayer(st.group)) map.addLayer(st.group);
    if (!st.group.hasLayer(item.leaf)) st.group.addLayer(item.leaf);
    var mapEl = map.getContainer();
    if (mapEl.getBoundingClientRect().top < 0 || window.innerWidth < 800) {
      mapEl.scrollIntoView({block: "start"});
    }
    map.fitBounds(item.leaf.getBounds(), {padding: [30, 30], maxZoom: 16, animate: false});
    item.leaf.openPopup();
    return true;
  }
  var gapBody = $("#gap-rows");
  if (gapBody) { gapBody.addEventListener("click", onGapRow); gapBody.addEventListener("keydown", onGapRow); }
  function gapsUrl() {  // a big election: the largest gaps only, per kecamatan when one is picked
    if (!tiled) return cfg.gaps_url;
    return cfg.gaps_url + "?limit=" + (tiled.gaps_limit || 300) +
      (state.kecamatan ? "&kecamatan=" + encodeURIComponent(state.kecamatan) : "");
  }
  function loadGaps() {
    return fetch(gapsUrl(), {credentials: "same-origin",
      headers: {Accept: "application/json"}}).then(function (r) { return r.ok ? r.json() : {rows: []}; })
      .then(function (j) { gaps = j.rows; renderGaps(); });
  }
  var gapsLoaded = gaps ? Promise.resolve().then(renderGaps) : (cfg.gaps_url ? loadGaps() : Promise.resolve());

  // --- search ----------------------------------------------------------------------------
  var searchTimer = null;
  function localSearch(q) {
    q = q.toLowerCase();
    var hits = [];
    ["kelurahan", "tps"].forEach(function (id) {
      var st = state.layers[id];
      (st && st.items || []).forEach(function (it) {
        var p = it.props, label = id === "tps" ? p.tps_label + ", " + p.kelurahan_nama : p.kelurahan_nama;
        if (hits.length < 12 && (label.toLowerCase().indexOf(q) >= 0 || (p.tps_kode || "") === q)) {
          hits.push({kind: id, kode: p.tps_kode || p.kelurahan_kode, label: label});
        }
      });
    });
    return Promise.resolve(hits);
  }
  var searchSeq = 0;  // a newer search (or a choice) makes older answers stale
  function doSearch(pickFirst) {
    var q = $("#map-search").value.trim(), out = $("#search-results"), seq = ++searchSeq;
    if (q.length < 2 && !/^\d+$/.test(q)) { out.innerHTML = ""; return; }
    var found = cfg.search_url ? fetch(cfg.search_url + "?q=" + encodeURIComponent(q),
      {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { return r.ok ? r.json() : {results: []}; })
      .then(function (j) { return j.results; }) : localSearch(q);
    found.then(function (hits) {
      if (seq !== searchSeq) return;
      if (pickFirst && hits.length) { goTo(hits[0]); return; }
      out.innerHTML = hits.length ? hits.map(function (h, i) {
        return '<li><button type="button" data-i="' + i + '">' + esc(h.label) + "</button></li>";
      }).join("") : '<li class="muted">Tidak ditemukan.</li>';
      out.querySelectorAll("button").forEach(function (b) {
        b.addEventListener("click", function () { goTo(hits[Number(b.getAttribute("data-i"))]); });
      });
    });
  }
  // A chosen hit: the list closes, the map goes there and the place is marked. A TPS gets
  // its popup and a ring around it (among a field of identical dots), whatever the filters.
  var highlight = L.layerGroup().addTo(map);
  map.createPane("gd-found").style.zIndex = 460;  // above the points' canvas, lets clicks through
  map.getPane("gd-found").style.pointerEvents = "none";
  var ringRenderer = L.svg({pane: "gd-found"});
  function closeResults() {
    var out = $("#search-results");
    clearTimeout(searchTimer);
    searchSeq++;
    if (out) out.innerHTML = "";
  }
  function goTo(hit) {
    closeResults();
    highlight.clearLayers();
    if (hit.kind === "kelurahan" && selectKelurahan(hit.kode)) return;
    if (hit.kind === "tps") { showTps(hit); return; }
    if (hit.bbox) map.fitBounds([[hit.bbox[1], hit.bbox[0]], [hit.bbox[3], hit.bbox[2]]]);
  }
  function showTps(hit) {
    var st = state.layers.tps, item = st && st.items && st.items.filter(function (it) {
      return it.props.tps_kode === hit.kode; })[0];
    var where = item ? item.leaf.getLatLng() : hit.point && L.latLng(hit.point[1], hit.point[0]);
    if (!where) return;
    map.setView(where, Math.max(map.getZoom(), 18), {animate: false});
    L.circleMarker(where, {radius: 16, color: "#0b5cad", weight: 4, fill: false, interactive: false,
      className: "gd-found", renderer: ringRenderer, pane: "gd-found"}).addTo(highlight);
    var html = item ? popupHtml(st.config, item.props, where) : '<div class="gd-popup"><h3>' + esc(hit.label) + "</h3></div>";
    L.popup({maxWidth: 320, className: "gd-found-popup"}).setLatLng(where).setContent(html).openOn(map);
  }
  map.on("popupclose", function (e) {
    if (e.popup.options.className === "gd-found-popup") highlight.clearLayers();
  });
  var search = $("#map-search");
  if (search) {
    search.addEventListener("input", function () { clearTimeout(searchTimer); searchTimer = setTimeout(doSearch, 250); });
    // Enter takes the first hit; Escape closes the list; arrow down walks into it
    search.form && search.form.addEventListener("submit", function (e) { e.preventDefault(); doSearch(true); });
    search.form && search.form.addEventListener("keydown", function (e) {
      var buttons = Array.prototype.slice.call(document.querySelectorAll("#search-results button"));
      var at = buttons.indexOf(document.activeElement);
      if (e.key === "Escape") { closeResults(); search.focus(); }
      else if (e.key === "ArrowDown" && buttons.length) { e.preventDefault(); buttons[Math.min(at + 1, buttons.length - 1)].focus(); }
      else if (e.key === "ArrowUp" && at >= 0) { e.preventDefault(); (at ? buttons[at - 1] : search).focus(); }
    });
  }

  // --- start --------------------------------------------------------------------------------
  map.fitBounds(cfg.bounds);
  readFilters();
  status("Memuat lapisan…");
  var loads = cfg.layers.map(function (layer) {
    var group = makeGroup(layer);
    state.layers[layer.id] = {config: layer, group: group, items: null, shown: 0};
    if (!group) return Promise.resolve();
    control.addOverlay(group, esc(layer.title));
    if (layer.default_visible) group.addTo(map);
    if (layer.tiles) return tilesReady(group);
    return load(layer).then(function (fc) { addData(layer, fc); render(layer.id); });
  });
  var ready = Promise.allSettled(loads.concat([gapsLoaded])).then(function (results) {
    var failed = results.filter(function (r) { return r.status === "rejected"; });
    if (!failed.length) status("");
    else if (String(failed[0].reason).indexOf("401") < 0) status("Sebagian lapisan gagal dimuat. Muat ulang halaman.", true);
    renderLegend();
    window.gisdesk.readyAt = performance.now();  // measured by the browser tests
    document.body.setAttribute("data-map-ready", failed.length ? "partial" : "1");
  });

  // --- live layers: incidents (and their heat) polled, redrawn only when they changed ------
  var fmtClock = new Intl.DateTimeFormat("en-GB", {timeZone: "Asia/Makassar", hour: "2-digit",
    minute: "2-digit", hourCycle: "h23"});
  var live = {ids: (cfg.live_layers || []).filter(function (id) {
                var l = state.layers[id]; return l && l.group && l.config.url; }),
              base: Math.max(Number(cfg.poll_seconds) || 20, 0.2) * 1000, failures: 0,
              timer: null, busy: false, stopped: false, updatedAt: null, polls: 0, changes: 0};
  live.delay = live.base;
  function showUpdated(note) {
    var el = $("#live-updated");
    if (!el || !live.updatedAt) return;
    // One clock on the page: the strip's "keadaan per" (the results' time). This line only
    // speaks when refreshing fails, saying since when the page has not been refreshed.
    el.textContent = note ? "Data terakhir dimuat " + fmtClock.format(live.updatedAt) + " WITA · " + note : "";
    el.classList.toggle("bad", !!note);
  }
  function pollLayer(id) {
    var st = state.layers[id], headers = {Accept: "application/geo+json"};
    if (st.etag) headers["If-None-Match"] = st.etag;
    return fetch(st.config.url, {credentials: "same-origin", cache: "no-store", headers: headers})
      .then(function (r) {
        if (r.status === 401) { live.stopped = true; sessionEnded(); throw new Error("401"); }
        if (r.status === 304) return false;
        if (!r.ok) throw new Error(id + ": HTTP " + r.status);
        var etag = r.headers.get("ETag");
        return r.json().then(function (fc) {
          st.etag = etag;
          var sig = signature(fc);
          if (sig === st.sig && st.items) return false;
          st.sig = sig;
          if (!cfg.time_pinned) liveRef = new Date();
          if (!state.replay) ref = liveRef;
          addData(st.config, fc);
          render(id);
          return true;
        });
      });
  }
  // analysis results: reload their layers and the gap table when the version changes
  var results = {version: cfg.analysis_version, etag: null, reloads: 0};
  function pollResults() {
    if (!cfg.analysis_url) return Promise.resolve(false);
    var headers = {Accept: "application/json"};
    if (results.etag) headers["If-None-Match"] = results.etag;
    return fetch(cfg.analysis_url, {credentials: "same-origin", cache: "no-store", headers: headers})
      .then(function (r) {
        if (r.status === 401) { live.stopped = true; sessionEnded(); throw new Error("401"); }
        if (r.status === 304) return false;
        if (!r.ok) throw new Error("analysis: HTTP " + r.status);
        results.etag = r.headers.get("ETag");
        return r.json().then(function (j) {
          var el = $("#analysis-as-of");
          if (el) el.textContent = j.keadaan || j.pesan || "";
          if (j.version === results.version) return false;
          results.version = j.version;
          return reloadResults().then(function () {
            results.reloads++;
            document.body.dispatchEvent(new CustomEvent("gisdesk:results", {detail: j}));
            return true;
          });
        });
      });
  }
  function reloadResults() {
    var jobs = cfg.layers.filter(function (l) { return live.ids.indexOf(l.id) < 0; }).map(function (layer) {
      var st = state.layers[layer.id];
      if (!st || !st.group) return null;
      if (layer.tiles) {  // new URL: the browser's cached tiles of the old results are not reused
        if (st.group.setUrl && st.group._url) {
          st.baseUrl = st.baseUrl || st.group._url;
          st.group.setUrl(st.baseUrl + (st.baseUrl.indexOf("?") < 0 ? "?" : "&") + "v=" + results.version);
        }
        return null;
      }
      if (!layer.url) return null;
      return load(layer).then(function (fc) { addData(layer, fc); render(layer.id); });
    });
    if (cfg.gaps_url) jobs.push(loadGaps());
    return Promise.all(jobs);
  }
  function schedule(ms) {
    clearTimeout(live.timer);
    live.timer = null;
    if (live.stopped || document.hidden || (!live.ids.length && !cfg.analysis_url)) return;
    live.timer = setTimeout(poll, ms);
  }
  function poll() {
    live.timer = null;
    if (live.busy || live.stopped || document.hidden) return;
    live.busy = true;
    Promise.all(live.ids.map(pollLayer).concat([pollResults()])).then(function (changed) {
      live.polls++;
      if (changed.some(Boolean)) { live.changes++; renderLegend(); }
      live.failures = 0;
      live.delay = live.base;
      live.updatedAt = new Date();
      showUpdated();
    }, function () {
      live.failures++;  // back off: 2x, 4x ... the interval, at most 5 minutes
      live.delay = Math.min(live.base * Math.pow(2, live.failures), 300000);
      showUpdated("gagal memperbarui, dicoba lagi dalam " + Math.round(live.delay / 1000) + " dtk");
    }).then(function () {
      live.busy = false;
      document.body.dispatchEvent(new CustomEvent("gisdesk:polled", {detail: live.polls}));
      schedule(live.delay);
    });
  }
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) { clearTimeout(live.timer); live.timer = null; }
    else if (!live.timer && !live.busy) poll();  // back on the tab: catch up at once
  });
  ready.then(function () {
    live.updatedAt = new Date();
    showUpdated();
    schedule(live.delay);
  });

  window.gisdesk = {map: map, layers: state.layers, ready: ready, selectKelurahan: selectKelurahan,
                    applyFilters: applyFilters, config: cfg, esc: esc, fmtNum: fmtNum,
                    setTime: setTime, preview: preview, gaps: function () { return gaps; },
                    state: state, live: live, poll: poll, tiled: tiled, tileStats: tileStats,
                    results: results};
})();
