/* gisdesk /lapor: a small map to pick or confirm the report's point.
 *
 * Shows the kecamatan outlines (the work area) and a marker where the typed coordinates fall
 * (entry.js sends "gisdesk:point" after the server has read them). A tap on the map writes
 * that point into the coordinates field, which entry.js then reads back and checks (inside
 * the work area or not) before anything is sent. Without network the map is empty, the form
 * still works.
 */
(function () {
  "use strict";
  var box = document.getElementById("lapor-map"), app = document.getElementById("entry-app");
  var input = document.querySelector("#incident-form input[name=coords]");
  if (!box || !input || !window.L) { return; }
  var map = L.map(box, { zoomControl: true, attributionControl: false }).setView([-8.5833, 116.1167], 12);
  var marker = null;
  function place(lat, lon, inside) {
    var style = { radius: 8, weight: 2, color: inside === false ? "#b3261e" : "#0b5cad",
                  fillColor: inside === false ? "#f1aca6" : "#6ea8e6", fillOpacity: 0.8 };
    if (marker) { marker.setLatLng([lat, lon]).setStyle(style); }
    else { marker = L.circleMarker([lat, lon], style).addTo(map); }
    map.setView([lat, lon], Math.max(map.getZoom(), 14));
  }
  fetch(app.dataset.outline, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (fc) {
      if (!fc || !fc.features || !fc.features.length) { return; }
      var outline = L.geoJSON(fc, { interactive: false,
        style: { color: "#555", weight: 1.5, fill: true, fillOpacity: 0.04 } }).addTo(map);
      if (!marker) { map.fitBounds(outline.getBounds()); }
      outline.bringToBack();
    }).catch(function () { /* offline: the form works without the outline */ });
  map.on("click", function (e) {
    input.value = e.latlng.lat.toFixed(6) + ", " + e.latlng.lng.toFixed(6);
    place(e.latlng.lat, e.latlng.lng, undefined);
    input.dispatchEvent(new Event("input", { bubbles: true }));
  });
  document.addEventListener("gisdesk:point", function (ev) {
    place(ev.detail.lat, ev.detail.lon, ev.detail.inside);
  });
})();
