/* gisdesk "Unduh" control: one link per visible layer the user may export, to
 * /export/<layer>.<fmt> with the map's filters (kecamatan_kode, kelas as a CQL2 filter, the
 * incident time window as datetime) and its view (bbox). Parameter names are the API's and
 * the CLI's. Self-contained: it only reads the map (window.gisdesk) and the filter form. */
(function () {
  "use strict";
  var box = document.getElementById("map-download");
  if (!box) return;
  var allowed = JSON.parse(box.dataset.layers);
  var cfgEl = document.getElementById("gisdesk-map-config");
  var cfg = cfgEl ? JSON.parse(cfgEl.textContent) : {};
  var ref = cfg.election && cfg.election.as_of ? new Date(cfg.election.as_of) : new Date();

  function has(layer, name) {
    return layer.properties.some(function (p) { return p.name === name; });
  }
  function quote(v) { return "'" + String(v).replace(/'/g, "''") + "'"; }

  function params(layer, map) {
    var q = [], kec = document.getElementById("f-kecamatan");
    if (document.getElementById("download-view").checked) {
      var b = map.getBounds();
      q.push(["bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) {
        return v.toFixed(6); }).join(",")]);
    }
    if (kec && kec.value && has(layer, "kecamatan_kode")) q.push(["kecamatan_kode", kec.value]);
    var boxes = Array.prototype.slice.call(document.querySelectorAll("input[name=kelas]"));
    var on = boxes.filter(function (b) { return b.checked; });
    if (has(layer, "kelas") && boxes.length && on.length < boxes.length) {
      var named = on.filter(function (b) { return b.value !== "_none"; }).map(function (b) {
        return quote(b.value); });
      var parts = named.length ? ["kelas IN (" + named.join(", ") + ")"] : [];
      if (on.some(function (b) { return b.value === "_none"; })) parts.push("kelas IS NULL");
      q.push(["filter", parts.length ? parts.join(" OR ") : "kelas IS NULL AND kelas IS NOT NULL"]);
    }
    var win = document.querySelector("input[name=window]:checked");
    var hours = layer.style && layer.style.kind === "heat" ? layer.style.window_hours
      : (win ? Number(win.value) : 0);
    if (layer.time_field && hours) {
      var from = new Date(ref.getTime() - hours * 3600e3);
      q.push(["datetime", from.toISOString() + "/" + ref.toISOString()]);
    }
    return q.map(function (kv) {
      return encodeURIComponent(kv[0]) + "=" + encodeURIComponent(kv[1]); }).join("&");
  }

  function render() {
    var gd = window.gisdesk, fmt = document.getElementById("download-format").value;
    var list = document.getElementById("download-links");
    if (!gd || !gd.map) return;
    var items = allowed.filter(function (a) {
      var st = gd.layers[a.id];
      return st && st.group && gd.map.hasLayer(st.group);
    }).map(function (a) {
      var layer = gd.layers[a.id].config;
      var href = box.dataset.base.replace("__LAYER__", encodeURIComponent(a.id))
        .replace("__FMT__", fmt);
      var query = params(layer, gd.map);
      var link = document.createElement("a");
      link.href = href + (query ? "?" + query : "");
      link.className = "download-link";
      link.dataset.layer = a.id;
      link.setAttribute("download", "");
      link.textContent = "Unduh " + a.title;
      var li = document.createElement("li");
      li.appendChild(link);
      return li;
    });
    list.replaceChildren.apply(list, items);
    if (!items.length) list.innerHTML = '<li class="muted">Tidak ada lapisan tampil yang boleh diunduh.</li>';
  }

  function start() {
    var gd = window.gisdesk;
    if (!gd || !gd.ready) { window.setTimeout(start, 100); return; }
    gd.ready.then(function () {
      render();
      gd.map.on("moveend overlayadd overlayremove", render);
      ["map-filters", "download-format", "download-view"].forEach(function (id) {
        var el = document.getElementById(id);
        if (el) el.addEventListener("change", function () { window.setTimeout(render, 0); });
      });
    });
  }
  start();
})();
