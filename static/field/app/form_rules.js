/* The rules of the encounter's forms, as the server applies them (cases/screening/
 * questionnaire.py): which items `enableWhen` shows for the answers so far, and which forms a
 * binding attaches to this encounter (its call type, team and disposition). */

// The item types that take an answer (a `required` one blocks the submission while shown).
export var QUESTIONS = { boolean: 1, integer: 1, decimal: 1, date: 1, string: 1, text: 1, choice: 1 };

export function walk(items, parent, out) {
  (items || []).forEach(function (item) {
    out.push({ item: item, parent: parent });
    walk(item.item, item, out);
  });
  return out;
}
export function present(v) { return !(v === undefined || v === null || v === "" || (Array.isArray(v) && !v.length)); }
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
export function enabledLinks(items, answers) {
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

// The same rule as the server's binding_matches: each field a binding sets must match, and
// a binding sets at least one. `here`: {call_type, team, disposition} of this encounter.
export function bound(form, here) {
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
export function requiredHere(form, here) {
  return bound(form, here).some(function (b) { return b.required; });
}
