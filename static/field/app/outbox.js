/* The outbox: writes stored with their client UUIDs (outbox store) and sent through the API
 * when the connection allows, one tab at a time, oldest first, with a growing wait between
 * tries. A refused item waits for the responder (Open to fix); a transient failure retries. */
import { Refused, api, check, explain } from "./api.js";
import { idb, setMeta } from "./db.js";
import { sendEncounter } from "./send_encounter.js";
import { render } from "./status.js";

var syncing = false;
// Asked for while a round was sending (null: not asked): one more round when it ends, so a
// tap made meanwhile goes out then, not at the next timed round. True only if every asker
// was in the background.
var again = null;
// Whether a round is sending now (an undo then asks the server to take a tap back).
export function isSyncing() { return syncing; }
function askAgain(background) {
  again = again === null ? background : again && background;
  return Promise.resolve();
}

function sendUnitStatus(item, background) {
  return api("POST", "units/" + encodeURIComponent(item.unit) + "/status", item.body, background)
    .then(function (res) {
      check(res, "status");
      // A move on a call answers with the call as the server now has it.
      if (item.body.call && res.data && res.data.status) {
        document.dispatchEvent(new CustomEvent("acs:call", { detail: res.data }));
      }
    });
}

function syncOnce(background) {
  if (syncing) return askAgain(background);
  syncing = true;
  render({ syncing: true });
  return idb.all("outbox").then(function (items) {
    var now = Date.now();
    items = items.filter(function (i) { return i.state === "pending" && (!i.nextTry || i.nextTry <= now); });
    items.sort(function (a, b) { return a.created < b.created ? -1 : 1; });
    var chain = Promise.resolve();
    items.forEach(function (item) {
      chain = chain.then(function () {
        if (!navigator.onLine) return null;
        var send = item.kind === "encounter" ? sendEncounter : sendUnitStatus;
        return send(item, background).then(function () {
          return idb.del("outbox", item.id).then(function () {
            return setMeta("lastSynced", new Date().toISOString());
          }).then(function () { return setMeta("auth", null); });
        }, function (failure) {
          if (failure instanceof Refused) {
            item.state = "refused";
            item.error = Object.assign({ step: failure.step, person: failure.person || null }, failure.err);
            item.error.message = explain(item.error);
          } else {
            item.attempts = (item.attempts || 0) + 1;
            var wait = Math.min(300000, 5000 * Math.pow(2, item.attempts - 1));
            item.nextTry = Date.now() + wait / 2 + Math.random() * wait / 2;
            item.lastError = failure && failure.err ? failure.err.message : String(failure);
          }
          return idb.put("outbox", item);
        });
      });
    });
    return chain;
  }).catch(function () { /* the next round tries again */ }).then(function () {
    syncing = false;
    render({});
    document.dispatchEvent(new CustomEvent("acs:synced"));
    if (again === null) return null;
    var asked = again;
    again = null;
    return syncOnce(asked);  // still holding the lock, when there is one
  });
}
export function sync(background) {
  if (syncing) return askAgain(background);  // this tab is sending: once more after it
  if (navigator.locks && navigator.locks.request) {
    // One tab at a time sends the outbox.
    return navigator.locks.request("acs-field-sync", { ifAvailable: true }, function (lock) {
      return lock ? syncOnce(background) : null;
    });
  }
  return syncOnce(background);
}
export function retryNow() {
  return idb.all("outbox").then(function (items) {
    return Promise.all(items.filter(function (i) { return i.state === "pending"; }).map(function (i) {
      i.nextTry = 0;
      return idb.put("outbox", i);
    }));
  }).then(function () { return sync(true); });
}
