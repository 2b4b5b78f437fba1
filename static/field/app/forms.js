/* Forms on the encounter (screens, assessments, safety plans; docs/screening.md).
 *
 * The forms in use come in the page (#acs-forms data-forms, FHIR Questionnaire items), so they
 * open offline from the service worker's copy. Each form renders into #forms-panel
 * (form_render.js); `enableWhen` shows and hides items as they are answered, and `required`
 * items that are shown block the encounter's submission with their names (form_rules.js). The
 * answers ride with the encounter: encounter.js keeps them in the draft (state / restore) and
 * send_encounter.js sends each response, by its own client UUID, in the encounter's outbox
 * chain before the submit step. The server checks everything again
 * (cases/screening/questionnaire.py): these rules mirror it.
 */
import { el } from "./dom.js";
import { read, renderItem, write } from "./form_render.js";
import { QUESTIONS, bound, enabledLinks, present, requiredHere, walk } from "./form_rules.js";
import { t } from "./i18n.js";
import { uuid } from "./util.js";

// `hooks.people()`: who is on the encounter (encounter.js). Null when the page has no forms.
export function wireForms(hooks) {
  var panel = document.getElementById("forms-panel");
  var source = document.getElementById("acs-forms");
  if (!panel || !source) return null;
  var FORMS = JSON.parse(source.getAttribute("data-forms") || "[]");
  var callType = new URLSearchParams(location.search).get("call_type") || "";

  // One entry per form version on the page: its response's state (answers by linkId).
  var responses = {};

  // The encounter's team (the chosen unit's, carried in the page on its option) and its
  // disposition as chosen so far: with the call type, what a binding is matched on.
  function team() {
    var unit = document.getElementById("unit");
    var option = unit && unit.options[unit.selectedIndex];
    return option ? option.getAttribute("data-team") || "" : "";
  }
  function disposition() {
    var chosen = document.querySelector("input[name=disposition]:checked");
    return chosen ? chosen.value : "";
  }
  // This encounter as a binding is matched on.
  function current() {
    return { call_type: callType, team: team(), disposition: disposition() };
  }

  // Marks each form bound to this encounter ("Required for this call" or "For this call") and
  // lists them first; called again when the unit or the disposition changes.
  function mark() {
    var list = panel.querySelector("[data-forms]");
    var sorted = FORMS.slice().sort(function (a, b) {
      var rank = function (f) { return requiredHere(f, current()) ? 2 : bound(f, current()).length ? 1 : 0; };
      return rank(b) - rank(a);
    });
    sorted.forEach(function (form) {
      var r = responses[form.id];
      if (!r) return;
      var badge = r.section.querySelector("summary .badge");
      var here = bound(form, current()).length > 0;
      // Recorded on the server already (an unfinished encounter opened from there): done.
      var required = requiredHere(form, current()) && !r.recorded;
      badge.hidden = !here && !r.recorded;
      badge.className = "badge" + (required ? " warn" : r.recorded ? " ok" : "");
      badge.textContent = r.recorded
        ? t("form_recorded")
        : here ? t(required ? "form_required_here" : "form_suggested_here") : "";
      if (required) r.section.setAttribute("data-required", "1");
      else r.section.removeAttribute("data-required");
      r.section.toggleAttribute("data-bound", here);
      list.appendChild(r.section);
    });
  }

  function people() {
    return hooks && hooks.people ? hooks.people() : [];
  }
  function fillPeople(select, chosen) {
    var keep = chosen !== undefined ? chosen : select.value;
    select.textContent = "";
    select.appendChild(el("option", { value: "" }, t("form_nobody")));
    people().forEach(function (p) { select.appendChild(el("option", { value: p.key }, p.name)); });
    select.value = keep || "";
    if (select.value !== (keep || "")) select.value = "";
  }

  function update(form) {
    var r = responses[form.id];
    var answers = read(form, r.section);
    var enabled = enabledLinks(form.items, answers);
    r.section.querySelectorAll(".form-item").forEach(function (wrap) {
      wrap.hidden = !enabled[wrap.getAttribute("data-link")];
    });
    Object.keys(answers).forEach(function (k) { if (!enabled[k]) delete answers[k]; });
    r.answers = answers;
    if (!r.startedAt && Object.keys(answers).length) r.startedAt = new Date().toISOString();
    r.section.classList.toggle("started", Object.keys(answers).length > 0);
  }

  function build() {
    var list = panel.querySelector("[data-forms]");
    FORMS.forEach(function (form) {
      var section = el("details", { "class": "form-section", "data-form": form.key });
      var summary = el("summary", {}, form.title);
      summary.appendChild(document.createTextNode(" "));
      summary.appendChild(el("span", { "class": "badge", hidden: "" }));
      section.appendChild(summary);
      if (form.description) section.appendChild(el("p", { "class": "meta" }, form.description));
      var whoId = "f-" + form.id.slice(0, 8) + "-who";
      section.appendChild(el("label", { "for": whoId }, t("form_about")));
      var who = el("select", { id: whoId, "data-form-person": "1" });
      section.appendChild(who);
      if (form.purpose === "safety_plan") {
        var langId = "f-" + form.id.slice(0, 8) + "-lang";
        section.appendChild(el("label", { "for": langId }, t("form_copy_language")));
        var lang = el("select", { id: langId, "data-form-language": "1" });
        lang.appendChild(el("option", { value: "en" }, "English"));
        lang.appendChild(el("option", { value: "es" }, "Español"));
        section.appendChild(lang);
      }
      form.items.forEach(function (item) { renderItem(form, item, section); });
      var clear = el("button", { type: "button", "class": "quiet" }, t("form_clear"));
      clear.addEventListener("click", function () {
        write(form, section, {});
        responses[form.id] = { section: section, clientId: uuid(), answers: {}, startedAt: null };
        update(form);
        section.dispatchEvent(new Event("change", { bubbles: true }));
      });
      section.appendChild(clear);
      list.appendChild(section);
      responses[form.id] = { section: section, clientId: uuid(), answers: {}, startedAt: null };
      fillPeople(who);
      who.addEventListener("focus", function () { fillPeople(who); });
      section.addEventListener("toggle", function () { if (section.open) fillPeople(who); });
      section.addEventListener("change", function () { update(form); });
      section.addEventListener("input", function () { update(form); });
      update(form);
    });
    panel.hidden = !FORMS.length;
    mark();
    // The unit (its team) and the disposition decide the bindings too: marked again as they
    // change (the form's own change events bubble from outside the panel).
    document.addEventListener("change", function (event) {
      var target = event.target;
      if (target && (target.id === "unit" || target.name === "disposition")) mark();
    });
  }

  function byId(id) {
    for (var i = 0; i < FORMS.length; i++) if (FORMS[i].id === id) return FORMS[i];
    return null;
  }

  var formsApi = {
    mark: mark,
    // The responses begun on this encounter, as the draft and the outbox keep them.
    state: function () {
      return FORMS.map(function (form) {
        var r = responses[form.id];
        if (!r || !Object.keys(r.answers).length) return null;
        var lang = r.section.querySelector("[data-form-language]");
        return {
          client_id: r.clientId, version: form.id, key: form.key, title: form.title,
          person: r.section.querySelector("[data-form-person]").value || null,
          answers: r.answers, started_at: r.startedAt, language: lang ? lang.value : "en",
        };
      }).filter(Boolean);
    },
    restore: function (saved) {
      (saved || []).forEach(function (s) {
        var form = byId(s.version);
        if (!form) return;
        var r = responses[form.id];
        r.clientId = s.client_id;
        r.startedAt = s.started_at;
        write(form, r.section, s.answers || {});
        var who = r.section.querySelector("[data-form-person]");
        fillPeople(who, s.person || "");
        var lang = r.section.querySelector("[data-form-language]");
        if (lang && s.language) lang.value = s.language;
        r.section.open = true;
        update(form);
      });
    },
    // The forms recorded on the server for this encounter ({version, form} each: an unfinished
    // encounter opened from there, encounter_drafts.js): not asked for again. Their answers stay
    // on the server (they are not sent to the tablet), so the section is marked, not filled.
    recorded: function (list) {
      (list || []).forEach(function (x) {
        FORMS.forEach(function (form) {
          if (form.id !== x.version && form.key !== x.form) return;
          responses[form.id].recorded = true;
        });
      });
      mark();
    },
    // What blocks the submission: a form bound as required to this encounter (its call type,
    // team, disposition) and not filled in, named; required items shown and not answered in a
    // form begun, named; "" if none. (The server accepts the encounter either way, so that an
    // old tablet's or a queued encounter is never lost: the desk sees the gap, docs/screening.md.)
    check: function () {
      mark();
      var missingForms = [];
      var problems = [];
      panel.querySelectorAll(".form-item.missing").forEach(function (w) { w.classList.remove("missing"); });
      panel.querySelectorAll(".form-section.missing").forEach(function (s) { s.classList.remove("missing"); });
      FORMS.forEach(function (form) {
        var r = responses[form.id];
        var started = Object.keys(r.answers).length > 0;
        if (!started && !r.recorded && requiredHere(form, current())) {
          missingForms.push(form.title);
          r.section.classList.add("missing");
          r.section.open = true;
        }
        if (!started) return;
        var enabled = enabledLinks(form.items, r.answers);
        walk(form.items, null, []).forEach(function (e) {
          var item = e.item;
          if (!QUESTIONS[item.type] || !item.required || !enabled[item.linkId]) return;
          if (present(r.answers[item.linkId])) return;
          problems.push(form.title + ": " + item.text);
          var wrap = r.section.querySelector('.form-item[data-link="' + item.linkId + '"]');
          if (wrap) wrap.classList.add("missing");
          r.section.open = true;
        });
      });
      if (!problems.length && !missingForms.length) return "";
      var first = panel.querySelector(".form-section.missing summary, .form-item.missing input, .form-item.missing textarea");
      if (first) first.focus();
      var said = [];
      if (missingForms.length) said.push(t("form_required_missing") + " " + missingForms.join("; "));
      if (problems.length) said.push(t("form_answer_required") + " " + problems.join("; "));
      return said.join(" ");
    },
  };

  build();
  return formsApi;
}
