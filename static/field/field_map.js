/* Maps in the field app (the call page's location, the resources beside their list), drawn by
 * the project's one map component (static/js/acs_map.js over the vendored Leaflet).
 *
 * A map is drawn only while the tablet is online and Leaflet loaded: offline (or without the
 * library) the box shrinks to its own text, which points at the address or the list on the
 * same page, so the responder never faces a blank box. Going offline removes the map; coming
 * back draws it again. Kept apart from field.js, which does not depend on it.
 */
(function () {
  "use strict";

  // The map settings ride on each map's element (the field pages carry no inline script).
  function configOf(el) {
    return {
      tile_url: el.dataset.tileUrl || "",
      attribution: el.dataset.attribution || "",
      distance_unit: el.dataset.distanceUnit || "mi",
    };
  }

  function number(value) {
    var n = parseFloat(value);
    return isNaN(n) ? null : n;
  }

  function points(el) {
    if (el.dataset.fieldMap === "call") {
      return [{ lat: number(el.dataset.lat), lng: number(el.dataset.lng), label: el.dataset.label }];
    }
    var found = [];
    document.querySelectorAll(el.dataset.items).forEach(function (item) {
      found.push({
        lat: number(item.dataset.lat),
        lng: number(item.dataset.lng),
        label: item.dataset.label,
        item: item,
      });
    });
    return found.filter(function (p) {
      return p.lat !== null && p.lng !== null;
    });
  }

  function setUp(el) {
    var map = null;

    function draw() {
      if (map || !navigator.onLine || !window.AcsMap) {
        el.classList.toggle("acs-map-offline", !map);
        return;
      }
      var list = points(el);
      if (!list.length) {
        el.classList.add("acs-map-offline");
        return;
      }
      el.classList.remove("acs-map-offline");
      map = window.AcsMap.create(el, configOf(el), { center: [list[0].lat, list[0].lng], zoom: 15 });
      if (!map) {
        el.classList.add("acs-map-offline");
        return;
      }
      var bounds = [];
      list.forEach(function (p) {
        var mark = window.L.circleMarker([p.lat, p.lng], {
          radius: 9,
          color: "#fff",
          weight: 2,
          fillColor: el.dataset.fieldMap === "call" ? "#b3261e" : "#1b7f3b",
          fillOpacity: 0.9,
          className: "mark",
        })
          .bindTooltip(p.label || "")
          .addTo(map);
        var path = mark.getElement();
        if (path) path.dataset.label = p.label || "";
        if (p.item) {
          mark.on("click", function () {
            document.querySelectorAll(".resource.selected").forEach(function (other) {
              other.classList.remove("selected");
            });
            p.item.classList.add("selected");
            p.item.scrollIntoView({ block: "nearest" });
          });
        }
        bounds.push([p.lat, p.lng]);
      });
      var hereLat = number(el.dataset.hereLat);
      var hereLng = number(el.dataset.hereLng);
      if (hereLat !== null && hereLng !== null) {
        window.L.circleMarker([hereLat, hereLng], {
          radius: 7,
          color: "#0b5fff",
          weight: 3,
          fillColor: "#fff",
          fillOpacity: 1,
          className: "mark mark-here",
        }).addTo(map);
        bounds.push([hereLat, hereLng]);
      }
      // At once, not animated: the places are where they will stay as soon as they are drawn
      // (a tap on a marker during the zoom landed where it no longer was), and an old tablet
      // is spared the animation.
      if (bounds.length > 1) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16, animate: false });
    }

    function drop() {
      if (map) {
        map.remove();
        map = null;
      }
      el.classList.remove("acs-map-ready", "acs-map-tiled", "acs-map-plain");
      el.classList.add("acs-map-offline");
    }

    window.addEventListener("offline", drop);
    window.addEventListener("online", draw);
    draw();
  }

  document.querySelectorAll("[data-field-map]").forEach(setUp);
})();
