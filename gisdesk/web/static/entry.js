/* gisdesk entry: the incident form (/lapor) with an offline queue, and review buttons (/insiden).
 *
 * Every report is written to localStorage BEFORE it is sent and removed only when the server
 * accepted it (200/201) or refused it for good (4xx other than 401/403/419/CSRF). Network
 * errors and 5xx keep it queued; it is retried (online event, timer, page load) with the SAME
 * UUID, so the server stores it once. On 401 or a CSRF failure the queue is kept and the user
 * is asked to log in again; after login /lapor sends the queue with a fresh CSRF token.
 *
 * For other pages (e.g. the map), include this file and use:
 *   GisdeskEntry.reportUrl(lat, lon)  -> "/lapor?lat=..&lon=.." (opens the form prefilled)
 *   GisdeskEntry.enqueue({category, severity, occurred_at, lat, lon, description, tps})
 *                                     -> the report's UUID; queued, then sent
 *   GisdeskEntry.flush(), GisdeskEntry.queue()
 */
(function () {
  "use strict";
  var QUEUE_KEY = "gisdesk.entry.queue.v1";
  var REJECTED_KEY = "gisdesk.entry.rejected.v1";
  var RETRY_MS = 15000;
  var AUTO_STATES = ["pending", "sending", "retry", "login"];
  var STATE_LABELS = { pending: "Menunggu kirim", sending: "Mengirim…", retry: "Gagal kirim, dicoba lagi",
    login: "Perlu masuk lagi", forbidden: "Tidak berwenang", needs_confirmation: "Perlu konfirmasi",
    sent: "Terkirim", rejected: "Ditolak" };
  var FIELD_LABELS = { coords: "Koordinat", lat: "Koordinat", lon: "Koordinat", geometry: "Koordinat",
    occurred_at: "Waktu kejadian", category: "Kategori", severity: "Tingkat", tps: "TPS",
    description: "Keterangan", reporter_name: "Nama pelapor" };
  var app = document.getElementById("entry-app") || document.getElementById("incidents-app");
  var data = (app && app.dataset) || {};
  var cfg = { api: data.api || "/api/incidents", parse: data.parse || "/api/coords/parse",
              page: data.page || "/lapor", login: data.login || "/login?next=%2Flapor" };
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = meta ? meta.content : null;
  var sentThisPage = [], flushing = null, flushAgain = false;

  function $(id) { return document.getElementById(id); }

  function readList(key) {
    try { return JSON.parse(localStorage.getItem(key)) || []; } catch (e) { return []; }
  }
  function writeList(key, list) { localStorage.setItem(key, JSON.stringify(list)); render(); }
  function queue() { return readList(QUEUE_KEY); }
  function findItem(id) { return queue().filter(function (i) { return i.id === id; })[0]; }
  function setItem(id, changes) {
    writeList(QUEUE_KEY, queue().map(function (i) {
      return i.id === id ? Object.assign({}, i, changes) : i;
    }));
  }
  function removeItem(id) {
    writeList(QUEUE_KEY, queue().filter(function (i) { return i.id !== id; }));
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }

  function enqueue(payload) {
    var item = {
      id: payload.id || uuid(), payload: Object.assign({}, payload), state: "pending", tries: 0,
      created: new Date().toISOString(), message: "", warnings: [], confirm: false
    };
    item.payload.id = item.id;
    var q = queue();
    q.push(item);
    writeList(QUEUE_KEY, q);      // stored before anything goes on the wire
    flush();
    return item.id;
  }

  function post(item, token) {
    var body = Object.assign({}, item.payload);
    if (item.confirm) { body.confirm_warnings = true; }
    var headers = { "Content-Type": "application/json", "Accept": "application/json" };
    if (token) { headers["X-CSRFToken"] = token; }
    return fetch(cfg.api, {
      method: "POST", credentials: "same-origin", headers: headers, body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (d) {
        return { status: r.status, data: d };
      });
    });
  }

  function isCsrf(res) { return res.status === 419 || (res.status === 400 && res.data && res.data.csrf); }

  /* A fresh CSRF token from the report page; null when the session is gone. */
  function refreshToken() {
    return fetch(cfg.page, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) {
        if (!r.ok || r.url.indexOf("/login") >= 0) { return null; }
        return r.text().then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var m = doc.querySelector('meta[name="csrf-token"]');
          return m ? m.content : null;
        });
      });
  }

  function loginNeeded(show) { var box = $("login-needed"); if (box) { box.hidden = !show; } }

  function retryLater(item, why) {
    setItem(item.id, { state: "retry", tries: (item.tries || 0) + 1, message: why });
  }

  async function sendOne(item) {
    setItem(item.id, { state: "sending" });
    var res;
    try {
      res = await post(item, csrfToken);
      if (isCsrf(res)) {
        var fresh = await refreshToken();
        if (fresh) {
          csrfToken = fresh;
          if (meta) { meta.content = fresh; }
          res = await post(item, csrfToken);
        }
      }
    } catch (e) {
      return retryLater(item, "Jaringan tidak tersedia; dicoba lagi otomatis.");
    }
    var d = res.data || {};
    if (res.status === 200 || res.status === 201) {
      removeItem(item.id);
      loginNeeded(false);
      sentThisPage.unshift({ id: item.id, payload: item.payload, report: d, state: "sent" });
      return render();
    }
    if (res.status === 401 || isCsrf(res)) {
      loginNeeded(true);
      return setItem(item.id, { state: "login", message: "Masuk lagi untuk mengirim." });
    }
    if (res.status === 403) {
      loginNeeded(true);
      return setItem(item.id, { state: "forbidden", message: d.error || "Peran Anda tidak boleh mengirim laporan." });
    }
    if (res.status === 422 && d.needs_confirmation) {
      return setItem(item.id, { state: "needs_confirmation", message: d.error, warnings: d.warnings || [] });
    }
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
      removeItem(item.id);   // refused for good: keep it visible so it can be corrected
      var rejected = readList(REJECTED_KEY);
      rejected.unshift({ id: item.id, payload: item.payload, status: res.status,
                         message: d.error || ("Ditolak (" + res.status + ")"), problems: d.problems || [] });
      return writeList(REJECTED_KEY, rejected.slice(0, 20));
    }
    return retryLater(item, "Server sibuk atau bermasalah (" + res.status + "); dicoba lagi otomatis.");
  }

  function flush(includeAll) {
    if (flushing) { flushAgain = true; return flushing; }
    flushing = (async function () {
      do {
        flushAgain = false;
        var items = queue().filter(function (i) {
          return AUTO_STATES.indexOf(i.state) >= 0 || (includeAll && i.state === "forbidden") ||
                 (i.state === "needs_confirmation" && i.confirm);
        });
        for (var k = 0; k < items.length; k++) {
          var current = findItem(items[k].id);
          if (current) { await sendOne(current); }
        }
      } while (flushAgain);
    })().finally(function () { flushing = null; });
    return flushing;
  }

  /* ---------------------------------------------------------------- rendering */
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }

  function categoryLabel(key) {
    var opt = document.querySelector('select[name="category"] option[value="' + CSS.escape(key || "") + '"]');
    return opt ? opt.textContent : (key || "");
  }

  function describe(item) {
    var p = item.payload || {};
    var where = p.coords || (p.lat !== undefined ? p.lat + ", " + p.lon : "");
    return categoryLabel(p.category) + " · " + (p.occurred_at || "").replace("T", " ") + " · " + where;
  }

  function itemNode(item, state) {
    var li = el("li", { "data-id": item.id, "data-state": state });
    li.appendChild(el("div", { "class": "state " + state }, STATE_LABELS[state] || state));
    li.appendChild(el("div", {}, describe(item)));
    var msg = item.message || (item.report && item.report.kelurahan_nama ?
      "Kelurahan " + item.report.kelurahan_nama + (item.report.tps_kode ? " · TPS " + item.report.tps_kode.slice(-3) : "") : "");
    if (msg) { li.appendChild(el("div", { "class": "muted small" }, msg)); }
    var warnings = item.warnings || [];
    if (warnings.length) {
      var ul = el("ul", { "class": "warnings" });
      warnings.forEach(function (w) { ul.appendChild(el("li", {}, w.message)); });
      li.appendChild(ul);
    }
    (item.problems || []).forEach(function (pr) {
      if (pr.reason === item.message) { return; }     // said once, not twice
      var label = FIELD_LABELS[pr.field] || "";
      li.appendChild(el("div", { "class": "small error" }, (label ? label + ": " : "") + pr.reason));
    });
    var actions = el("div", { "class": "actions" });
    if (state === "needs_confirmation") {
      actions.appendChild(el("button", { type: "button", "class": "primary small", "data-do": "confirm" }, "Kirim tetap"));
      actions.appendChild(el("button", { type: "button", "class": "danger small", "data-do": "drop" }, "Batalkan"));
    } else if (state === "retry" || state === "pending" || state === "forbidden") {
      actions.appendChild(el("button", { type: "button", "class": "secondary small", "data-do": "send" }, "Kirim sekarang"));
    } else if (state === "login") {
      actions.appendChild(el("a", { href: cfg.login }, "Masuk lagi"));
    } else if (state === "rejected") {
      actions.appendChild(el("button", { type: "button", "class": "secondary small", "data-do": "fix" }, "Perbaiki"));
      actions.appendChild(el("button", { type: "button", "class": "danger small", "data-do": "forget" }, "Hapus"));
    }
    if (actions.childNodes.length) { li.appendChild(actions); }
    return li;
  }

  function render() {
    var list = $("queue");
    if (!list) { return; }
    list.textContent = "";
    var q = queue();
    q.forEach(function (item) { list.appendChild(itemNode(item, item.state)); });
    sentThisPage.slice(0, 5).forEach(function (item) { list.appendChild(itemNode(item, "sent")); });
    if (!q.length && !sentThisPage.length) { list.appendChild(el("li", { "class": "muted" }, "Antrean kosong.")); }
    var rej = readList(REJECTED_KEY), rlist = $("rejected");
    $("rejected-wrap").hidden = !rej.length;
    rlist.textContent = "";
    rej.forEach(function (item) { rlist.appendChild(itemNode(item, "rejected")); });
    var net = $("net-state");
    if (net) { net.textContent = navigator.onLine ? "· daring" : "· luring (tanpa jaringan)"; }
    showSubmitted(q, rej);
    if (q.some(function (i) { return i.state === "login" || i.state === "forbidden"; })) { loginNeeded(true); }
  }

  /* The message under the form follows the report just submitted, so it never says
     "being sent" while the phone is offline or after the server refused it. */
  var lastSubmitted = null;
  function showSubmitted(q, rej) {
    if (!lastSubmitted || !$("form-message")) { return; }
    var id = lastSubmitted, item = q.filter(function (i) { return i.id === id; })[0];
    var sent = sentThisPage.filter(function (i) { return i.id === id; })[0];
    var refused = rej.filter(function (i) { return i.id === id; })[0];
    if (sent) {
      var r = sent.report || {};
      return showMessage("ok", "Laporan terkirim dan diterima server" +
        (r.kelurahan_nama ? " (Kelurahan " + r.kelurahan_nama + (r.tps_kode ? ", TPS " + r.tps_kode.slice(-3) : "") + ")" : "") + ".");
    }
    if (refused) { return showMessage("err", "Laporan ditolak server: " + refused.message + " Lihat \"Ditolak server\" di bawah untuk memperbaiki."); }
    if (!item) { return showMessage("", ""); }
    if (item.state === "needs_confirmation") { return showMessage("warn", "Laporan perlu konfirmasi: periksa peringatannya di antrean di bawah, lalu kirim atau batalkan."); }
    if (item.state === "login" || item.state === "forbidden") { return showMessage("err", "Laporan tersimpan di perangkat; masuk lagi untuk mengirim."); }
    if (!navigator.onLine || item.state === "retry") {
      return showMessage("warn", "Tanpa jaringan: laporan tersimpan di perangkat ini dan dikirim otomatis saat jaringan kembali.");
    }
    showMessage("ok", "Laporan tersimpan dan sedang dikirim…");
  }

  /* ---------------------------------------------------------------- the form */
  function nowWita() {
    var parts = new Intl.DateTimeFormat("en-CA", {
      timeZone: "Asia/Makassar", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    }).formatToParts(new Date()).reduce(function (o, p) { o[p.type] = p.value; return o; }, {});
    return parts.year + "-" + parts.month + "-" + parts.day + "T" + parts.hour + ":" + parts.minute;
  }

  function showMessage(kind, text) {
    var box = $("form-message");
    if (box) { box.className = "notice " + kind; box.textContent = text; box.hidden = !text; }
  }

  var previewTimer = null, lastCheck = { text: null, promise: null };
  /* What the server reads from the typed text and where that point falls; null offline. */
  function checkPoint(value) {
    if (lastCheck.text === value && lastCheck.promise) { return lastCheck.promise; }
    var promise = fetch(cfg.parse + "?q=" + encodeURIComponent(value), {
      credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (r) {
      return r.json().then(function (d) { return { ok: r.ok, data: d }; });
    }).catch(function () { lastCheck.promise = null; return null; });
    lastCheck = { text: value, promise: promise };
    return promise;
  }
  function km(m) { return (m / 1000).toLocaleString("id-ID", { maximumFractionDigits: 1 }); }
  function outsideText(d) {
    return "Titik di luar wilayah kerja" + (d.distance_m ? " (" + km(d.distance_m) + " km dari batas terdekat" +
      (d.kelurahan_nama ? ", Kelurahan " + d.kelurahan_nama : "") + ")" : "") +
      ". Laporan di titik ini akan ditolak server: periksa koordinat atau pilih titik di peta.";
  }
  function previewCoords(input) {
    var out = $("coords-preview");
    clearTimeout(previewTimer);
    if (!input.value.trim()) { out.textContent = ""; out.className = "preview muted"; return; }
    previewTimer = setTimeout(function () {
      var value = input.value.trim();
      if (!value) { return; }                      // cleared after sending
      checkPoint(value).then(function (res) {
        if (input.value.trim() !== value) { return; }
        if (!res) {
          out.className = "preview muted";
          out.textContent = "Tanpa jaringan: koordinat akan dibaca server saat laporan terkirim.";
          return;
        }
        var d = res.data;
        if (!res.ok) {
          out.className = "preview bad";
          out.textContent = d.error || "Koordinat tidak terbaca.";
          return;
        }
        // coordinates keep the decimal point: they are copied into other tools as they are
        var fmt = function (x) { return x.toFixed(6); };
        var read = "Terbaca: lintang " + fmt(d.lat) + ", bujur " + fmt(d.lon) +
          " (" + d.form + (d.guessed ? "; urutan ditebak lintang, bujur" : "") + ")";
        out.className = d.inside === false ? "preview bad" : "preview ok";
        out.textContent = d.inside === false ? read + ". " + outsideText(d) :
          read + (d.kelurahan_nama ? " · Kelurahan " + d.kelurahan_nama : "");
        document.dispatchEvent(new CustomEvent("gisdesk:point", { detail: d }));
      });
    }, 350);
  }

  function bindForm(form) {
    var coords = form.elements.coords;
    if (!form.elements.occurred_at.value) { form.elements.occurred_at.value = nowWita(); }
    coords.addEventListener("input", function () { previewCoords(coords); });
    if (coords.value) { previewCoords(coords); }
    $("use-location").addEventListener("click", function () {
      if (!navigator.geolocation) { return showMessage("err", "Peramban ini tidak mendukung lokasi."); }
      showMessage("warn", "Mencari lokasi…");
      navigator.geolocation.getCurrentPosition(function (pos) {
        coords.value = pos.coords.latitude.toFixed(6) + ", " + pos.coords.longitude.toFixed(6);
        showMessage("ok", "Lokasi terisi (ketelitian ±" + Math.round(pos.coords.accuracy) + " m).");
        previewCoords(coords);
      }, function (err) {
        showMessage("err", "Lokasi tidak didapat: " + (err.code === 1 ? "izin ditolak" : err.message) +
          ". Halaman harus dibuka lewat HTTPS.");
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var f = form.elements, missing = [];
      if (!f.category.value) { missing.push("kategori"); }
      if (!f.occurred_at.value) { missing.push("waktu kejadian"); }
      if (!f.coords.value.trim()) { missing.push("koordinat"); }
      if (missing.length) { return showMessage("err", "Lengkapi: " + missing.join(", ") + "."); }
      var typed = f.coords.value.trim();
      var check = navigator.onLine ? checkPoint(typed) : Promise.resolve(null);
      check.then(function (res) {
        if (f.coords.value.trim() !== typed) { return; }
        if (res && !res.ok && res.data && res.data.field === "coords") {
          return showMessage("err", res.data.error || "Koordinat tidak terbaca.");
        }
        if (res && res.ok && res.data.inside === false) { return showMessage("err", outsideText(res.data)); }
        send();
      });
    });
    function send() {
      var f = form.elements;
      var payload = {
        category: f.category.value, severity: f.severity.value, occurred_at: f.occurred_at.value,
        coords: f.coords.value.trim(), description: f.description.value.trim()
      };
      if (f.tps.value.trim()) { payload.tps = f.tps.value.trim(); }
      if (f.reporter_name.value.trim()) { payload.reporter_name = f.reporter_name.value.trim(); }
      lastSubmitted = uuid();
      payload.id = lastSubmitted;
      f.description.value = ""; f.coords.value = ""; f.tps.value = "";
      f.occurred_at.value = nowWita();
      $("coords-preview").textContent = "";
      enqueue(payload);
    }
    function onAction(ev) {
      var btn = ev.target.closest("button[data-do]");
      if (!btn) { return; }
      var id = btn.closest("li").getAttribute("data-id"), what = btn.getAttribute("data-do");
      if (what === "confirm") { setItem(id, { confirm: true, state: "pending", message: "" }); flush(); }
      if (what === "drop" && window.confirm("Batalkan laporan ini? Laporan tidak akan dikirim.")) { removeItem(id); }
      if (what === "send") { setItem(id, { state: "pending" }); flush(true); }
      if (what === "fix" || what === "forget") {
        var rej = readList(REJECTED_KEY), item = rej.filter(function (r) { return r.id === id; })[0];
        writeList(REJECTED_KEY, rej.filter(function (r) { return r.id !== id; }));
        if (what === "fix" && item) {
          ["category", "severity", "occurred_at", "coords", "tps", "reporter_name", "description"].forEach(function (k) {
            if (item.payload[k] !== undefined && form.elements[k]) { form.elements[k].value = item.payload[k]; }
          });
          showMessage("warn", item.message + " Perbaiki lalu kirim lagi.");
          form.scrollIntoView();
        }
      }
    }
    $("queue").addEventListener("click", onAction);
    $("rejected").addEventListener("click", onAction);
    render();
    flush(true);
    window.addEventListener("online", function () { render(); flush(); });
    window.addEventListener("offline", render);
    window.addEventListener("storage", function (e) { if (e.key === QUEUE_KEY) { render(); } });
    setInterval(function () { flush(); }, RETRY_MS);
  }

  /* ---------------------------------------------------------------- /insiden review buttons */
  var DONE_KEY = "gisdesk.review.done";
  var fmtWhen = new Intl.DateTimeFormat("id-ID", { timeZone: "Asia/Makassar", day: "2-digit",
    month: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  function num(n) { return Math.round(n).toLocaleString("id-ID"); }
  function rowLabel(row) { return row.getAttribute("data-label") || "Laporan"; }
  function candidateLabel(o) {
    var where = (o.tps_kode ? "TPS " + o.tps_kode.slice(-3) + " · " : "") + (o.kelurahan_nama || "");
    return (o.category_label || o.category) + " · " + where + " · " +
      fmtWhen.format(new Date(o.occurred_at)).replace(",", "") + " WITA · " +
      num(o.distance_m) + " m, " + num(o.minutes_apart) + " menit dari laporan ini";
  }

  function bindReview(root) {
    var box = $("review-message");
    function say(kind, text) { box.className = "notice " + kind; box.textContent = text; box.hidden = false; }
    var done = sessionStorage.getItem(DONE_KEY);
    if (done) { sessionStorage.removeItem(DONE_KEY); say("ok", done); }
    function call(id, action, body, doneText) {
      return fetch(cfg.api + "/" + id + "/" + action, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken || "" },
        body: JSON.stringify(body || {})
      }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (d) {
          if (r.ok) { sessionStorage.setItem(DONE_KEY, doneText); window.location.reload(); return; }
          if (r.status === 401 || isCsrf({ status: r.status, data: d })) {
            return say("err", "Sesi berakhir; muat ulang halaman atau masuk lagi.");
          }
          say("err", d.error || ("Gagal (" + r.status + ")"));
        });
      }).catch(function () { say("err", "Jaringan tidak tersedia; coba lagi."); });
    }
    function openMerge(row, id) {
      var panel = row.querySelector(".merge-panel");
      panel.hidden = false;
      panel.textContent = "Mencari laporan di sekitar…";
      fetch(cfg.api + "/" + id + "/candidates", { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); }).then(function (d) {
          panel.textContent = "";
          var items = d.items || [];
          if (!items.length) {
            panel.appendChild(el("p", { "class": "muted small" }, "Tidak ada laporan lain di sekitar waktu dan tempat ini."));
            return;
          }
          var form = el("form", { "class": "merge-choose" });
          form.appendChild(el("p", { "class": "small" }, "Gabungkan laporan ini ke:"));
          items.forEach(function (o, i) {
            var label = el("label", { "class": "candidate" });
            var radio = el("input", { type: "radio", name: "into", value: o.id });
            if (i === 0) { radio.checked = true; }
            label.appendChild(radio);
            label.appendChild(document.createTextNode(" " + candidateLabel(o)));
            if (o.likely) { label.appendChild(el("span", { "class": "badge likely" }, "mungkin duplikat")); }
            label.setAttribute("data-label", (o.category_label || o.category) + (o.kelurahan_nama ? " di " + o.kelurahan_nama : ""));
            form.appendChild(label);
          });
          var actions = el("div", { "class": "actions" });
          actions.appendChild(el("button", { type: "submit", "class": "primary small" }, "Gabungkan"));
          actions.appendChild(el("button", { type: "button", "class": "secondary small", "data-action": "merge-cancel" }, "Batal"));
          form.appendChild(actions);
          form.addEventListener("submit", function (ev) {
            ev.preventDefault();
            var chosen = form.querySelector("input[name=into]:checked");
            if (!chosen) { return; }
            var into = chosen.closest("label").getAttribute("data-label");
            call(id, "merge", { into: chosen.value },
                 rowLabel(row) + " digabung ke laporan " + into + " (" + chosen.value.slice(0, 8) + ").");
          });
          panel.appendChild(form);
        }).catch(function () { panel.textContent = "Jaringan tidak tersedia; coba lagi."; });
    }
    root.addEventListener("click", function (ev) {
      var btn = ev.target.closest("button[data-action]");
      if (!btn) { return; }
      var row = btn.closest("tr"), id = row.getAttribute("data-id"), action = btn.getAttribute("data-action");
      if (action === "verify") { return call(id, action, {}, rowLabel(row) + " diverifikasi."); }
      if (action === "resolve") { return call(id, action, {}, rowLabel(row) + " ditandai selesai."); }
      if (action === "reject") {
        var reason = window.prompt("Alasan penolakan:");
        if (reason && reason.trim()) { call(id, "reject", { reason: reason.trim() }, rowLabel(row) + " ditolak."); }
        return;
      }
      if (action === "merge") { return openMerge(row, id); }
      if (action === "merge-cancel") { row.querySelector(".merge-panel").hidden = true; return; }
    });
  }

  if ($("incident-form")) { bindForm($("incident-form")); }
  if ($("incidents-app")) { bindReview($("incidents-app")); }

  window.GisdeskEntry = { enqueue: enqueue, flush: flush, queue: queue,
    reportUrl: function (lat, lon) {
      return cfg.page + "?lat=" + encodeURIComponent(lat) + "&lon=" + encodeURIComponent(lon);
    } };
})();
