/* The sync line on every page (#sync): what is waiting, refused, or synced, and when. */
import { getMeta, idb } from "./db.js";
import { t } from "./i18n.js";
import { hhmm } from "./util.js";

export function render(state) {
  var el = document.getElementById("sync");
  if (!el) return Promise.resolve();
  return Promise.all([idb.all("outbox"), getMeta("lastSynced"), getMeta("auth")]).then(function (r) {
    var items = r[0], last = r[1], auth = r[2];
    var pending = items.filter(function (i) { return i.state === "pending"; });
    var refused = items.filter(function (i) { return i.state === "refused"; });
    var encounters = pending.filter(function (i) { return i.kind === "encounter"; }).length;
    var others = pending.length - encounters;
    var parts = [];
    if (!navigator.onLine) parts.push(t("offline"));
    if (state.syncing && pending.length && navigator.onLine) parts.push(t("syncing"));
    if (encounters) parts.push(encounters === 1 ? t("encounter_waiting_one") : t("encounters_waiting", { n: encounters }));
    if (others) parts.push(others === 1 ? t("waiting_one") : t("waiting_many", { n: others }));
    if (refused.length) parts.push(t("refused", { n: refused.length }));
    if (auth && auth.needed && pending.length) parts.push(t("signin"));
    if (!pending.length && !refused.length) parts.push(t("all_synced"));
    if (last) parts.push(t("last_synced", { time: hhmm(last) }));
    el.textContent = parts.join(" · ");
    el.className = "sync" + (refused.length ? " refused" : auth && auth.needed && pending.length ? " signin" : pending.length ? "" : " ok");
    el.hidden = false;
    el.dataset.pending = String(pending.length);
    el.dataset.refused = String(refused.length);
  }).catch(function () {});
}
