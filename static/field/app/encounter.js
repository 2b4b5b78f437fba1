/* The encounter form (/field/encounters/new): saved to IndexedDB as it is typed, so a reload, a
 * crash or a flat battery loses nothing; submitted into the outbox with its client UUID and
 * sent when the connection allows. Its parts: encounter_values.js (the fields), people.js and
 * referral_picker.js (people met), forms.js (screens and assessments), encounter_drafts.js
 * (where it starts from). */
import { loadDirectory } from "./directory.js";
import { idb } from "./db.js";
import { findDraft } from "./encounter_drafts.js";
import { fill, hintPart2, readValues } from "./encounter_values.js";
import { wireForms } from "./forms.js";
import { t } from "./i18n.js";
import { sync } from "./outbox.js";
import { wirePeople } from "./people.js";
import { hhmm, localNow, uuid } from "./util.js";

export function wireEncounterForm() {
  var form = document.getElementById("encounter-form");
  if (!form) return;
  var params = new URLSearchParams(location.search);
  var draftId = params.get("draft");
  // `server`: an unfinished encounter opened from the server (its id and what is already
  // recorded on it), so that submitting finishes that one instead of making a twin.
  var state = { id: null, call: null, people: [], fromOutbox: null, server: null };
  // Drafts: saved on every change, restored on reload.
  var timer = null;
  var stateLine = document.getElementById("draft-state");
  // The encounter's forms (null on a page without them) ask who is on the encounter.
  var forms = null;
  function save() {
    clearTimeout(timer);
    timer = setTimeout(saveNow, 300);
  }
  function saveNow() {
    // Once submitted, the encounter lives in the outbox: a save after that (the pagehide of
    // the page leaving for home) would bring back a draft, or an outbox item already sent.
    if (!state.id || state.submitted) return Promise.resolve();
    var record = { id: state.id, savedAt: new Date().toISOString(), call: state.call, values: readValues(form), people: state.people, server: state.server };
    if (forms) record.forms = forms.state();
    if (state.fromOutbox) {
      // Fixing a refused item: the edits stay with it until it is sent again.
      state.fromOutbox.draft = record;
      return idb.put("outbox", state.fromOutbox);
    }
    return idb.put("drafts", record).then(function () {
      stateLine.textContent = t("draft_saved") + " · " + hhmm(record.savedAt);
      if (params.get("draft") !== state.id) {
        params.delete("encounter");
        params.set("draft", state.id);
        history.replaceState(null, "", location.pathname + "?" + params.toString());
      }
      document.getElementById("discard").hidden = false;
    });
  }
  var people = wirePeople({ form: form, state: state, save: save });
  forms = wireForms({ people: function () { return state.people; } });

  function showCall() {
    form.elements.call.value = state.call || "";
    var label = document.getElementById("call-label");
    label.hidden = !state.call;
  }

  // +/- for the anonymous count
  form.querySelectorAll(".stepper button").forEach(function (b) {
    b.addEventListener("click", function () {
      var input = document.getElementById(b.getAttribute("aria-controls"));
      var v = (parseInt(input.value, 10) || 0) + parseInt(b.dataset.step, 10);
      input.value = Math.max(0, Math.min(50, v));
      save();
    });
  });

  form.addEventListener("input", save);
  form.addEventListener("change", save);
  form.elements.narrative.addEventListener("input", function () { hintPart2(form); });
  form.elements.narrative_part2.addEventListener("change", function () { hintPart2(form); });
  window.addEventListener("pagehide", function () { saveNow(); });
  document.getElementById("discard").addEventListener("click", function () {
    idb.del("drafts", state.id).then(function () { location.href = "/field/"; });
  });

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    clearTimeout(timer);
    var values = readValues(form);
    var missing = [];
    if (!values.unit) missing.push(form.elements.unit);
    if (!values.disposition) missing.push(form.querySelector("input[name=disposition]"));
    if (missing.length) {
      missing[0].focus();
      var box = document.getElementById("sync-refusal");
      box.hidden = false;
      // Name what is missing in words (never "Disposition: ?").
      box.textContent = missing
        .map(function (field) {
          var set = field.closest("fieldset");
          var label = set ? set.querySelector("legend") : form.querySelector("label[for=" + field.id + "]");
          return t("required_named").replace("%(field)s", (label ? label.textContent : field.name).trim());
        })
        .join(" ");
      return;
    }
    var formsProblem = forms ? forms.check() : "";
    if (formsProblem) {
      var formsBox = document.getElementById("sync-refusal");
      formsBox.hidden = false;
      formsBox.textContent = formsProblem;
      return;
    }
    var payload = Object.assign({ client_id: state.id, call: state.call || null }, values);
    var progress = { residents: {}, encounter: null, consents: {}, referrals: {}, followUps: {} };
    if (state.server) {
      // Already on the server: the encounter is patched and submitted, and what was
      // recorded on it is not recorded again.
      progress.encounter = state.server.encounter;
      progress.consents = Object.assign({}, state.server.consents);
      progress.referrals = Object.assign({}, state.server.referrals);
      progress.followUps = Object.assign({}, state.server.followUps);
    }
    var item = state.fromOutbox || {
      id: state.id,
      kind: "encounter",
      created: new Date().toISOString(),
      progress: progress,
    };
    item.payload = payload;
    item.people = state.people;
    item.forms = forms ? forms.state() : [];
    item.state = "pending";
    item.error = null;
    item.attempts = 0;
    item.nextTry = 0;
    item.dirty = !!item.progress.encounter;
    delete item.draft;
    state.submitted = true;
    idb.put("outbox", item)
      .then(function () { return idb.del("drafts", state.id); })
      .then(function () {
        sessionStorage.setItem("acs-flash", t("queued"));
        // Send now if the line is up; the home page shows the outcome either way.
        if (navigator.onLine) return Promise.race([sync(false), new Promise(function (r) { setTimeout(r, 4000); })]);
        return null;
      })
      .then(function () { return idb.get("outbox", item.id); })
      .then(function (left) {
        // An honest word: "Sent" once the server has it, "Saved on this tablet" otherwise.
        sessionStorage.setItem("acs-flash", t(left ? "queued" : "sent"));
        location.href = "/field/";
      });
  });

  // Start: a draft or a refused item to fix, an unfinished encounter from the server, or a
  // new encounter with a new client UUID.
  loadDirectory().then(function () {
    return findDraft(params.get("encounter"), draftId);
  }).then(function (found) {
    if (found) {
      state.id = found.draft.id;
      state.call = found.draft.call || null;
      state.people = found.draft.people || [];
      state.fromOutbox = found.item;
      state.server = found.draft.server || null;
      fill(form, found.draft.values);
      if (forms) forms.restore(found.draft.forms || (found.item && found.item.forms));
      if (forms && state.server && state.server.forms) forms.recorded(state.server.forms);
      stateLine.textContent = t(found.fromServer ? "draft_from_server" : "draft_restored");
      document.getElementById("discard").hidden = !!found.item;
      if (found.item && found.item.error) {
        var box = document.getElementById("sync-refusal");
        box.hidden = false;
        var fields = Object.keys(found.item.error.fields || {}).map(function (k) {
          return k + ": " + [].concat(found.item.error.fields[k]).join(" ");
        });
        box.textContent = found.item.error.message + (fields.length ? " (" + fields.join("; ") + ")" : "");
      }
    } else {
      // A copy of this page may come from the service worker's cache: the client UUID is
      // always made here, never taken from the page.
      state.id = uuid();
      form.elements.client_id.value = state.id;
      state.call = params.get("call");
      if (params.get("unit")) form.elements.unit.value = params.get("unit");
      form.elements.occurred_at.value = localNow();
    }
    form.elements.client_id.value = state.id;
    showCall();
    people.renderPeople();
    // The unit and the disposition, set from the link or the draft, decide the forms bound.
    if (forms) forms.mark();
    // What each person's consent covers, as the server has it now (for the picker).
    state.people.forEach(function (person) { if (!person.sharing) people.loadSharing(person); });
  });
}
