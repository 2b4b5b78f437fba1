/* The tablet's position, for the operations board, while the responder's unit is in service.
 *
 * The responder is told on every field page ("Your position is shared with dispatch while
 * ACS-12 is in service") and can pause it there (kept paused on this tablet until resumed).
 * Nothing is sent while paused, offline, or when no unit of theirs is in service; at most one
 * position a minute (data-every). The server keeps positions short-term only
 * (docs/security.md). Apart from field.js, which does not depend on it.
 */
(function () {
  "use strict";

  var bar = document.getElementById("position-sharing");
  if (!bar || !navigator.geolocation) return;
  var units = (document.body.dataset.unitsInService || "").trim().split(/\s+/).filter(Boolean);
  if (!units.length) return;
  var text = bar.querySelector("[data-position-text]");
  var button = bar.querySelector("[data-position-toggle]");
  var key = "acs-position-paused-" + (document.body.dataset.user || "");
  var every = (Number(bar.dataset.every) || 60) * 1000;
  var watch = null;
  var last = 0;

  function paused() {
    return window.localStorage.getItem(key) === "1";
  }
  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function show() {
    var off = paused();
    bar.hidden = false;
    bar.dataset.state = off ? "paused" : "sharing";
    text.textContent = off
      ? bar.dataset.pausedText
      : bar.dataset.sharingText.replace("%(units)s", units.join(", "));
    button.textContent = off ? bar.dataset.resume : bar.dataset.pause;
    button.setAttribute("aria-pressed", off ? "true" : "false");
  }
  function send(position) {
    var now = Date.now();
    if (paused() || !navigator.onLine || now - last < every) return;
    last = now;
    var body = JSON.stringify({
      latitude: Math.round(position.coords.latitude * 1e6) / 1e6,
      longitude: Math.round(position.coords.longitude * 1e6) / 1e6,
      at: new Date(position.timestamp || now).toISOString(),
    });
    units.forEach(function (unit) {
      fetch("/api/v1/field/units/" + encodeURIComponent(unit) + "/position", {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "X-CSRFToken": csrfToken(),
          "X-ACS-Background": "1",
        },
        body: body,
      }).catch(function () {
        last = 0; // try again with the next position
      });
    });
  }
  function start() {
    if (watch === null) {
      watch = navigator.geolocation.watchPosition(send, function () {}, {
        maximumAge: 30000,
        timeout: 60000,
      });
    }
  }
  function stop() {
    if (watch !== null) navigator.geolocation.clearWatch(watch);
    watch = null;
  }
  button.addEventListener("click", function () {
    if (paused()) {
      window.localStorage.removeItem(key);
      last = 0;
      start();
    } else {
      window.localStorage.setItem(key, "1");
      stop();
    }
    show();
  });
  show();
  if (!paused()) start();
})();
