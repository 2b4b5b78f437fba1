/* The operations board (cases/board/): lists and map of calls, units and places with room,
 * kept live by conditional polling. An ES module; its parts are in app/ (state.js the shared
 * state, rules.js the urgency rule, lists.js the tables and their clocks, map.js the map and
 * the selection, merge.js a delta merged).
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
 */
import {
  renderCalls,
  renderFigures,
  renderResources,
  renderUnits,
  tick,
} from "./app/lists.js";
import { applySelection, drawMap, select } from "./app/map.js";
import { merge } from "./app/merge.js";
import { state, serverNow, t } from "./app/state.js";

const MAX_RETRY_MS = 5000;
const config = state.config;
let etag = '"' + state.snapshot.version + '"';

function onListEvent(event) {
  const tr = event.target.closest("tbody tr[data-kind]");
  if (!tr) return;
  if (event.type === "keydown" && event.key !== "Enter" && event.key !== " ") return;
  if (event.type === "keydown") event.preventDefault();
  select(tr.dataset.kind, tr.dataset.id, "list");
}
document.querySelector(".board-lists").addEventListener("click", onListEvent);
document.querySelector(".board-lists").addEventListener("keydown", onListEvent);

function render() {
  const now = serverNow();
  state.rows = {};
  renderFigures();
  renderCalls(now);
  renderUnits();
  renderResources();
  tick();
  drawMap();
  const selected = state.selected;
  if (selected && !state.rows[selected.kind + ":" + selected.id]) state.selected = null;
  applySelection(false);
  document.body.dataset.boardVersion = state.snapshot.version;
}

const live = document.getElementById("board-live");
function setLive(ok) {
  if (ok) {
    live.dataset.state = "live";
    live.textContent = t("live") + " " + new Date().toLocaleTimeString();
  } else {
    live.dataset.state = "reconnecting";
    live.textContent = t("reconnecting");
  }
}

let delay = config.poll_ms;
let timer = null;
let inFlight = false;
function schedule(ms) {
  window.clearTimeout(timer);
  timer = window.setTimeout(poll, ms);
}
function poll() {
  if (inFlight) return;
  inFlight = true;
  const headers = { Accept: "application/json", "X-ACS-Background": "1" };
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
          if (!merge(state.snapshot, data)) {
            etag = null; // out of step (a row deleted): the whole snapshot, at once
            delay = 0;
          }
        } else {
          state.snapshot = data;
        }
        document.body.dataset.boardUpdate = data.kind;
        state.skew = data.now_ms - Date.now();
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
