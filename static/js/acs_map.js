/* The one map component of the project: Leaflet (vendored, static/vendor/leaflet/), set up the
 * same way on every page that draws a map (the operations board, the field app's call and
 * resources pages).
 *
 * - Tiles from the configured server (TILE_URL, an OpenStreetMap-style template); without one,
 *   markers on a plain background: the lists beside every map carry the same information.
 * - When Leaflet did not load (offline, blocked), `AcsMap.create` returns null and leaves the
 *   container's own text (its list or address) in place: never a blank box.
 * - Distances in the city's unit (DISTANCE_UNIT: miles by default, or kilometres).
 */
(function () {
  "use strict";

  var DEFAULT_CENTER = [35.0844, -106.6504]; // Albuquerque, when nothing is placed yet

  function create(element, config, options) {
    options = options || {};
    if (!element || !window.L) return null;
    var map = window.L.map(element, {
      center: options.center || DEFAULT_CENTER,
      zoom: options.zoom || 12,
      zoomControl: true,
      attributionControl: Boolean(config.tile_url),
    });
    if (config.tile_url) {
      window.L.tileLayer(config.tile_url, {
        maxZoom: 19,
        attribution: config.attribution || "",
      }).addTo(map);
      element.classList.add("acs-map-tiled");
    } else {
      element.classList.add("acs-map-plain");
    }
    element.classList.add("acs-map-ready");
    return map;
  }

  // Great-circle distance between two [lat, lng] points, in the configured unit.
  function distance(a, b, unit) {
    var rad = Math.PI / 180;
    var dLat = (b[0] - a[0]) * rad;
    var dLng = (b[1] - a[1]) * rad;
    var h =
      Math.sin(dLat / 2) * Math.sin(dLat / 2) +
      Math.cos(a[0] * rad) * Math.cos(b[0] * rad) * Math.sin(dLng / 2) * Math.sin(dLng / 2);
    var km = 2 * 6371.0088 * Math.asin(Math.sqrt(h));
    return unit === "km" ? km : km / 1.609344;
  }

  function formatDistance(value, unit) {
    return (value < 10 ? value.toFixed(1) : Math.round(value)) + " " + (unit === "km" ? "km" : "mi");
  }

  window.AcsMap = { create: create, distance: distance, formatDistance: formatDistance };
})();
