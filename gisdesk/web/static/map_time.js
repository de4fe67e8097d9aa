/* gisdesk map: the day in time. A chart of incidents per hour per kecamatan (inline SVG,
 * stacked bars; from the incidents the map has loaded, so it follows the kecamatan filter
 * and the live updates) and a slider that replays the day on the map, hour by hour.
 * Hours are WITA; the day is the day of the results' time. Runs after map.js. */
(function () {
  "use strict";
  var gd = window.gisdesk, cfg = gd && gd.config;
  var box = document.getElementById("map-time");
  if (!gd || !cfg || !box) return;
  var layerId = (cfg.layers.filter(function (l) { return l.time_field && l.style.kind !== "heat"; })[0] || {}).id;
  if (!layerId) { box.hidden = true; return; }
  var timeField = gd.layers[layerId].config.time_field;
  var WITA_MS = 8 * 3600e3, HOUR = 3600e3;
  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                 "#7f7f7f", "#bcbd22", "#17becf"];
  var ref = cfg.election && cfg.election.as_of ? new Date(cfg.election.as_of) : new Date();
  // midnight WITA of the results' day, as a UTC instant
  var dayStart = Math.floor((ref.getTime() + WITA_MS) / (24 * HOUR)) * 24 * HOUR - WITA_MS;
  var nowHour = Math.min(24, Math.ceil((ref.getTime() - dayStart) / HOUR));
  var slider = document.getElementById("time-slider"), label = document.getElementById("time-label");
  var play = document.getElementById("time-play"), live = document.getElementById("time-live");
  var chart = document.getElementById("time-chart"), keys = document.getElementById("time-keys");
  var esc = gd.esc, timer = null;
  slider.max = String(nowHour);
  slider.value = String(nowHour);

  function hh(h) { return (h < 10 ? "0" : "") + h + ":00"; }
  function kecamatanOn() {
    var sel = document.getElementById("f-kecamatan");
    return sel ? sel.value : "";
  }
  // counts[hour][kecamatan] of the day's incidents (those the map keeps: not rejected/merged)
  function counts() {
    var st = gd.layers[layerId], out = [], names = {}, only = kecamatanOn();
    for (var h = 0; h < 24; h++) out.push({});
    (st.items || []).forEach(function (it) {
      var p = it.props, t = new Date(p[timeField]).getTime(), h = Math.floor((t - dayStart) / HOUR);
      var kec = p.kecamatan_kode || String(p.kelurahan_kode || "").slice(0, 8) || "-";
      if (h < 0 || h > 23 || (only && kec !== only)) return;
      out[h][kec] = (out[h][kec] || 0) + 1;
      names[kec] = p.kecamatan_nama || kec;
    });
    return {hours: out, names: names};
  }
  function drawChart() {
    var c = counts(), kecs = Object.keys(c.names).sort(), W = 360, H = 110, left = 22, bottom = 16;
    var max = Math.max(1, Math.max.apply(null, c.hours.map(function (h) {
      return Object.keys(h).reduce(function (s, k) { return s + h[k]; }, 0); })));
    var bw = (W - left) / 24, at = Number(slider.value), bars = [];
    c.hours.forEach(function (byKec, h) {
      var y = H - bottom, total = 0;
      kecs.forEach(function (k, i) {
        var n = byKec[k] || 0;
        if (!n) return;
        var hgt = n * (H - bottom - 6) / max;
        y -= hgt;
        total += n;
        bars.push('<rect x="' + (left + h * bw + 1).toFixed(1) + '" y="' + y.toFixed(1) + '" width="' +
          (bw - 2).toFixed(1) + '" height="' + hgt.toFixed(1) + '" fill="' + PALETTE[i % PALETTE.length] +
          '"' + (h >= at && !live.checked ? ' opacity="0.3"' : "") + "><title>" + hh(h) + "–" + hh(h + 1) +
          " WITA · " + esc(c.names[k]) + ": " + n + " kejadian</title></rect>");
      });
      if (total) bars.push('<text class="n" x="' + (left + h * bw + bw / 2).toFixed(1) + '" y="' + (y - 1).toFixed(1) + '">' + total + "</text>");
    });
    var ticks = [0, 6, 12, 18, 24].map(function (h) {
      return '<text x="' + (left + h * bw).toFixed(1) + '" y="' + (H - 3) + '">' + hh(h).slice(0, 2) + "</text>";
    }).join("");
    var cursor = live.checked ? "" : '<line class="cursor" x1="' + (left + at * bw).toFixed(1) + '" x2="' +
      (left + at * bw).toFixed(1) + '" y1="0" y2="' + (H - bottom) + '"/>';
    chart.innerHTML = '<svg viewBox="0 0 ' + W + " " + H + '" role="img" aria-label="Kejadian per jam per kecamatan">' +
      '<line x1="' + left + '" x2="' + W + '" y1="' + (H - bottom) + '" y2="' + (H - bottom) + '" stroke="#8a8f98"/>' +
      '<text x="0" y="10">' + max + "</text>" + bars.join("") + ticks + cursor + "</svg>";
    keys.innerHTML = kecs.length ? kecs.map(function (k, i) {
      return '<span><i style="background:' + PALETTE[i % PALETTE.length] + '"></i>' + esc(c.names[k]) + "</span>";
    }).join("") : '<span class="muted">Tidak ada kejadian pada hari ini.</span>';
  }
  function showLabel() {
    label.textContent = live.checked ? "sekarang (keadaan terbaru)" : "pukul " + hh(Number(slider.value)) + " WITA";
  }
  // the map shows what had happened by the slider's hour (within the chosen time window)
  function apply() {
    gd.setTime(live.checked ? null : new Date(dayStart + Number(slider.value) * HOUR));
    showLabel();
    drawChart();
  }
  function stop() {
    clearInterval(timer);
    timer = null;
    play.textContent = "▶ Putar ulang hari";
    play.setAttribute("aria-pressed", "false");
  }
  slider.addEventListener("input", function () { live.checked = false; apply(); });
  live.addEventListener("change", function () {
    if (live.checked) { stop(); slider.value = String(nowHour); }
    apply();
  });
  play.addEventListener("click", function () {
    if (timer) { stop(); return; }
    live.checked = false;
    slider.value = "0";
    apply();
    play.textContent = "■ Berhenti";
    play.setAttribute("aria-pressed", "true");
    timer = setInterval(function () {
      if (Number(slider.value) >= nowHour) { stop(); return; }
      slider.value = String(Number(slider.value) + 1);
      apply();
    }, Number(cfg.replay_ms) || 800);
  });
  document.body.addEventListener("gisdesk:filters", drawChart);
  document.body.addEventListener("gisdesk:rendered", function (e) { if (e.detail === layerId) drawChart(); });
  gd.ready.then(function () { showLabel(); drawChart(); });
})();
