/* The field app's progressive enhancement: ES modules, no build step, no dependencies. This is
 * the entry the field pages load (<script type="module">, templates/responders/field/base.html);
 * each job is a module in ./app/ (the module map: docs/architecture.md, Field app shell).
 *
 * - Drafts: the encounter form is saved to IndexedDB as it is typed (app/encounter.js).
 * - Outbox: a submission is stored with its client UUID and sent through /api/v1/field/ when
 *   the connection allows, step by step; a step the server refuses (4xx) stops the item and
 *   shows why, and the responder opens it, fixes it and sends it again (app/outbox.js,
 *   app/send_encounter.js).
 * - Sync status on every page, calls refreshed in place, the service worker registered.
 * Everything is kept per user, and signing out deletes it from the tablet (app/session.js).
 */
import { wireCalls } from "./app/calls.js";
import { idb } from "./app/db.js";
import { flash, markCurrentNav } from "./app/dom.js";
import { renderPending } from "./app/home.js";
import { retryNow, sync } from "./app/outbox.js";
import { wireResources } from "./app/resources.js";
import { idleCheck, watchActivity, wireSignOut } from "./app/session.js";
import { render } from "./app/status.js";
import { wireStatusForms } from "./app/unit_status.js";

// The encounter form's modules (the form, its people, the referral picker, the bound forms)
// load on that page only: a first visit to any other page on a slow line does not wait for
// them. The page preloads them and the service worker keeps them (responders/field/modules.py).
function wireEncounterPage() {
  if (!document.getElementById("encounter-form")) return;
  import("./app/encounter.js").then(function (module) {
    module.wireEncounterForm();
  });
}

function start() {
  watchActivity();
  var sw = document.body.dataset.sw;
  if ("serviceWorker" in navigator && sw) {
    navigator.serviceWorker.register(sw, { scope: "/field/" }).catch(function () {});
  }
  flash();
  markCurrentNav();
  wireStatusForms();
  wireCalls();
  wireEncounterPage();
  wireResources();
  wireSignOut();
  renderPending();
  render({});
  document.addEventListener("acs:synced", renderPending);
  window.addEventListener("online", function () { render({}); retryNow(); });
  window.addEventListener("offline", function () { render({}); });
  setInterval(function () { sync(true); }, 20000);
  sync(true);

  // For the browser tests and the curious: what is waiting, without opening devtools.
  window.acsField = {
    sync: sync,
    outbox: function () { return idb.all("outbox"); },
    drafts: function () { return idb.all("drafts"); },
  };
}

// Idle for longer than the server allows: the kept pages are deleted and sign-in opens.
if (!idleCheck()) start();
