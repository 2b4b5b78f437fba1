/* Unit status buttons (home and call pages). A tap moves the unit at once on screen and is
 * queued like any write; a toast says what changed, with Undo for ten seconds. Undo drops the
 * tap while it is still on the tablet, and once it has been sent, queues an undo naming it (the
 * same status API, `undoes`): the server marks the tap undone and the unit is back where it was. */
import { setCallStatus } from "./calls.js";
import { idb } from "./db.js";
import { t } from "./i18n.js";
import { isSyncing, sync } from "./outbox.js";
import { render } from "./status.js";
import { uuid } from "./util.js";

var UNDO_MS = 10000;
var toastTimer = null;
function showToast(text, onUndo) {
  var toast = document.getElementById("toast");
  if (!toast) return;
  clearTimeout(toastTimer);
  toast.querySelector("[data-toast-text]").textContent = text;
  var undo = toast.querySelector("[data-toast-undo]");
  var fresh = undo.cloneNode(true);  // one listener: the latest tap's
  undo.parentNode.replaceChild(fresh, undo);
  fresh.hidden = !onUndo;
  if (onUndo) {
    fresh.addEventListener("click", function () {
      clearTimeout(toastTimer);
      toast.hidden = true;
      onUndo();
    });
  }
  toast.hidden = false;
  toastTimer = setTimeout(function () { toast.hidden = true; }, onUndo ? UNDO_MS : 4000);
}
function showUnitStatus(box, status, label) {
  box.dataset.status = status;
  box.dataset.statusLabel = label;
  box.querySelectorAll("form[data-queue=unit_status]").forEach(function (f) {
    var b = f.querySelector("button");
    var on = f.querySelector("input[name=status]").value === status;
    b.classList.toggle("current", on);
    if (on) b.setAttribute("aria-pressed", "true");
    else b.removeAttribute("aria-pressed");
  });
  // The badge says the status at once, in the buttons' own words (one vocabulary).
  var badge = box.querySelector(".status");
  if (badge) {
    badge.textContent = label;
    badge.className = "status status-" + status;
  }
  // The call's line under the title follows at once (the server's answer corrects it when
  // another unit is further along).
  if (box.closest("#my-unit")) setCallStatus(status);
  // Clear takes the call out of the unit's current calls: the page says so.
  var cleared = document.getElementById("cleared");
  if (cleared && box.closest("#my-unit")) {
    cleared.hidden = status !== "cleared";
    document.body.classList.toggle("call-cleared", status === "cleared");
    if (status === "cleared") cleared.scrollIntoView({ block: "start" });
  }
}
export function wireStatusForms() {
  document.querySelectorAll("form[data-queue=unit_status]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var fd = new FormData(form);
      var box = form.closest(".unit") || form.parentElement;
      var callLine = document.getElementById("call-status");
      var before = {
        status: box.dataset.status || "", label: box.dataset.statusLabel || "",
        call: callLine ? callLine.dataset.status : "",
      };
      var status = fd.get("status");
      if (status === before.status) return;
      var label = form.querySelector("button").textContent.trim();
      var eventId = uuid();  // one id per press: the server drops a repeat of the same press
      var item = {
        id: eventId,
        kind: "unit_status",
        unit: form.dataset.unit,
        state: "pending",
        created: new Date().toISOString(),
        body: { event_id: eventId, status: status, call: fd.get("call") || null, at: new Date().toISOString() },
      };
      idb.put("outbox", item).then(function () {
        showUnitStatus(box, status, label);
        showToast(label, before.status ? function () { undoMove(item, box, before); } : null);
        return render({});
      }).then(function () { return sync(false); });
    });
  });
}
function undoMove(item, box, before) {
  showUnitStatus(box, before.status, before.label);
  if (before.call) setCallStatus(before.call);
  showToast(t("undone", { status: before.label }), null);
  idb.get("outbox", item.id).then(function (queued) {
    // Still on the tablet (offline, or refused): the tap is simply dropped.
    if (queued && (queued.state === "refused" || !isSyncing())) return idb.del("outbox", item.id);
    // Sent, or being sent: the server takes it back.
    var undoId = uuid();
    var body = { event_id: undoId, status: before.status, call: item.body.call, at: new Date().toISOString() };
    if (item.body.call) body.undoes = item.body.event_id;
    return idb.put("outbox", {
      id: undoId, kind: "unit_status", undo: true, unit: item.unit, state: "pending",
      created: new Date().toISOString(), body: body,
    });
  }).then(function () { return render({}); }).then(function () { return sync(false); });
}
