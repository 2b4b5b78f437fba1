/* Where the encounter form starts from: a draft on this tablet, a refused item to fix (from the
 * outbox), or an unfinished encounter on the server (opened online; this tablet's own copy of it
 * comes first). Null: a new encounter. */
import { api } from "./api.js";
import { idb } from "./db.js";
import { t } from "./i18n.js";
import { localDate, uuid } from "./util.js";

export function showProblem(text) {
  var box = document.getElementById("sync-refusal");
  box.hidden = false;
  box.textContent = text;
}
// An unfinished encounter on the server, as the form holds one: its values, its people
// with what was recorded for each (consent, living situation, referral, follow-up).
function draftFromServer(e) {
  var server = { encounter: e.id, consents: {}, referrals: {}, followUps: {} };
  var people = (e.people || []).map(function (r) {
    var person = {
      key: uuid(), id: r.id, name: r.preferred_name || r.legal_name || "?",
      dob: r.date_of_birth || "", isNew: false, consentMethod: "verbal",
      livingSituation: (e.living_situations || {})[r.id] || "",
    };
    var consent = (e.consents || []).filter(function (c) { return c.resident === r.id && !c.revoked_at; })[0];
    if (consent) {
      person.consentScope = consent.scope;
      person.consentMethod = consent.method;
      server.consents[person.key] = true;
    }
    var referral = (e.referrals || []).filter(function (x) { return x.resident === r.id; })[0];
    if (referral) {
      person.referral = { sent: true, name: referral.service, organizationName: referral.organization, status: referral.status };
      server.referrals[person.key] = referral.id;
    }
    var followUp = (e.follow_ups || []).filter(function (f) { return f.resident === r.id; })[0];
    if (followUp) {
      person.followUp = { kind: followUp.kind, due: localDate(followUp.due_at) };
      server.followUps[person.key] = followUp.id;
    }
    return person;
  });
  return { id: e.client_id, call: e.call, values: e, people: people, server: server, savedAt: new Date().toISOString() };
}
// The forms already recorded on an encounter ({version, form} each), so that they are not asked
// for again; none if the line fails (the server accepts the encounter either way).
function recordedForms(id) {
  return api("GET", "encounters/" + encodeURIComponent(id) + "/forms", undefined, false).then(function (res) {
    if (!res.ok || !res.data) return [];
    return (res.data.responses || []).map(function (r) { return { version: r.version, form: r.form }; });
  }, function () { return []; });
}
function openServerDraft(id) {
  if (!navigator.onLine) { showProblem(t("draft_needs_connection")); return Promise.resolve(null); }
  return api("GET", "encounters/" + encodeURIComponent(id), undefined, false).then(function (res) {
    if (!res.ok) { showProblem(t("draft_not_found")); return null; }
    var e = res.data;
    if (e.status !== "draft") { location.href = "/field/encounters/" + encodeURIComponent(e.id) + "/"; return null; }
    // This tablet's own copy comes first: a refused item to fix, or a draft being edited.
    return idb.get("outbox", e.client_id).then(function (item) {
      if (item) return { draft: item.draft || { id: item.id, call: item.payload.call, values: item.payload, people: item.people }, item: item };
      return idb.get("drafts", e.client_id).then(function (draft) {
        if (draft) return { draft: draft, item: null };
        return recordedForms(id).then(function (forms) {
          var fromServer = draftFromServer(e);
          fromServer.server.forms = forms;
          return { draft: fromServer, item: null, fromServer: true };
        });
      });
    });
  }, function () { showProblem(t("draft_needs_connection")); return null; });
}
// A draft or an outbox item of this tablet's, by the client UUID in ?draft=.
function openTabletDraft(draftId) {
  return idb.get("drafts", draftId).then(function (draft) {
    if (draft) return { draft: draft, item: null };
    return idb.get("outbox", draftId).then(function (item) {
      if (!item) return null;
      var draftOf = item.draft || { id: item.id, call: item.payload.call, values: item.payload, people: item.people };
      return { draft: draftOf, item: item };
    });
  });
}

// ?encounter= (the server's id) or ?draft= (this tablet's client UUID); neither: null.
export function findDraft(encounterId, draftId) {
  if (encounterId) return openServerDraft(encounterId);
  if (!draftId) return Promise.resolve(null);
  return openTabletDraft(draftId);
}
