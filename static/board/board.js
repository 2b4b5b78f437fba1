/* The operations board (cases/board/): lists and map of calls, units and places with room,
 * kept live by conditional polling.
 *
 * - Live: every poll_ms, GET /board/data with If-None-Match (the cursor the board holds);
 *   304 is "nothing changed" (one cheap statement on the server); 200 is either a delta (the
 *   calls and units changed since the cursor, the ids of calls that left the board, the
 *   figures, the places only if they changed), merged here by id, or the whole snapshot (a
 *   first load, a cursor too old or unknown, a reset). After a merge the board checks its
 *   numbers of calls and units against the server's counts; a mismatch (a row deleted)
 *   drops the cursor, and the next poll fetches the whole snapshot. A failed request shows
 *   "reconnecting" and is tried again (backing off to at most 5 s) until the server answers:
 *   the page comes back by itself. 401/403 (signed out, role removed) reloads the page, which
 *   then shows the sign-in.
 * - Ages tick here between snapshots, from the server's clock (the skew is measured on every
 *   answer), and the colours follow cases/board/selectors/urgency.py `call_urgency`.
 * - List and map in step: selecting a row highlights and centres its mark; selecting a mark
 *   selects and scrolls to its row. Everything works without the map (the tables are its
 *   text equivalent).
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("board-config").textContent);
  var snapshot = JSON.parse(document.getElementById("board-snapshot").textContent);
  var STRINGS = {};
  var tpl = document.getElementById("board-i18n");
  tpl.content.querySelectorAll("[data-key]").forEach(function (el) {
    STRINGS[el.dataset.key] = el.textContent.trim();
  });
  function t(key) {
    return STRINGS[key] || key;
  }

  var WAITING = { received: true, pending: true };
  var ON_SCENE_STEPS = { on_scene: true, transporting: true, escalated: true };
  var MAX_RETRY_MS = 5000;
  var etag = '"' + snapshot.version + '"';
  var skew = snapshot.now_ms - Date.now();
  var selected = null; // {kind: "call"|"unit"|"resource", id}
  var rows = {}; // "kind:id" -> <tr>
  var marks = {}; // "kind:id" -> Leaflet layer
  var map = null;
  var layers = null;

  function serverNow() {
    return Date.now() + skew;
  }

  // --- the urgency rule (mirrors cases/board/selectors/urgency.py call_urgency) ----------
  function limitMinutes(call, th) {
    if (ON_SCENE_STEPS[call.status]) return th.on_scene_minutes;
    var limit = th.pending_minutes[String(call.priority)];
    if (limit) return limit;
    return Math.max.apply(null, Object.values(th.pending_minutes));
  }
  function urgency(call, th, now) {
    var waiting = Boolean(WAITING[call.status]);
    var since = waiting ? call.received_ms : call.step_ms;
    var minutes = Math.max(now - since, 0) / 60000;
    var returnAt = th.return_minutes - th.return_warning_minutes;
    return {
      share: minutes / limitMinutes(call, th),
      returning: waiting && minutes >= returnAt,
      returnIn: th.return_minutes - minutes,
    };
  }
  function level(share) {
    return share >= 1 ? "over" : share >= 0.75 ? "warn" : "ok";
  }

  function duration(ms) {
    if (ms == null || isNaN(ms)) return "–";
    var s = Math.max(Math.round(ms / 1000), 0);
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    if (h) return h + " h " + (m < 10 ? "0" : "") + m + " min";
    if (m) return m + " min";
    return s + " s";
  }
  function since(ms, now) {
    return ms ? duration(now - Number(ms)) : "–";
  }

  function cell(tr, text, className) {
    var td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    tr.appendChild(td);
    return td;
  }
  function badge(td, text, className) {
    var span = document.createElement("span");
    span.className = "badge " + className;
    span.textContent = text;
    td.appendChild(span);
  }

  function makeRow(kind, id, label) {
    var tr = document.createElement("tr");
    tr.dataset.kind = kind;
    tr.dataset.id = id;
    tr.tabIndex = 0;
    tr.setAttribute("aria-label", label);
    tr.setAttribute("aria-selected", "false");
    rows[kind + ":" + id] = tr;
    return tr;
  }

  // --- lists ------------------------------------------------------------------------------
  function renderCalls(now) {
    var th = snapshot.thresholds;
    var calls = snapshot.calls.map(function (c) {
      return { call: c, u: urgency(c, th, now) };
    });
    calls.sort(function (a, b) {
      if (a.u.returning !== b.u.returning) return a.u.returning ? -1 : 1;
      return b.u.share - a.u.share || a.call.received_ms - b.call.received_ms;
    });
    var body = document.getElementById("calls-body");
    var frag = document.createDocumentFragment();
    calls.forEach(function (item) {
      var c = item.call;
      var tr = makeRow("call", c.id, c.incident + " " + c.status_label);
      var p = cell(tr, "P" + c.priority);
      p.title = t("priority") + " " + c.priority;
      cell(tr, c.incident);
      cell(tr, c.call_type);
      cell(tr, c.status_label);
      cell(tr, "", "age received").dataset.since = c.received_ms;
      cell(tr, "", "age step").dataset.since = c.step_ms;
      cell(tr, c.units.length ? c.units.join(", ") : "–");
      cell(tr, c.address || "–", "address");
      tr._call = c;
      frag.appendChild(tr);
    });
    body.replaceChildren(frag);
    document.getElementById("calls-count").textContent = "(" + calls.length + ")";
  }

  function renderUnits(now) {
    var body = document.getElementById("units-body");
    var frag = document.createDocumentFragment();
    var oos = document.createDocumentFragment();
    var inService = 0;
    var outOfService = 0;
    snapshot.units.forEach(function (u) {
      if (!u.in_service) {
        var li = document.createElement("li");
        li.textContent = u.call_sign + (u.team ? " · " + u.team : "");
        li.dataset.unit = u.call_sign;
        oos.appendChild(li);
        outOfService += 1;
        return;
      }
      inService += 1;
      var tr = makeRow("unit", u.id, u.call_sign + " " + u.status_label);
      var sign = cell(tr, u.call_sign);
      if (u.needs_confirmation) badge(sign, t("confirm"), "confirm");
      cell(tr, u.team || "–");
      cell(tr, u.status_label);
      var st = cell(tr, "", "age unit-status");
      st.dataset.since = u.status_ms || "";
      st.dataset.onScene = u.status === "on_scene" ? "1" : "";
      cell(tr, u.call_incident || "–");
      var pos = cell(tr, "", "position");
      pos.dataset.at = u.position_ms || "";
      pos.dataset.text =
        u.lat != null ? u.lat.toFixed(4) + ", " + u.lng.toFixed(4) : t("unknown");
      tr._unit = u;
      frag.appendChild(tr);
    });
    body.replaceChildren(frag);
    document.getElementById("oos-list").replaceChildren(oos);
    document.getElementById("units-count").textContent = "(" + inService + ")";
    document.getElementById("oos-count").textContent = "(" + outOfService + ")";
  }

  function renderResources() {
    var body = document.getElementById("resources-body");
    var frag = document.createDocumentFragment();
    snapshot.resources.forEach(function (r) {
      var tr = makeRow("resource", r.id, r.name + " " + r.available + "/" + r.total);
      cell(tr, r.name);
      cell(tr, r.location || "–");
      var free = cell(tr, r.available + " / " + r.total + " " + r.unit);
      if (r.stale) badge(free, t("stale"), "stale");
      frag.appendChild(tr);
    });
    body.replaceChildren(frag);
    document.getElementById("resources-count").textContent =
      "(" + snapshot.resources.length + ")";
  }

  function renderFigures() {
    var f = snapshot.figures;
    document.querySelectorAll("[data-figure]").forEach(function (dd) {
      var key = dd.dataset.figure;
      var value = f[key];
      if (/_seconds$/.test(key)) dd.textContent = value == null ? "–" : duration(value * 1000);
      else dd.textContent = value == null ? "–" : String(value);
    });
  }

  // Ages, colours and the "returned to police" warning, as the clock runs.
  function tick() {
    var now = serverNow();
    var th = snapshot.thresholds;
    document.querySelectorAll("#calls-body tr").forEach(function (tr) {
      var c = tr._call;
      var u = urgency(c, th, now);
      var lv = level(u.share);
      tr.classList.toggle("urgency-over", lv === "over");
      tr.classList.toggle("urgency-warn", lv === "warn");
      tr.classList.toggle("returning", u.returning);
      tr.dataset.urgency = lv;
      tr.querySelectorAll(".age").forEach(function (td) {
        td.textContent = since(td.dataset.since, now);
      });
      var status = tr.children[3];
      status.textContent = c.status_label;
      if (u.returning) {
        var mins = Math.max(Math.ceil(u.returnIn), 0);
        badge(status, mins > 0 ? t("returning") + " " + mins + " min" : t("returning_now"),
          "returning");
      } else if (lv !== "ok") {
        badge(status, lv === "over" ? "!" : "…", lv);
      }
      var mark = marks["call:" + c.id];
      if (mark && mark.setStyle) mark.setStyle(callStyle(c, lv, selected && selected.id === c.id));
    });
    document.querySelectorAll("#units-body tr").forEach(function (tr) {
      var st = tr.querySelector(".unit-status");
      st.textContent = st.dataset.since ? since(st.dataset.since, now) : "–";
      var late =
        st.dataset.onScene &&
        st.dataset.since &&
        now - Number(st.dataset.since) >= th.on_scene_minutes * 60000;
      tr.classList.toggle("urgency-over", Boolean(late));
      var pos = tr.querySelector(".position");
      pos.textContent = pos.dataset.at
        ? pos.dataset.text + " · " + since(pos.dataset.at, now) + " " + t("ago")
        : pos.dataset.text;
    });
  }

  // --- map --------------------------------------------------------------------------------
  function callStyle(c, lv, isSelected) {
    var color = WAITING[c.status]
      ? lv === "over" ? "#b3261e" : lv === "warn" ? "#c77700" : "#0b5fff"
      : "#6a1b9a";
    return {
      radius: isSelected ? 11 : 8 - Math.min(c.priority, 5) + 3,
      color: isSelected ? "#111" : "#fff",
      weight: isSelected ? 4 : 1.5,
      fillColor: color,
      fillOpacity: 0.9,
    };
  }

  // Marks are kept between updates and changed in place (position, style, tooltip): a poll
  // that lands while someone clicks a mark must not swap the element under the pointer (the
  // click would be lost), and 2,000 calls are not rebuilt for every change.
  function drawMap() {
    if (!map) {
      map = window.AcsMap.create(document.getElementById("board-map"), config, {});
      if (!map) return;
      layers = window.L.layerGroup().addTo(map);
      map.on("movestart zoomstart", onUserMove);
    }
    var th = snapshot.thresholds;
    var now = serverNow();
    var bounds = [];
    var seen = {};
    snapshot.resources.forEach(function (r) {
      if (r.lat == null) return;
      var tip = r.name + " · " + r.available + "/" + r.total + " " + r.unit;
      var m = marks["resource:" + r.id];
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
      if (c.lat == null) return;
      var style = callStyle(c, level(urgency(c, th, now).share), false);
      var tip = c.incident + " · P" + c.priority + " · " + c.status_label;
      var m = marks["call:" + c.id];
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
      if (u.lat == null || !u.in_service) return;
      var title = u.call_sign + " · " + u.status_label;
      var m = marks["unit:" + u.id];
      if (m) {
        m.setLatLng([u.lat, u.lng]);
      } else {
        var icon = window.L.divIcon({
          className: "unit-mark mark mark-unit",
          html: "",
          iconSize: [56, 20],
        });
        m = window.L.marker([u.lat, u.lng], { icon: icon, keyboard: false, title: title });
        add("unit", u.id, m);
      }
      var el = m.getElement();
      if (el) {
        el.textContent = u.call_sign;
        el.title = title;
      }
      seen["unit:" + u.id] = true;
      bounds.push([u.lat, u.lng]);
    });
    Object.keys(marks).forEach(function (key) {
      if (!seen[key]) {
        layers.removeLayer(marks[key]);
        delete marks[key];
      }
    });
    // The container may have been laid out after the map was made.
    map.invalidateSize(false);
    // Until the supervisor moves or zooms the map, it keeps every mark in view: a call or a
    // unit that lands outside it widens the view (never a mark off the edge, unseen and out
    // of reach). Once they have moved it, the map stays where they put it.
    if (following && bounds.length) {
      var inView = map.getBounds().pad(-0.05);
      var outside = bounds.some(function (b) {
        return !inView.contains(b);
      });
      if (outside || !drawMap.fitted) {
        moveMap(function () {
          map.fitBounds(bounds, { padding: [30, 30], maxZoom: 14, animate: false });
        });
        drawMap.fitted = true;
      }
    }
    applySelection(false);
  }

  // The board's own moves of the map (fitting the marks, bringing a chosen row's mark into
  // view) do not count as the supervisor's.
  var following = true;
  var movingByBoard = false;
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
    var el = layer.getElement && layer.getElement();
    if (el) {
      el.dataset.kind = kind;
      el.dataset.id = id;
    }
    marks[kind + ":" + id] = layer;
  }

  // --- selection, in step between list and map --------------------------------------------
  function select(kind, id, from) {
    selected = { kind: kind, id: id };
    applySelection(from === "map");
    if (from === "list" && map) {
      // Brought into view only when it is not already well inside it: a mark in view stays
      // put (no map moving under the pointer, nor the eye, when it need not).
      var mark = marks[kind + ":" + id];
      if (mark && !map.getBounds().pad(-0.1).contains(mark.getLatLng())) {
        moveMap(function () {
          map.panTo(mark.getLatLng());
        });
      }
    }
  }

  function applySelection(scroll) {
    Object.keys(rows).forEach(function (key) {
      var on = Boolean(selected) && key === selected.kind + ":" + selected.id;
      rows[key].classList.toggle("selected", on);
      rows[key].setAttribute("aria-selected", on ? "true" : "false");
      if (on && scroll) rows[key].scrollIntoView({ block: "nearest" });
    });
    var now = serverNow();
    Object.keys(marks).forEach(function (key) {
      var on = Boolean(selected) && key === selected.kind + ":" + selected.id;
      var mark = marks[key];
      var el = mark.getElement && mark.getElement();
      if (el) el.classList.toggle("selected", on);
      if (key.indexOf("call:") === 0 && mark.setStyle) {
        var c = mark._call;
        mark.setStyle(callStyle(c, level(urgency(c, snapshot.thresholds, now).share), on));
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

  // --- merging a delta (cases/board/selectors/updates.py board_delta) -----------------------
  function byId(list) {
    var index = {};
    list.forEach(function (item) {
      index[item.id] = item;
    });
    return index;
  }

  // Each call's units, in call-sign order, from the units' current calls (the server's rule
  // in board_snapshot; a delta's calls do not carry them).
  function fillCallUnits() {
    var calls = byId(snapshot.calls);
    snapshot.calls.forEach(function (c) {
      c.units = [];
    });
    snapshot.units.forEach(function (u) {
      if (u.call && calls[u.call]) calls[u.call].units.push(u.call_sign);
    });
  }

  // True when the merged board has the server's numbers of open calls and units.
  function merge(delta) {
    var removed = {};
    delta.removed_calls.forEach(function (id) {
      removed[id] = true;
    });
    var changedCalls = byId(delta.calls);
    var calls = snapshot.calls.filter(function (c) {
      return !removed[c.id] && !changedCalls[c.id];
    });
    snapshot.calls = calls.concat(delta.calls).sort(function (a, b) {
      return a.received_ms - b.received_ms || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    });
    var changedUnits = byId(delta.units);
    snapshot.units = snapshot.units
      .filter(function (u) {
        return !changedUnits[u.id];
      })
      .concat(delta.units)
      .sort(function (a, b) {
        return a.call_sign < b.call_sign ? -1 : a.call_sign > b.call_sign ? 1 : 0;
      });
    fillCallUnits();
    if (delta.resources) snapshot.resources = delta.resources;
    ["version", "now", "now_ms", "thresholds", "figures", "counts"].forEach(function (key) {
      snapshot[key] = delta[key];
    });
    return (
      snapshot.calls.length === delta.counts.calls && snapshot.units.length === delta.counts.units
    );
  }

  function onListEvent(event) {
    var tr = event.target.closest("tbody tr[data-kind]");
    if (!tr) return;
    if (event.type === "keydown" && event.key !== "Enter" && event.key !== " ") return;
    if (event.type === "keydown") event.preventDefault();
    select(tr.dataset.kind, tr.dataset.id, "list");
  }
  document.querySelector(".board-lists").addEventListener("click", onListEvent);
  document.querySelector(".board-lists").addEventListener("keydown", onListEvent);

  // --- render and poll --------------------------------------------------------------------
  function render() {
    var now = serverNow();
    rows = {};
    renderFigures();
    renderCalls(now);
    renderUnits(now);
    renderResources();
    tick();
    drawMap();
    if (selected && !rows[selected.kind + ":" + selected.id]) selected = null;
    applySelection(false);
    document.body.dataset.boardVersion = snapshot.version;
  }

  var live = document.getElementById("board-live");
  function setLive(ok) {
    if (ok) {
      live.dataset.state = "live";
      live.textContent = t("live") + " " + new Date().toLocaleTimeString();
    } else {
      live.dataset.state = "reconnecting";
      live.textContent = t("reconnecting");
    }
  }

  var delay = config.poll_ms;
  var timer = null;
  var inFlight = false;
  function schedule(ms) {
    window.clearTimeout(timer);
    timer = window.setTimeout(poll, ms);
  }
  function poll() {
    if (inFlight) return;
    inFlight = true;
    var headers = { Accept: "application/json", "X-ACS-Background": "1" };
    if (etag) headers["If-None-Match"] = etag;
    fetch(config.data_url, {
      headers: headers,
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(function (response) {
        if (response.status === 401 || response.status === 403) {
          window.location.reload();
          return null;
        }
        if (response.status === 304) return null;
        if (!response.ok) throw new Error("HTTP " + response.status);
        etag = response.headers.get("ETag") || etag;
        return response.json();
      })
      .then(function (data) {
        delay = config.poll_ms;
        if (data) {
          if (data.kind === "delta") {
            if (!merge(data)) {
              etag = null; // out of step (a row deleted): the whole snapshot, at once
              delay = 0;
            }
          } else {
            snapshot = data;
          }
          document.body.dataset.boardUpdate = data.kind;
          skew = data.now_ms - Date.now();
          render();
        }
        setLive(true);
      })
      .catch(function () {
        setLive(false);
        delay = Math.min(Math.max(delay, config.poll_ms) * 2, MAX_RETRY_MS);
      })
      .then(function () {
        inFlight = false;
        schedule(delay);
      });
  }

  render();
  setLive(true);
  window.setInterval(tick, 5000);
  schedule(delay);
  // Back from a sleeping laptop or a dropped network: ask at once.
  window.addEventListener("online", function () {
    delay = config.poll_ms;
    schedule(0);
  });
})();
