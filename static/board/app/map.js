// The board's map, and the selection kept in step between the lists and the map: selecting a
// row highlights and centres its mark; selecting a mark selects and scrolls to its row.
// Everything works without the map (the tables are its text equivalent).

import { WAITING, level, missing, urgency } from "./rules.js";
import { state, serverNow } from "./state.js";

let map = null;
let layers = null;
let fitted = false;
// The board's own moves of the map (fitting the marks, bringing a chosen row's mark into
// view) do not count as the supervisor's.
let following = true;
let movingByBoard = false;

export function callStyle(c, lv, isSelected) {
  const color = WAITING[c.status]
    ? lv === "over"
      ? "#b3261e"
      : lv === "warn"
        ? "#c77700"
        : "#0b5fff"
    : "#6a1b9a";
  return {
    radius: isSelected ? 11 : 8 - Math.min(c.priority, 5) + 3,
    color: isSelected ? "#111" : "#fff",
    weight: isSelected ? 4 : 1.5,
    fillColor: color,
    fillOpacity: 0.9,
  };
}

function moveMap(move) {
  movingByBoard = true;
  try {
    move();
  } finally {
    movingByBoard = false;
  }
}

function onUserMove() {
  if (!movingByBoard) following = false;
}

function add(kind, id, layer) {
  layer.on("click", function () {
    select(kind, id, "map");
  });
  layer.addTo(layers);
  const el = layer.getElement && layer.getElement();
  if (el) {
    el.dataset.kind = kind;
    el.dataset.id = id;
  }
  state.marks[kind + ":" + id] = layer;
}

// Marks are kept between updates and changed in place (position, style, tooltip): a poll
// that lands while someone clicks a mark must not swap the element under the pointer (the
// click would be lost), and 2,000 calls are not rebuilt for every change.
function placeMarks(snapshot, seen, bounds) {
  const th = snapshot.thresholds;
  const now = serverNow();
  const marks = state.marks;
  snapshot.resources.forEach(function (r) {
    if (missing(r.lat)) return;
    const tip = r.name + " · " + r.available + "/" + r.total + " " + r.unit;
    let m = marks["resource:" + r.id];
    if (m) {
      m.setLatLng([r.lat, r.lng]).setTooltipContent(tip);
    } else {
      m = window.L.circleMarker([r.lat, r.lng], {
        radius: 6,
        color: "#fff",
        weight: 1,
        fillColor: "#1b7f3b",
        fillOpacity: 0.85,
        className: "mark mark-resource",
      }).bindTooltip(tip);
      add("resource", r.id, m);
    }
    seen["resource:" + r.id] = true;
    bounds.push([r.lat, r.lng]);
  });
  snapshot.calls.forEach(function (c) {
    if (missing(c.lat)) return;
    const style = callStyle(c, level(urgency(c, th, now).share), false);
    const tip = c.incident + " · P" + c.priority + " · " + c.status_label;
    let m = marks["call:" + c.id];
    if (m) {
      m.setLatLng([c.lat, c.lng]).setStyle(style).setTooltipContent(tip);
    } else {
      style.className = "mark mark-call";
      m = window.L.circleMarker([c.lat, c.lng], style).bindTooltip(tip);
      add("call", c.id, m);
    }
    m._call = c;
    seen["call:" + c.id] = true;
    bounds.push([c.lat, c.lng]);
  });
  snapshot.units.forEach(function (u) {
    if (missing(u.lat) || !u.in_service) return;
    const title = u.call_sign + " · " + u.status_label;
    let m = marks["unit:" + u.id];
    if (m) {
      m.setLatLng([u.lat, u.lng]);
    } else {
      const icon = window.L.divIcon({
        className: "unit-mark mark mark-unit",
        html: "",
        iconSize: [56, 20],
      });
      m = window.L.marker([u.lat, u.lng], { icon: icon, keyboard: false, title: title });
      add("unit", u.id, m);
    }
    const el = m.getElement();
    if (el) {
      el.textContent = u.call_sign;
      el.title = title;
    }
    seen["unit:" + u.id] = true;
    bounds.push([u.lat, u.lng]);
  });
}

export function drawMap() {
  if (!map) {
    map = window.AcsMap.create(document.getElementById("board-map"), state.config, {});
    if (!map) return;
    layers = window.L.layerGroup().addTo(map);
    map.on("movestart zoomstart", onUserMove);
  }
  const bounds = [];
  const seen = {};
  placeMarks(state.snapshot, seen, bounds);
  Object.keys(state.marks).forEach(function (key) {
    if (!seen[key]) {
      layers.removeLayer(state.marks[key]);
      delete state.marks[key];
    }
  });
  // The container may have been laid out after the map was made.
  map.invalidateSize(false);
  // Until the supervisor moves or zooms the map, it keeps every mark in view: a call or a
  // unit that lands outside it widens the view (never a mark off the edge, unseen and out
  // of reach). Once they have moved it, the map stays where they put it.
  if (following && bounds.length) {
    const inView = map.getBounds().pad(-0.05);
    const outside = bounds.some(function (b) {
      return !inView.contains(b);
    });
    if (outside || !fitted) {
      moveMap(function () {
        map.fitBounds(bounds, { padding: [30, 30], maxZoom: 14, animate: false });
      });
      fitted = true;
    }
  }
  applySelection(false);
}

export function select(kind, id, from) {
  state.selected = { kind: kind, id: id };
  applySelection(from === "map");
  if (from === "list" && map) {
    // Brought into view only when it is not already well inside it: a mark in view stays
    // put (no map moving under the pointer, nor the eye, when it need not).
    const mark = state.marks[kind + ":" + id];
    if (mark && !map.getBounds().pad(-0.1).contains(mark.getLatLng())) {
      moveMap(function () {
        map.panTo(mark.getLatLng());
      });
    }
  }
}

export function applySelection(scroll) {
  const selected = state.selected;
  const chosen = selected ? selected.kind + ":" + selected.id : null;
  Object.keys(state.rows).forEach(function (key) {
    const on = key === chosen;
    const row = state.rows[key];
    row.classList.toggle("selected", on);
    row.setAttribute("aria-selected", on ? "true" : "false");
    if (on && scroll) row.scrollIntoView({ block: "nearest" });
  });
  const now = serverNow();
  Object.keys(state.marks).forEach(function (key) {
    const on = key === chosen;
    const mark = state.marks[key];
    const el = mark.getElement && mark.getElement();
    if (el) el.classList.toggle("selected", on);
    if (key.indexOf("call:") === 0 && mark.setStyle) {
      const c = mark._call;
      mark.setStyle(callStyle(c, level(urgency(c, state.snapshot.thresholds, now).share), on));
      if (on) mark.bringToFront();
    } else if (key.indexOf("resource:") === 0 && mark.setStyle) {
      mark.setStyle({ color: on ? "#111" : "#fff", weight: on ? 4 : 1, radius: on ? 10 : 6 });
      if (on) mark.bringToFront();
    } else if (mark.setZIndexOffset) {
      mark.setZIndexOffset(on ? 1000 : 0);
    }
    if (on && mark.openTooltip) mark.openTooltip();
    else if (mark.closeTooltip) mark.closeTooltip();
  });
}
