/*
 * Forms on the encounter (screens, assessments, safety plans; docs/screening.md).
 *
 * The forms in use come in the page (#acs-forms data-forms, FHIR Questionnaire items), so they open
 * offline from the service worker's copy. Each form renders into #forms-panel; `enableWhen`
 * shows and hides items as they are answered, and `required` items that are shown block the
 * encounter's submission with their names. The answers ride with the encounter: field.js keeps
 * them in the draft (ACSForms.state / restore) and sends each response, by its own client
 * UUID, in the encounter's outbox chain before the submit step. The server checks everything
 * again (cases/screening/questionnaire.py): these rules mirror it.
 */
(function () {
  "use strict";

  var panel = document.getElementById("forms-panel");
  var source = document.getElementById("acs-forms");
  if (!panel || !source) return;
  var FORMS = JSON.parse(source.getAttribute("data-forms") || "[]");

  var STRINGS = {};
  var tpl = document.getElementById("i18n");
  if (tpl) {
    tpl.content.querySelectorAll("[data-key]").forEach(function (el) {
      STRINGS[el.dataset.key] = el.textContent.trim();
    });
  }
  function t(key) { return STRINGS[key] || key; }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  var QUESTIONS = { boolean: 1, integer: 1, decimal: 1, date: 1, string: 1, text: 1, choice: 1 };
  var params = new URLSearchParams(location.search);
  var callType = params.get("call_type") || "";

  // One entry per form version on the page: its response's state (answers by linkId).
  var responses = {};

  function walk(items, parent, out) {
    (items || []).forEach(function (item) {
      out.push({ item: item, parent: parent });
      walk(item.item, item, out);
    });
    return out;
  }
  function present(v) { return !(v === undefined || v === null || v === "" || (Array.isArray(v) && !v.length)); }
  function holds(cond, answers) {
    var answer = answers[cond.question];
    var expected;
    ["answerBoolean", "answerInteger", "answerDecimal", "answerDate", "answerString", "answerCoding"].forEach(function (k) {
      if (k in cond) expected = k === "answerCoding" ? cond[k].code : cond[k];
    });
    if (cond.operator === "exists") return present(answer) === !!expected;
    if (!present(answer)) return false;
    var values = Array.isArray(answer) ? answer : [answer];
    switch (cond.operator) {
      case "=": return values.indexOf(expected) >= 0;
      case "!=": return values.indexOf(expected) < 0;
      case ">": return values[0] > expected;
      case "<": return values[0] < expected;
      case ">=": return values[0] >= expected;
      case "<=": return values[0] <= expected;
    }
    return false;
  }
  // The same rule as the server's enabled_links: conditions on enabled questions only, inside
  // enabled groups.
  function enabledLinks(items, answers) {
    var enabled = {};
    walk(items, null, []).forEach(function (entry) {
      var item = entry.item;
      if (entry.parent && !enabled[entry.parent.linkId]) return;
      var conds = item.enableWhen || [];
      if (conds.length) {
        var visible = {};
        Object.keys(answers).forEach(function (k) { if (enabled[k]) visible[k] = answers[k]; });
        var results = conds.map(function (c) { return holds(c, visible); });
        var ok = item.enableBehavior === "any" ? results.some(Boolean) : results.every(Boolean);
        if (!ok) return;
      }
      enabled[item.linkId] = true;
    });
    return enabled;
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }

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
  // The same rule as the server's binding_matches: each field a binding sets must match, and
  // a binding sets at least one.
  function bound(form) {
    var here = { call_type: callType, team: team(), disposition: disposition() };
    return (form.bindings || []).filter(function (b) {
      var named = false;
      var ok = ["call_type", "team", "disposition"].every(function (k) {
        if (!b[k]) return true;
        named = true;
        return b[k] === here[k];
      });
      return named && ok;
    });
  }
  function requiredHere(form) {
    return bound(form).some(function (b) { return b.required; });
  }

  // Marks each form bound to this encounter ("Required for this call" or "For this call") and
  // lists them first; called again when the unit or the disposition changes.
  function mark() {
    var list = panel.querySelector("[data-forms]");
    var sorted = FORMS.slice().sort(function (a, b) {
      var rank = function (f) { return requiredHere(f) ? 2 : bound(f).length ? 1 : 0; };
      return rank(b) - rank(a);
    });
    sorted.forEach(function (form) {
      var r = responses[form.id];
      if (!r) return;
      var badge = r.section.querySelector("summary .badge");
      var here = bound(form).length > 0;
      var required = requiredHere(form);
      badge.hidden = !here;
      badge.className = "badge" + (required ? " warn" : "");
      badge.textContent = here ? t(required ? "form_required_here" : "form_suggested_here") : "";
      if (required) r.section.setAttribute("data-required", "1");
      else r.section.removeAttribute("data-required");
      r.section.toggleAttribute("data-bound", here);
      list.appendChild(r.section);
    });
  }

  function renderItem(form, item, box) {
    var id = "f-" + form.id.slice(0, 8) + "-" + item.linkId;
    var wrap = el("div", { "class": "form-item", "data-link": item.linkId });
    if (item.type === "group") {
      var set = el("fieldset", { "class": "form-group" });
      set.appendChild(el("legend", {}, item.text));
      (item.item || []).forEach(function (child) { renderItem(form, child, set); });
      wrap.appendChild(set);
      box.appendChild(wrap);
      return;
    }
    if (item.type === "display") {
      wrap.appendChild(el("p", { "class": "hint" }, item.text));
      box.appendChild(wrap);
      return;
    }
    var label = item.text + (item.required ? " *" : "");
    if (item.type === "boolean" || item.type === "choice") {
      var group = el("fieldset", { "class": "chips", id: id });
      group.appendChild(el("legend", {}, label));
      var options = item.type === "boolean"
        ? [{ code: "true", display: t("form_yes") }, { code: "false", display: t("form_no") }]
        : (item.answerOption || []).map(function (o) { return o.valueCoding; });
      options.forEach(function (o) {
        var chip = el("label", { "class": "chip" });
        var input = el("input", {
          type: item.type === "choice" && item.repeats ? "checkbox" : "radio",
          "data-answer": item.linkId, value: o.code, name: id,
        });
        chip.appendChild(input);
        chip.appendChild(document.createTextNode(" " + (o.display || o.code)));
        group.appendChild(chip);
      });
      wrap.appendChild(group);
    } else {
      wrap.appendChild(el("label", { "for": id }, label));
      var field = item.type === "text" ? el("textarea", { rows: "3", maxlength: "4000" }) : el("input", {
        type: { integer: "number", decimal: "number", date: "date" }[item.type] || "text",
      });
      if (item.type === "decimal") field.setAttribute("step", "any");
      if (item.type === "string") field.setAttribute("maxlength", "255");
      field.id = id;
      field.setAttribute("data-answer", item.linkId);
      wrap.appendChild(field);
    }
    box.appendChild(wrap);
  }

  function read(form, section) {
    var answers = {};
    var items = {};
    walk(form.items, null, []).forEach(function (e) { items[e.item.linkId] = e.item; });
    section.querySelectorAll("[data-answer]").forEach(function (input) {
      var link = input.getAttribute("data-answer");
      var item = items[link];
      if (input.type === "radio" || input.type === "checkbox") {
        if (!input.checked) return;
        if (item.type === "boolean") answers[link] = input.value === "true";
        else if (item.repeats) (answers[link] = answers[link] || []).push(input.value);
        else answers[link] = input.value;
      } else if (input.value.trim() !== "") {
        var v = input.value;
        if (item.type === "integer") v = parseInt(v, 10);
        else if (item.type === "decimal") v = parseFloat(v);
        answers[link] = v;
      }
    });
    return answers;
  }

  function write(form, section, answers) {
    section.querySelectorAll("[data-answer]").forEach(function (input) {
      var value = answers[input.getAttribute("data-answer")];
      if (input.type === "radio" || input.type === "checkbox") {
        var values = Array.isArray(value) ? value.map(String) : [String(value)];
        input.checked = present(value) && values.indexOf(input.value) >= 0;
      } else {
        input.value = present(value) ? value : "";
      }
    });
  }

  function people() {
    var hooks = window.ACSFieldEncounter;
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

  window.ACSForms = {
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
        if (!started && requiredHere(form)) {
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
})();
