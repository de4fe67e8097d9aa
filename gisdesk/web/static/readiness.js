/* gisdesk readiness pages (/kesiapan, /kesiapan/<tps>).
 *
 * List page: choosing a kelurahan reloads the list for it.
 * TPS page (form only for roles that may report): "Simpan" puts the whole checklist, with a
 * client UUID and the time it was checked on this device, in a queue kept in localStorage;
 * the queue (every TPS's unsent checklists) is sent in check-time order to the batch endpoint
 * POST /api/readiness with the page's CSRF token, and removed once the server confirms it. A
 * bad connection keeps it queued (retried on "online", every 15 s and on the next page load)
 * with the SAME UUIDs, so nothing is recorded twice; the server keeps the latest check as the
 * current state whatever order things arrive in. The state is redrawn without a reload.
 */
(function () {
  "use strict";
  function $(id) { return document.getElementById(id); }
  function esc(v) {
    return String(v === null || v === undefined ? "" : v).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  // --- list page ------------------------------------------------------------------------
  var pick = $("f-kelurahan");
  if (pick && pick.form) {
    pick.addEventListener("change", function () { pick.form.submit(); });
  }

  // --- TPS page -------------------------------------------------------------------------
  var app = $("readiness-app"), form = $("readiness-form");
  if (!app || !form) return;
  var cfg = JSON.parse($("readiness-config").textContent);
  var labels = cfg.labels, checklist = cfg.checklist;
  var meta = document.querySelector('meta[name="csrf-token"]');
  var partsFmt = new Intl.DateTimeFormat("en-GB", {timeZone: "Asia/Makassar", year: "numeric",
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23"});
  var QUEUE_KEY = "gisdesk.readiness.queue.v1";
  var sending = false;

  function wita(iso) {  // "14-02-2024 07:30 WITA", as the server renders it (gisdesk.entry.wita)
    if (!iso) return "";
    var p = {};
    partsFmt.formatToParts(new Date(iso)).forEach(function (x) { p[x.type] = x.value; });
    return p.day + "-" + p.month + "-" + p.year + " " + p.hour + ":" + p.minute + " WITA";
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();  // secure pages only
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }
  function badge(state) {
    return '<span class="rd-badge ' + esc(state || "none") + '">' +
      esc(state ? (labels[state] || state) : "Belum dilaporkan") + "</span>";
  }
  function items() {
    var out = {};
    form.querySelectorAll("input[name=item]").forEach(function (b) { out[b.value] = b.checked; });
    return out;
  }
  function derive(it) {  // same rule as gisdesk.entry.readiness.derive_state (for the preview)
    var ready = checklist.map(function (i) { return !!it[i.key]; });
    if (ready.every(Boolean)) return "siap";
    var critical = checklist.some(function (i) { return i.critical && !it[i.key]; });
    return (!ready.some(Boolean) || critical) ? "belum" : "sebagian";
  }
  function preview() {
    var el = $("state-preview");
    if (el) el.innerHTML = "Bila disimpan: " + badge(derive(items()));
  }
  function message(kind, html) {
    var el = $("readiness-message");
    el.className = "notice " + kind;
    el.innerHTML = html;
    el.hidden = !html;
  }
  function missingOf(h) {
    var miss = checklist.filter(function (i) { return !(h.items || {})[i.key]; })
      .map(function (i) { return i.label; });
    return miss.length ? miss.join(", ") : "lengkap";
  }
  function draw(data) {
    var cur = data.current;
    var now = $("current-state");
    if (now) now.outerHTML = badge(cur && cur.state).replace("<span ", '<span id="current-state" ');
    $("current-updated").textContent = cur ? "diperbarui " + wita(cur.updated_at) +
      (cur.updated_by ? " oleh " + cur.updated_by : "") : "belum ada laporan kesiapan";
    var body = document.querySelector("#readiness-history tbody");
    body.innerHTML = (data.history || []).map(function (h) {
      return "<tr><td>" + esc(wita(h.checked_at || h.recorded_at)) + "<small>" + esc(h.recorded_by) + "</small></td><td>" +
        badge(h.state) + '</td><td data-l="Belum"><span class="rd-missing">' + esc(missingOf(h)) +
        "</span>" + (h.note ? "<small>" + esc(h.note) + "</small>" : "") + "</td></tr>";
    }).join("") || '<tr class="empty"><td colspan="3" class="muted">Belum ada riwayat.</td></tr>';
  }

  // --- the offline queue ----------------------------------------------------------------
  function queue() {
    try { return JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]"); } catch (e) { return []; }
  }
  function save(q) {
    try { localStorage.setItem(QUEUE_KEY, JSON.stringify(q)); } catch (e) { /* full: keep in memory */ }
    var el = $("readiness-queue");
    if (el) {
      el.hidden = !q.length;
      el.textContent = q.length ? q.length + " data kesiapan tersimpan di perangkat, menunggu dikirim." : "";
    }
  }
  function forget(uuids) {
    save(queue().filter(function (i) { return uuids.indexOf(i.client_uuid) < 0; }));
  }
  function enqueue(content) {
    var q = queue(), last = q.filter(function (i) { return i.tps_kode === app.getAttribute("data-tps"); }).pop();
    // the same content still unsent (e.g. "Simpan" pressed twice offline): keep its UUID
    if (last && JSON.stringify({items: last.items, note: last.note}) === content) return;
    var body = JSON.parse(content);
    q.push({client_uuid: uuid(), tps_kode: app.getAttribute("data-tps"), items: body.items, note: body.note,
            checked_at: new Date().toISOString()});
    save(q);
  }
  function post(updates) {
    var headers = {"Content-Type": "application/json", Accept: "application/json"};
    if (meta) headers["X-CSRFToken"] = meta.content;
    return fetch(app.getAttribute("data-batch-api"), {method: "POST", credentials: "same-origin",
      headers: headers, body: JSON.stringify({updates: updates})})
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (d) { return {status: r.status, data: d}; });
      });
  }
  function refresh(repeated) {
    return fetch(app.getAttribute("data-api"), {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        draw(data);
        message("ok", "Tersimpan: " + badge(data.current && data.current.state) +
          (repeated ? " (sudah tercatat sebelumnya)" : ""));
      });
  }
  function refused(res) {
    var problems = (res.data.problems || []).map(function (p) {
      return "<li>" + esc(p.field || "") + ": " + esc(p.reason || "") + "</li>"; }).join("");
    message("err", esc(res.data.error || ("Gagal menyimpan (HTTP " + res.status + ").")) +
      (problems ? "<ul>" + problems + "</ul>" : ""));
  }
  function flush() {
    var q = queue().sort(function (a, b) { return a.checked_at < b.checked_at ? -1 : 1; });
    if (sending || !q.length) return Promise.resolve();
    sending = true;
    $("readiness-save").disabled = true;
    return post(q).then(function (res) {
      var uuids = q.map(function (i) { return i.client_uuid; });
      if (res.status === 200 || res.status === 201) {
        forget(uuids);
        return refresh(res.status === 200);
      } else if (res.status === 401 || (res.data && res.data.csrf)) {
        message("err", 'Sesi Anda berakhir. <a href="' + esc(app.getAttribute("data-login")) +
          '">Masuk lagi</a>; data kesiapan tetap tersimpan di perangkat dan dikirim sesudahnya.');
      } else if (res.status === 403) {
        forget(uuids);
        message("err", "Peran Anda tidak berwenang memperbarui kesiapan TPS.");
      } else if (res.status < 500 && q.length > 1) {
        // all or nothing refused the lot: send one by one so only the bad one is dropped
        return q.reduce(function (p, item) {
          return p.then(function () {
            return post([item]).then(function (one) {
              if (one.status < 500 && one.status !== 401 && !(one.data && one.data.csrf)) {
                forget([item.client_uuid]);
                if (one.status >= 400) refused(one);
              }
            });
          });
        }, Promise.resolve()).then(function () { return refresh(false); });
      } else if (res.status < 500) {
        forget(uuids);
        refused(res);
      } else {
        message("err", "Server sedang bermasalah; data kesiapan tersimpan di perangkat dan dikirim lagi otomatis.");
      }
    }, function () {
      message("err", "Tidak terhubung ke server. Data kesiapan tersimpan di perangkat dan dikirim " +
        "otomatis saat tersambung; data yang sama tidak akan tercatat dua kali.");
    }).then(function () { sending = false; $("readiness-save").disabled = false; },
            function () { sending = false; $("readiness-save").disabled = false; });
  }

  form.addEventListener("change", preview);
  preview();
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var note = form.elements.note.value.trim();
    enqueue(JSON.stringify({items: items(), note: note || null}));
    message("", "");
    flush();
  });
  window.addEventListener("online", flush);
  setInterval(flush, 15000);
  save(queue());
  flush();
  window.GisdeskReadiness = {queue: queue, flush: flush};
})();
