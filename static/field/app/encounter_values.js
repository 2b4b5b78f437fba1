/* The encounter form's own fields, read into the payload the API takes and filled back from a
 * draft; and the 42 CFR Part 2 hint on the narrative. */
import { toLocalInput } from "./util.js";

// Words that suggest a narrative holds substance-use information (English and Spanish),
// matched as whole words: a hint to tick the 42 CFR Part 2 box, never a decision.
var SUBSTANCE_TERMS = new RegExp("(^|[^\\p{L}])(" + [
  "alcohol", "alcoholic", "drunk", "intoxicated", "drugs?", "overdosed?", "od", "narcan",
  "naloxone", "fentanyl", "heroin", "meth", "methamphetamine", "cocaine", "crack", "opioids?",
  "opiates?", "methadone", "suboxone", "buprenorphine", "detox", "rehab", "withdrawals?",
  "sober", "sobriety", "relapsed?", "substances?", "syringes?", "needles?",
  "borrach[oa]s?", "drogas?", "sobredosis", "fentanilo", "hero[ií]na", "metanfetamina",
  "coca[ií]na", "metadona", "desintoxicaci[oó]n", "rehabilitaci[oó]n", "abstinencia",
  "alcoh[oó]lic[oa]s?", "reca[ií]das?",
].join("|") + ")(?=[^\\p{L}]|$)", "iu");

export function readValues(form) {
  var fd = new FormData(form);
  var when = fd.get("occurred_at");
  return {
    unit: fd.get("unit") || "",
    occurred_at: when ? new Date(when).toISOString() : new Date().toISOString(),
    anonymous_people: parseInt(fd.get("anonymous_people"), 10) || 0,
    needs: fd.getAll("needs"),
    services_on_scene: fd.getAll("services_on_scene"),
    risk_level: fd.get("risk_level") || "not_screened",
    disposition: fd.get("disposition") || "",
    transport_destination: fd.get("transport_destination") || "",
    police_requested: fd.get("police_requested") !== null,
    ems_requested: fd.get("ems_requested") !== null,
    involuntary_hold: fd.get("involuntary_hold") !== null,
    narrative: fd.get("narrative") || "",
    narrative_part2: fd.get("narrative_part2") !== null,
  };
}
export function fill(form, values) {
  if (values.unit) form.elements.unit.value = values.unit;
  if (values.occurred_at) form.elements.occurred_at.value = toLocalInput(values.occurred_at);
  form.elements.anonymous_people.value = values.anonymous_people || 0;
  ["needs", "services_on_scene"].forEach(function (name) {
    form.querySelectorAll("input[name=" + name + "]").forEach(function (box) {
      box.checked = (values[name] || []).indexOf(box.value) >= 0;
    });
  });
  ["risk_level", "disposition"].forEach(function (name) {
    form.querySelectorAll("input[name=" + name + "]").forEach(function (radio) {
      radio.checked = radio.value === values[name];
    });
  });
  form.elements.transport_destination.value = values.transport_destination || "";
  form.elements.police_requested.checked = !!values.police_requested;
  form.elements.ems_requested.checked = !!values.ems_requested;
  form.elements.involuntary_hold.checked = !!values.involuntary_hold;
  form.elements.narrative.value = values.narrative || "";
  form.elements.narrative_part2.checked = !!values.narrative_part2;
  hintPart2(form);
}
// A narrative that seems to mention substance use while the Part 2 box is unticked: say
// so (the responder decides; nothing is ticked for them).
export function hintPart2(form) {
  document.getElementById("part2-hint").hidden = form.elements.narrative_part2.checked ||
    !SUBSTANCE_TERMS.test(form.elements.narrative.value);
}
