/* The encounter's forms drawn from their FHIR Questionnaire items (groups, display text, yes/no,
 * choices, numbers, dates, text), and their answers read from and written back to the inputs. */
import { el } from "./dom.js";
import { present, walk } from "./form_rules.js";
import { t } from "./i18n.js";

export function renderItem(form, item, box) {
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

export function read(form, section) {
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

export function write(form, section, answers) {
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
