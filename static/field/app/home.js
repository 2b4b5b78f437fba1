/* The home page: what is still on this tablet (drafts, items waiting or refused), each to open,
 * fix or discard; the server's unfinished encounters this tablet holds are listed once. */
import { button, link, pendingRow } from "./dom.js";
import { idb } from "./db.js";
import { t } from "./i18n.js";
import { render } from "./status.js";
import { hhmm } from "./util.js";

export function renderPending() {
  var section = document.getElementById("pending");
  var list = document.getElementById("pending-list");
  if (!section || !list) return Promise.resolve();
  return Promise.all([idb.all("drafts"), idb.all("outbox")]).then(function (r) {
    var drafts = r[0], items = r[1];
    list.textContent = "";
    drafts.forEach(function (d) {
      list.appendChild(pendingRow(t("draft") + " " + hhmm(d.savedAt), "", [
        link(t("open"), formUrl(d.id)),
        button(t("discard"), function () { idb.del("drafts", d.id).then(renderPending); }),
      ]));
    });
    items.forEach(function (i) {
      var label = (i.kind === "encounter" ? t("encounter") : t(i.undo ? "status_undo" : "status_change") + " " + i.unit) + " " + hhmm(i.created);
      var actions = [];
      var why = "";
      if (i.state === "refused") {
        why = i.error ? i.error.message : "";
        if (i.kind === "encounter") actions.push(link(t("fix"), formUrl(i.id)));
        else actions.push(button(t("discard"), function () { idb.del("outbox", i.id).then(function () { renderPending(); render({}); }); }));
      }
      list.appendChild(pendingRow(label + " · " + (i.state === "refused" ? t("refused_one") : t("pending")), why, actions));
    });
    section.hidden = !(drafts.length || items.length);
    // An unfinished encounter this tablet holds (a draft, or an item waiting or refused) is
    // listed once: as this tablet's, where its latest edits are.
    var held = drafts.map(function (d) { return d.id; }).concat(items.map(function (i) { return i.id; }));
    var server = document.getElementById("server-drafts");
    if (server) {
      var shown = 0;
      server.querySelectorAll("li[data-client-id]").forEach(function (li) {
        li.hidden = held.indexOf(li.dataset.clientId) >= 0;
        if (!li.hidden) shown += 1;
      });
      server.hidden = !shown;
    }
  });
}
function formUrl(id) { return "/field/encounters/new?draft=" + encodeURIComponent(id); }
