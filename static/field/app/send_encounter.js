/* One encounter from the outbox, sent step by step (new residents, the encounter, consents,
 * referrals, follow-ups, forms, submit). Every step is idempotent on the server and its progress
 * is kept with the item, so a retry never makes a twin (docs/architecture.md). */
import { api, check } from "./api.js";
import { idb } from "./db.js";
import { uuid, withoutKeys } from "./util.js";

export function sendEncounter(item, background) {
  var p = item.progress;
  p.followUps = p.followUps || {};
  var chain = Promise.resolve();
  // 1. People added as new on the tablet become resident records first.
  item.people.forEach(function (person) {
    if (!person.isNew || p.residents[person.key]) return;
    chain = chain.then(function () {
      // The person's key on the tablet is the record's client_id: a retry whose first
      // answer was lost gets the record it made, not a refusal as its own duplicate.
      var payload = { client_id: person.key, preferred_name: person.name, confirm_new: !!person.confirmNew };
      if (person.dob) payload.date_of_birth = person.dob;
      return api("POST", "residents", payload, background).then(function (res) {
        check(res, "resident", person.key);
        p.residents[person.key] = res.data.id;
        return idb.put("outbox", item);
      });
    });
  });
  // 2. The encounter, by its client UUID (a retry returns the first); a fixed item is patched.
  chain = chain.then(function () {
    var body = Object.assign({}, item.payload, {
      residents: residentIds(item), living_situations: livingSituations(item),
    });
    if (p.encounter && !item.dirty) return null;
    var req = p.encounter
      ? api("PATCH", "encounters/" + p.encounter, withoutKeys(body, ["client_id", "unit", "call"]), background)
      : api("POST", "encounters", body, background);
    return req.then(function (res) {
      check(res, "encounter");
      p.encounter = res.data.id;
      item.dirty = false;
      return idb.put("outbox", item);
    });
  });
  // 3. Consents captured on scene, each by its own client UUID (made when the scope was
  // chosen and kept with the item): a retry gets the consent its first attempt recorded.
  item.people.forEach(function (person) {
    if (!person.consentScope || p.consents[person.key]) return;
    chain = chain.then(function () {
      var resident = residentOf(item, person);
      var recorded = Promise.resolve(false);
      if (!person.consentClientId) {
        // Queued before consents had client ids: look for it as the tablet did then.
        person.consentClientId = uuid();
        recorded = api("GET", "residents/" + resident + "/consents", undefined, background).then(function (res) {
          check(res, "consent", person.key);
          return (res.data.results || []).some(function (c) {
            return c.encounter === p.encounter && c.scope === person.consentScope && !c.revoked_at;
          });
        });
      }
      return recorded.then(function (already) {
        if (already) return null;
        var payload = {
          client_id: person.consentClientId,
          scope: person.consentScope,
          method: person.consentMethod || "verbal",
          encounter: p.encounter,
        };
        if (person.consentScope === "share_named_partner" && person.referral) {
          payload.organization = person.referral.organization;
        }
        // The id is stored before it is sent, so every retry carries the same one.
        return idb.put("outbox", item).then(function () {
          return api("POST", "residents/" + resident + "/consents", payload, background);
        }).then(function (r2) {
          check(r2, "consent", person.key);
        });
      }).then(function () {
        p.consents[person.key] = true;
        return idb.put("outbox", item);
      });
    });
  });
  // 4. Referrals, by their own client UUIDs.
  item.people.forEach(function (person) {
    if (!person.referral || p.referrals[person.key]) return;
    chain = chain.then(function () {
      var payload = {
        client_id: person.referral.clientId,
        resident: residentOf(item, person),
        service: person.referral.service,
        service_at_location: person.referral.serviceAtLocation || null,
        encounter: p.encounter,
        needs: item.payload.needs || [],
      };
      return api("POST", "referrals", payload, background).then(function (res) {
        check(res, "referral", person.key);
        p.referrals[person.key] = res.data.id;
        return idb.put("outbox", item);
      });
    });
  });
  // 5. Follow-ups asked for (one per person per encounter on the server).
  item.people.forEach(function (person) {
    if (!person.followUp || !person.followUp.kind || p.followUps[person.key]) return;
    chain = chain.then(function () {
      var due = person.followUp.due ? new Date(person.followUp.due + "T10:00") : new Date(Date.now() + 2 * 86400000);
      var payload = { resident: residentOf(item, person), kind: person.followUp.kind, due_at: due.toISOString() };
      return api("POST", "encounters/" + p.encounter + "/follow-ups", payload, background).then(function (res) {
        check(res, "follow_up", person.key);
        p.followUps[person.key] = res.data.id;
        return idb.put("outbox", item);
      });
    });
  });
  // 5b. Forms filled in on the encounter (static/field/app/forms.js), each by its client UUID.
  p.forms = p.forms || {};
  (item.forms || []).forEach(function (f) {
    if (p.forms[f.client_id]) return;
    chain = chain.then(function () {
      var person = f.person && item.people.filter(function (x) { return x.key === f.person; })[0];
      var payload = {
        client_id: f.client_id, version: f.version, answers: f.answers, language: f.language,
        started_at: f.started_at || item.created, resident: person ? residentOf(item, person) : null,
      };
      return api("POST", "encounters/" + p.encounter + "/forms", payload, background).then(function (res) {
        check(res, "form");
        p.forms[f.client_id] = res.data.id;
        return idb.put("outbox", item);
      });
    });
  });
  // 6. Submit (idempotent).
  return chain.then(function () {
    return api("POST", "encounters/" + p.encounter + "/submit", {}, background).then(function (res) {
      check(res, "submit");
    });
  });
}
function residentOf(item, person) {
  return person.isNew ? item.progress.residents[person.key] : person.id;
}
// Each person's living situation on this contact, by their record's id (once it exists).
function livingSituations(item) {
  var out = {};
  item.people.forEach(function (person) {
    var id = residentOf(item, person);
    if (id && person.livingSituation) out[id] = person.livingSituation;
  });
  return out;
}
function residentIds(item) {
  return item.people.map(function (person) { return residentOf(item, person); }).filter(Boolean);
}
