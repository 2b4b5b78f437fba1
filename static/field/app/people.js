/* People met on the encounter: found in the records (online) or added as new; each with
 * consent, living situation, a referral (referral_picker.js) and a follow-up. `ctx` is the
 * encounter form's (encounter.js): its form, its state (state.people) and save(). */
import { api, errorOf } from "./api.js";
import { button } from "./dom.js";
import { t } from "./i18n.js";
import { wirePicker } from "./referral_picker.js";
import { inDays, uuid } from "./util.js";

export function wirePeople(ctx) {
  var form = ctx.form;
  var state = ctx.state;
  var save = ctx.save;
  document.getElementById("people").hidden = false;
  var list = document.getElementById("people-list");
  var personTpl = document.getElementById("person-template");

  // What each person's consent covers, as the server has it now (for the picker).
  function loadSharing(person) {
    if (person.isNew || !person.id || !navigator.onLine) return;
    api("GET", "residents/" + encodeURIComponent(person.id) + "/consents", undefined, false).then(function (res) {
      if (!res.ok || !res.data || !res.data.sharing) return;
      person.sharing = res.data.sharing;
      save();
      var li = list.querySelector('li[data-key="' + person.key + '"]');
      if (li && li.refreshPicker) li.refreshPicker();
    }, function () {});
  }
  form.querySelectorAll("input[name=needs]").forEach(function (box) {
    box.addEventListener("change", function () {
      list.querySelectorAll("li.person").forEach(function (li) { if (li.refreshPicker) li.refreshPicker(); });
    });
  });

  // People met: found in the records, or new; each with consent and a referral.
  function renderPeople() {
    list.textContent = "";
    state.people.forEach(function (person) {
      var li = personTpl.content.firstElementChild.cloneNode(true);
      li.dataset.key = person.key;
      li.querySelector("[data-name]").textContent = person.name;
      li.querySelector("[data-meta]").textContent = (person.dob || "") + (person.isNew ? " · " + t("new_person") : "");
      if (!person.isNew && person.id) {
        var profile = li.querySelector("[data-profile]");
        profile.href = "/field/residents/" + encodeURIComponent(person.id) + "/";
        profile.hidden = false;
      }
      var scope = li.querySelector("[data-consent-scope]");
      scope.value = person.consentScope || "";
      scope.addEventListener("change", function () {
        person.consentScope = scope.value;
        // A new consent, a new client UUID: its retries are recognised by the server.
        person.consentClientId = scope.value ? uuid() : null;
        // A consent changed on an unfinished encounter from the server is recorded anew.
        if (state.server) delete state.server.consents[person.key];
        save();
        // The picker says at once what this consent covers.
        if (li.refreshPicker) li.refreshPicker();
      });
      var method = li.querySelector("[data-consent-method]");
      method.value = person.consentMethod || "verbal";
      method.addEventListener("change", function () { person.consentMethod = method.value; save(); });
      var living = li.querySelector("[data-living-situation]");
      living.value = person.livingSituation || "";
      living.addEventListener("change", function () { person.livingSituation = living.value; save(); });
      wirePicker(li, person, ctx);
      var followKind = li.querySelector("[data-follow-up-kind]");
      var followDue = li.querySelector("[data-follow-up-due]");
      followKind.value = person.followUp ? person.followUp.kind : "";
      followDue.value = person.followUp && person.followUp.due ? person.followUp.due : inDays(2);
      function setFollowUp() {
        person.followUp = followKind.value ? { kind: followKind.value, due: followDue.value } : null;
        save();
      }
      followKind.addEventListener("change", setFollowUp);
      followDue.addEventListener("change", setFollowUp);
      var confirmBox = li.querySelector("[data-confirm-new]");
      confirmBox.parentElement.hidden = !person.isNew;
      confirmBox.checked = !!person.confirmNew;
      confirmBox.addEventListener("change", function () { person.confirmNew = confirmBox.checked; save(); });
      li.querySelector("[data-remove]").addEventListener("click", function () {
        state.people = state.people.filter(function (p) { return p.key !== person.key; });
        renderPeople();
        save();
      });
      if (state.fromOutbox && state.fromOutbox.error && state.fromOutbox.error.person === person.key) {
        li.classList.add("refused");
      }
      list.appendChild(li);
    });
  }
  function addPerson(person) {
    if (!person.isNew && state.people.some(function (p) { return p.id === person.id; })) return;
    person.key = person.key || uuid();
    person.consentMethod = person.consentMethod || "verbal";
    state.people.push(person);
    renderPeople();
    save();
    loadSharing(person);
  }
  var hint = document.getElementById("person-hint");
  var results = document.getElementById("person-results");
  document.getElementById("person-search").addEventListener("click", function () {
    var name = document.getElementById("person-name").value.trim();
    var dob = document.getElementById("person-dob").value;
    results.textContent = "";
    if (!name && !dob) return;
    if (!navigator.onLine) { hint.textContent = t("search_offline"); return; }
    var payload = { name: name };
    if (dob) payload.date_of_birth = dob;
    api("POST", "residents/search", payload, false).then(function (res) {
      if (!res.ok) { hint.textContent = errorOf(res).message; return; }
      var rows = res.data.results || [];
      hint.textContent = rows.length ? "" : t("no_matches");
      rows.forEach(function (r) {
        var li = document.createElement("li");
        li.className = "pending-item";
        var label = document.createElement("span");
        var known = r.preferred_name || r.legal_name;
        label.textContent = known + (r.legal_name && r.legal_name !== known ? " (" + r.legal_name + ")" : "") +
          (r.date_of_birth ? " · " + r.date_of_birth : "") +
          (r.aliases && r.aliases.length ? " · " + r.aliases.join(", ") : "");
        if (r.score >= 0.6) {
          var badge = document.createElement("span");
          badge.className = "badge ok";
          badge.textContent = t("likely_same");
          label.appendChild(document.createTextNode(" "));
          label.appendChild(badge);
        }
        li.appendChild(label);
        li.appendChild(button(t("add"), function () {
          addPerson({ id: r.id, name: known, dob: r.date_of_birth || "", isNew: false });
          results.textContent = "";
        }));
        results.appendChild(li);
      });
    }, function () { hint.textContent = t("search_offline"); });
  });
  document.getElementById("person-new").addEventListener("click", function () {
    var nameInput = document.getElementById("person-name");
    var dobInput = document.getElementById("person-dob");
    var name = nameInput.value.trim();
    if (!name) { nameInput.focus(); return; }
    addPerson({ id: null, name: name, dob: dobInput.value || "", isNew: true, confirmNew: false });
    nameInput.value = "";
    dobInput.value = "";
    results.textContent = "";
  });

  return { renderPeople: renderPeople, loadSharing: loadSharing };
}
