// The board's lists (calls, units, places with room, the figures) and their clocks.

import { callStyle } from "./map.js";
import { duration, level, missing, since, urgency } from "./rules.js";
import { state, serverNow, t } from "./state.js";

function cell(tr, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  tr.appendChild(td);
  return td;
}

function badge(td, text, className) {
  const span = document.createElement("span");
  span.className = "badge " + className;
  span.textContent = text;
  td.appendChild(span);
}

function makeRow(kind, id, label) {
  const tr = document.createElement("tr");
  tr.dataset.kind = kind;
  tr.dataset.id = id;
  tr.tabIndex = 0;
  tr.setAttribute("aria-label", label);
  tr.setAttribute("aria-selected", "false");
  state.rows[kind + ":" + id] = tr;
  return tr;
}

export function renderCalls(now) {
  const th = state.snapshot.thresholds;
  const calls = state.snapshot.calls.map(function (c) {
    return { call: c, u: urgency(c, th, now) };
  });
  calls.sort(function (a, b) {
    if (a.u.returning !== b.u.returning) return a.u.returning ? -1 : 1;
    return b.u.share - a.u.share || a.call.received_ms - b.call.received_ms;
  });
  const body = document.getElementById("calls-body");
  const frag = document.createDocumentFragment();
  calls.forEach(function (item) {
    const c = item.call;
    const tr = makeRow("call", c.id, c.incident + " " + c.status_label);
    const p = cell(tr, "P" + c.priority);
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

export function renderUnits() {
  const body = document.getElementById("units-body");
  const frag = document.createDocumentFragment();
  const oos = document.createDocumentFragment();
  let inService = 0;
  let outOfService = 0;
  state.snapshot.units.forEach(function (u) {
    if (!u.in_service) {
      const li = document.createElement("li");
      li.textContent = u.call_sign + (u.team ? " · " + u.team : "");
      li.dataset.unit = u.call_sign;
      oos.appendChild(li);
      outOfService += 1;
      return;
    }
    inService += 1;
    const tr = makeRow("unit", u.id, u.call_sign + " " + u.status_label);
    const sign = cell(tr, u.call_sign);
    if (u.needs_confirmation) badge(sign, t("confirm"), "confirm");
    cell(tr, u.team || "–");
    cell(tr, u.status_label);
    const st = cell(tr, "", "age unit-status");
    st.dataset.since = u.status_ms || "";
    st.dataset.onScene = u.status === "on_scene" ? "1" : "";
    cell(tr, u.call_incident || "–");
    const pos = cell(tr, "", "position");
    pos.dataset.at = u.position_ms || "";
    pos.dataset.text = !missing(u.lat) ? u.lat.toFixed(4) + ", " + u.lng.toFixed(4) : t("unknown");
    tr._unit = u;
    frag.appendChild(tr);
  });
  body.replaceChildren(frag);
  document.getElementById("oos-list").replaceChildren(oos);
  document.getElementById("units-count").textContent = "(" + inService + ")";
  document.getElementById("oos-count").textContent = "(" + outOfService + ")";
}

export function renderResources() {
  const body = document.getElementById("resources-body");
  const frag = document.createDocumentFragment();
  state.snapshot.resources.forEach(function (r) {
    const tr = makeRow("resource", r.id, r.name + " " + r.available + "/" + r.total);
    cell(tr, r.name);
    cell(tr, r.location || "–");
    const free = cell(tr, r.available + " / " + r.total + " " + r.unit);
    if (r.stale) badge(free, t("stale"), "stale");
    frag.appendChild(tr);
  });
  body.replaceChildren(frag);
  document.getElementById("resources-count").textContent =
    "(" + state.snapshot.resources.length + ")";
}

export function renderFigures() {
  const f = state.snapshot.figures;
  document.querySelectorAll("[data-figure]").forEach(function (dd) {
    const key = dd.dataset.figure;
    const value = f[key];
    if (/_seconds$/.test(key)) dd.textContent = missing(value) ? "–" : duration(value * 1000);
    else dd.textContent = missing(value) ? "–" : String(value);
  });
}

// Ages, colours and the "returned to police" warning, as the clock runs.
export function tick() {
  const now = serverNow();
  const th = state.snapshot.thresholds;
  const selected = state.selected;
  document.querySelectorAll("#calls-body tr").forEach(function (tr) {
    const c = tr._call;
    const u = urgency(c, th, now);
    const lv = level(u.share);
    tr.classList.toggle("urgency-over", lv === "over");
    tr.classList.toggle("urgency-warn", lv === "warn");
    tr.classList.toggle("returning", u.returning);
    tr.dataset.urgency = lv;
    tr.querySelectorAll(".age").forEach(function (td) {
      td.textContent = since(td.dataset.since, now);
    });
    const status = tr.children[3];
    status.textContent = c.status_label;
    if (u.returning) {
      const mins = Math.max(Math.ceil(u.returnIn), 0);
      badge(
        status,
        mins > 0 ? t("returning") + " " + mins + " min" : t("returning_now"),
        "returning",
      );
    } else if (lv !== "ok") {
      badge(status, lv === "over" ? "!" : "…", lv);
    }
    const mark = state.marks["call:" + c.id];
    if (mark && mark.setStyle) mark.setStyle(callStyle(c, lv, selected && selected.id === c.id));
  });
  document.querySelectorAll("#units-body tr").forEach(function (tr) {
    const st = tr.querySelector(".unit-status");
    st.textContent = st.dataset.since ? since(st.dataset.since, now) : "–";
    const late =
      st.dataset.onScene &&
      st.dataset.since &&
      now - Number(st.dataset.since) >= th.on_scene_minutes * 60000;
    tr.classList.toggle("urgency-over", Boolean(late));
    const pos = tr.querySelector(".position");
    pos.textContent = pos.dataset.at
      ? pos.dataset.text + " · " + since(pos.dataset.at, now) + " " + t("ago")
      : pos.dataset.text;
  });
}
