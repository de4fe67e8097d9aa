/* gisdesk readiness pages (/kesiapan, /kesiapan/<tps>).
 *
 * List page: choosing a kelurahan reloads the list for it.
 * TPS page (form only for roles that may report): the whole checklist is sent with fetch to
 * POST /api/tps/<tps>/readiness with a client UUID and the page's CSRF token. A retry of the
 * same content (e.g. after a network error) reuses the UUID, so the server records it once;
 * changed content gets a new UUID. The answer (state + history) is drawn without a reload.
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
  var pending = null;  // {uuid, body} of a send that did not get an answer yet

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
      return "<tr><td>" + esc(wita(h.recorded_at)) + "<small>" + esc(h.recorded_by) + "</small></td><td>" +
        badge(h.state) + '</td><td data-l="Belum"><span class="rd-missing">' + esc(missingOf(h)) +
        "</span>" + (h.note ? "<small>" + esc(h.note) + "</small>" : "") + "</td></tr>";
    }).join("") || '<tr class="empty"><td colspan="3" class="muted">Belum ada riwayat.</td></tr>';
  }

  form.addEventListener("change", preview);
  preview();
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var note = form.elements.note.value.trim();
    var content = JSON.stringify({items: items(), note: note || null});
    if (!pending || pending.content !== content) pending = {uuid: uuid(), content: content};
    var body = JSON.parse(content);
    body.client_uuid = pending.uuid;
    var button = $("readiness-save");
    button.disabled = true;
    message("", "");
    var headers = {"Content-Type": "application/json", Accept: "application/json"};
    if (meta) headers["X-CSRFToken"] = meta.content;
    fetch(app.getAttribute("data-api"), {method: "POST", credentials: "same-origin",
      headers: headers, body: JSON.stringify(body)})
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (d) { return {status: r.status, data: d}; });
      })
      .then(function (res) {
        if (res.status === 200 || res.status === 201) {
          pending = null;
          draw(res.data);
          message("ok", "Tersimpan: " + badge(res.data.current && res.data.current.state) +
            (res.status === 200 ? " (sudah tercatat sebelumnya)" : ""));
        } else if (res.status === 401 || (res.data && res.data.csrf)) {
          message("err", 'Sesi Anda berakhir. <a href="' + esc(app.getAttribute("data-login")) +
            '">Masuk lagi</a>, lalu simpan ulang (isian tidak hilang bila halaman ini tetap terbuka).');
        } else if (res.status === 403) {
          pending = null;
          message("err", "Peran Anda tidak berwenang memperbarui kesiapan TPS.");
        } else {
          if (res.status < 500) pending = null;
          var problems = (res.data.problems || []).map(function (p) {
            return "<li>" + esc(p.field || "") + ": " + esc(p.reason || "") + "</li>"; }).join("");
          message("err", esc(res.data.error || ("Gagal menyimpan (HTTP " + res.status + ").")) +
            (problems ? "<ul>" + problems + "</ul>" : ""));
        }
      }, function () {
        message("err", "Tidak terhubung ke server. Periksa jaringan lalu tekan Simpan lagi; " +
          "data yang sama tidak akan tercatat dua kali.");
      })
      .then(function () { button.disabled = false; });
  });
})();
