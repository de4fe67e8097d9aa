/* gisdesk map: the filter state in the address (a link shows the same map; Back undoes a
 * filter) and the totals strip following it. Runs after map.js, through window.gisdesk.
 * Address: /map?kecamatan=52.71.01&kelas=rawan,sangat_rawan&waktu=6 (absent = default). */
(function () {
  "use strict";
  var gd = window.gisdesk, cfg = gd && gd.config;
  if (!gd || !cfg) return;
  var sel = document.getElementById("f-kecamatan");
  var boxes = Array.prototype.slice.call(document.querySelectorAll("#map-filters input[name=kelas]"));
  var DEFAULT_HOURS = "24";

  function classBoxes() { return boxes.filter(function (b) { return b.value !== "_none"; }); }
  // the strip and the address name the unrated TPS "belum_dinilai"; the filter calls them _none
  function classKey(value) { return value === "_none" ? "belum_dinilai" : value; }

  function paramsFromControls() {
    var p = new URLSearchParams();
    if (sel && sel.value) p.set("kecamatan", sel.value);
    var picked = boxes.filter(function (b) { return b.checked; });
    if (picked.length !== boxes.length) {
      p.set("kelas", picked.map(function (b) { return classKey(b.value); }).join(","));
    }
    var win = document.querySelector("#map-filters input[name=window]:checked");
    if (win && win.value !== DEFAULT_HOURS) p.set("waktu", win.value);
    return p;
  }
  function controlsFromParams(p) {
    if (sel) {
      var kode = p.get("kecamatan") || "";
      sel.value = Array.prototype.some.call(sel.options, function (o) { return o.value === kode; }) ? kode : "";
    }
    var kelas = p.get("kelas");
    var picked = kelas === null ? null : kelas.split(",");
    classBoxes().forEach(function (b) { b.checked = !picked || picked.indexOf(b.value) >= 0; });
    boxes.filter(function (b) { return b.value === "_none"; }).forEach(function (b) {
      b.checked = !picked || picked.indexOf("belum_dinilai") >= 0;
    });
    var hours = p.get("waktu") || DEFAULT_HOURS;
    var radio = document.querySelector("#map-filters input[name=window][value='" + CSS.escape(hours) + "']") ||
      document.querySelector("#map-filters input[name=window][value='" + DEFAULT_HOURS + "']");
    if (radio) radio.checked = true;
  }

  // --- the totals strip: the server counts for the scope (one implementation, in Python) ---
  var stripSeq = 0;
  function refreshStrip(p) {
    if (!cfg.strip_url) return;
    var seq = ++stripSeq, q = new URLSearchParams();
    if (p.get("kecamatan")) q.set("kecamatan", p.get("kecamatan"));
    if (p.get("kelas") !== null) q.set("kelas", p.get("kelas"));
    fetch(cfg.strip_url + (q.toString() ? "?" + q : ""), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        var strip = document.getElementById("map-strip");
        if (!html || seq !== stripSeq || !strip) return;
        strip.outerHTML = html;
        document.body.dispatchEvent(new CustomEvent("gisdesk:strip"));
      });
  }

  // the briefing print covers the kecamatan picked (or the city)
  function refreshPrintLink() {
    var link = document.getElementById("print-link");
    if (!link) return;
    var base = link.getAttribute("data-base");
    link.href = sel && sel.value ? base + "?kecamatan=" + encodeURIComponent(sel.value) : base;
  }

  // --- the address ----------------------------------------------------------------------
  document.body.addEventListener("gisdesk:filters", function (e) {
    if (e.detail.by !== "user") return;
    var p = paramsFromControls(), query = p.toString();
    var url = location.pathname + (query ? "?" + query : "") + location.hash;
    if (url !== location.pathname + location.search + location.hash) history.pushState({gisdesk: query}, "", url);
    refreshStrip(p);
    refreshPrintLink();
  });
  // new analysis results: the counts change too
  document.body.addEventListener("gisdesk:results", function () { refreshStrip(paramsFromControls()); });
  window.addEventListener("popstate", function () {
    var before = sel ? sel.value : "", p = new URLSearchParams(location.search);
    controlsFromParams(p);
    gd.applyFilters(sel ? sel.value !== before : false, "url");
    refreshStrip(p);
    refreshPrintLink();
  });
  // a shared link: the page was drawn for its scope already; set the controls to match
  var start = new URLSearchParams(location.search);
  if (start.toString()) {
    controlsFromParams(start);
    gd.applyFilters(false, "url");
    refreshPrintLink();
    if (sel && sel.value) gd.ready.then(function () { gd.applyFilters(true, "url"); });
  }
})();
