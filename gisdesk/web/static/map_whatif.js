/* gisdesk map: what-if for supervisors. Move personnel between kelurahan (or take stored
 * suggestions) and see the gaps change on the map and in the table before anything is
 * stored: computed here, in the browser, from the results the page shows. "Terapkan" sends
 * the moves with the results version they were based on; the server answers 409 when the
 * results have moved on since, and nothing is changed. Runs after map.js.
 * In tiled mode (a big election) the rows are those the gap table loaded (the largest gaps,
 * per kecamatan when one is picked): moves between them are simulated the same way; a stored
 * suggestion whose donor is not among them is taken as planned (the server checks it). */
(function () {
  "use strict";
  var gd = window.gisdesk, cfg = gd && gd.config, box = document.getElementById("whatif");
  if (!gd || !cfg || !box || !cfg.plan_url || !cfg.election) return;
  box.hidden = false;
  var AGENCY = {polri: "Polri", linmas: "Linmas"};
  // the results version the plan is worked out on: the one shown when its first move was added
  // (the map may reload newer results meanwhile; the server then answers 409)
  var moves = [], suggestions = [], basedOn = null;
  var known = {};   // names of kelurahan met in suggestions but not among the loaded rows
  var el = function (id) { return document.getElementById(id); };
  var esc = gd.esc, num = function (v) { return gd.fmtNum.format(v); };
  function shownVersion() { return gd.results && gd.results.version != null ? gd.results.version : cfg.election.version; }

  function names() {
    var out = {};
    (gd.gaps() || []).forEach(function (g) { out[g.kelurahan_kode] = g.kelurahan_nama; });
    return out;
  }
  function label(m) {
    var n = Object.assign({}, known, names()), from = m.from_kelurahan_kode ? "Kel. " + n[m.from_kelurahan_kode] :
      (m.from_reserve === "polresta" ? "cadangan Polresta" : "cadangan Polsek");
    return m.count + " " + AGENCY[m.agency] + " dari " + from + " ke " + n[m.to_kelurahan_kode];
  }
  // the stored rows with every move applied: assigned and gap change, nothing else
  function simulate() {
    var rows = (gd.gaps() || []).map(function (g) { return Object.assign({}, g); }), by = {};
    rows.forEach(function (g) { by[g.kelurahan_kode] = g; });
    moves.forEach(function (m) {
      var to = by[m.to_kelurahan_kode], from = m.from_kelurahan_kode && by[m.from_kelurahan_kode];
      if (to) { to[m.agency + "_assigned"] += m.count; to[m.agency + "_gap"] -= m.count; to.whatif = "+" + m.count + " " + AGENCY[m.agency]; }
      if (from) { from[m.agency + "_assigned"] -= m.count; from[m.agency + "_gap"] += m.count; from.whatif = "−" + m.count + " " + AGENCY[m.agency]; }
    });
    return rows;
  }
  function totals(rows, agency) {
    var t = {short: 0, kel: 0};
    rows.forEach(function (g) { if (g[agency + "_gap"] > 0) { t.short += g[agency + "_gap"]; t.kel++; } });
    return t;
  }
  function fillSelects() {
    var agency = el("wi-agency").value, rows = simulate(), key = agency + "_gap";
    var donors = rows.filter(function (g) { return g[key] < 0; }).sort(function (a, b) { return a[key] - b[key]; });
    var short = rows.filter(function (g) { return g[key] > 0; }).sort(function (a, b) { return b[key] - a[key]; });
    el("wi-from").innerHTML = donors.map(function (g) {
      return '<option value="' + esc(g.kelurahan_kode) + '">' + esc(g.kelurahan_nama) + " (lebih " + num(-g[key]) + ")</option>";
    }).join("") || '<option value="">tidak ada kelurahan yang berlebih</option>';
    el("wi-to").innerHTML = short.map(function (g) {
      return '<option value="' + esc(g.kelurahan_kode) + '">' + esc(g.kelurahan_nama) + " (kurang " + num(g[key]) + ")</option>";
    }).join("") || '<option value="">tidak ada kelurahan yang kurang</option>';
  }
  function say(text, bad) {
    el("wi-message").textContent = text;
    el("wi-message").className = "wi-message" + (bad ? " bad" : "");
  }
  function show() {
    var rows = simulate(), base = gd.gaps() || [];
    el("wi-moves").innerHTML = moves.map(function (m, i) {
      return "<li>" + esc(label(m)) + ' <button type="button" class="link" data-i="' + i + '" aria-label="Hapus">hapus</button></li>';
    }).join("");
    el("wi-effect").innerHTML = moves.length ? ["polri", "linmas"].map(function (a) {
      var before = totals(base, a), after = totals(rows, a);
      return AGENCY[a] + ": kurang <b>" + num(before.short) + " → " + num(after.short) + "</b> di " +
        num(before.kel) + " → " + num(after.kel) + " kelurahan";
    }).join("<br>") : "";
    el("wi-apply").disabled = el("wi-clear").disabled = !moves.length;
    if (!moves.length) basedOn = null;
    el("wi-version").textContent = String(basedOn === null ? shownVersion() : basedOn);
    gd.preview(moves.length ? rows : null);
    fillSelects();
  }
  function add(move) {
    if (move.from_kelurahan_kode) {   // no more than the donor has spare, after earlier moves
      var donor = simulate().filter(function (g) { return g.kelurahan_kode === move.from_kelurahan_kode; })[0];
      var spare = donor ? -donor[move.agency + "_gap"] : move.count;   // not loaded: trust the plan
      if (move.count > spare) { say("Kel. " + names()[move.from_kelurahan_kode] + " hanya berlebih " + num(Math.max(spare, 0)) + " " + AGENCY[move.agency] + ".", true); return; }
    }
    if (basedOn === null) basedOn = shownVersion();
    moves.push(move);
    say("");
    show();
  }

  el("wi-agency").addEventListener("change", fillSelects);
  el("whatif-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var count = parseInt(el("wi-count").value, 10);
    if (!el("wi-from").value || !el("wi-to").value) { say("Pilih kelurahan asal dan tujuan.", true); return; }
    if (!(count > 0)) { say("Jumlah harus bilangan bulat lebih dari 0.", true); return; }
    add({agency: el("wi-agency").value, count: count, from_kelurahan_kode: el("wi-from").value,
         from_reserve: null, to_kelurahan_kode: el("wi-to").value});
  });
  el("wi-moves").addEventListener("click", function (e) {
    var b = e.target.closest("button[data-i]");
    if (b) { moves.splice(Number(b.getAttribute("data-i")), 1); show(); }
  });
  el("wi-clear").addEventListener("click", function () { moves = []; say(""); show(); });
  el("wi-suggestions").addEventListener("click", function (e) {
    var b = e.target.closest("button[data-i]"), s = b && suggestions[Number(b.getAttribute("data-i"))];
    if (!s || !AGENCY[s.agency]) return;
    known[s.kelurahan_kode] = s.kelurahan_nama;
    if (s.from_kelurahan_kode) known[s.from_kelurahan_kode] = s.from_kelurahan_nama;
    add({agency: s.agency, count: s.count, from_kelurahan_kode: s.from_kelurahan_kode || null,
         from_reserve: s.from_reserve || null, to_kelurahan_kode: s.kelurahan_kode, reason: s.move_text});
  });
  el("wi-apply").addEventListener("click", function () {
    var meta = document.querySelector('meta[name="csrf-token"]');
    el("wi-apply").disabled = true;
    say("Menerapkan…");
    fetch(cfg.plan_url, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", Accept: "application/json",
                "X-CSRFToken": meta ? meta.content : ""},
      body: JSON.stringify({based_on_version: basedOn, moves: moves})})
      .then(function (r) { return r.json().then(function (body) { return {status: r.status, body: body}; }); })
      .then(function (res) {
        if (res.status === 201) {
          say("Rencana diterapkan: " + res.body.applied + " perpindahan. Memuat ulang peta…");
          setTimeout(function () { location.reload(); }, 1200);
          return;
        }
        el("wi-apply").disabled = false;
        say(res.body.error || ("Gagal menerapkan (HTTP " + res.status + ")."), true);
      }, function () { el("wi-apply").disabled = false; say("Tidak terhubung ke server; coba lagi.", true); });
  });

  document.body.addEventListener("gisdesk:results", show);  // new rows under the same moves
  gd.ready.then(function () {
    show();
    if (!cfg.suggestions_url) return;
    // a big election has thousands of suggestions: the first ones by rank are enough here
    fetch(cfg.suggestions_url + (cfg.tiled ? "?limit=" + (cfg.tiled.gaps_limit || 300) : ""), {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { return r.ok ? r.json() : {rows: []}; })
      .then(function (j) {
        suggestions = j.rows.filter(function (s) { return AGENCY[s.agency]; });
        el("wi-suggestions").innerHTML = suggestions.map(function (s, i) {
          return '<li><button type="button" class="link" data-i="' + i + '">tambah</button> ' + esc(s.move_text) + "</li>";
        }).join("") || '<li class="muted">Tidak ada saran.</li>';
      });
  });
})();
