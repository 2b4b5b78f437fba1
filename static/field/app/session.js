/* The session on the tablet. Signing out deletes everything of this user's (IndexedDB and the
 * caches; the server sends Clear-Site-Data too). Idle: kept pages hold calls and addresses, so
 * after as long without a touch as the server allows (SESSION_IDLE_TIMEOUT, the page's
 * data-idle) they are deleted and the tablet goes to sign-in; drafts and the outbox stay (they
 * are this user's unsent work, and only this user's sign-in shows them). */
import { deleteDb, idb } from "./db.js";
import { t } from "./i18n.js";

var body = document.body;

export function wireSignOut() {
  var form = document.getElementById("sign-out");
  if (!form) return;
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    idb.all("outbox").then(function (items) {
      var waiting = items.length;
      if (waiting && !window.confirm(t("signout_pending", { n: waiting }))) return null;
      return forget().then(function () { form.submit(); });
    }, function () { form.submit(); });
  });
}
function forget() {
  return deleteDb().then(function () {
    if (!window.caches) return null;
    return caches.keys().then(function (keys) {
      return Promise.all(keys.map(function (k) { return caches.delete(k); }));
    });
  }).catch(function () {});
}

var IDLE_MS = (parseInt(body.dataset.idle, 10) || 1800) * 1000;
var ACTIVITY_KEY = "acs-field-activity";
function touch() { localStorage.setItem(ACTIVITY_KEY, String(Date.now())); }
export function idleCheck() {
  var last = parseInt(localStorage.getItem(ACTIVITY_KEY), 10);
  if (!last || Date.now() - last < IDLE_MS) return false;
  localStorage.removeItem(ACTIVITY_KEY);
  var done = window.caches ? caches.delete("acs-field-pages") : Promise.resolve();
  done.then(function () { location.href = body.dataset.login || "/accounts/login/"; });
  return true;
}

// Every touch or key counts as activity (the server's clock is the session's own).
export function watchActivity() {
  touch();
  ["pointerdown", "keydown"].forEach(function (type) {
    document.addEventListener(type, touch, { passive: true, capture: true });
  });
  setInterval(idleCheck, 60000);
}
