/* The referral picker, one per person on the encounter: services for the needs ticked,
 * searchable, each with its place, its places free (a full place is shown as full: the
 * responder decides) and whether this person's consent covers that partner (what the server
 * will check). `ctx` is the encounter form's (encounter.js): its form and save(). */
import { filterDirectory, loadDirectory, searchDirectory } from "./directory.js";
import { t } from "./i18n.js";
import { dayOf, hhmm, uuid } from "./util.js";

var PICKER_SHOWN = 8;
function tickedNeeds(form) {
  return Array.prototype.map.call(form.querySelectorAll("input[name=needs]:checked"), function (b) { return b.value; });
}
function consentFor(person, s) {
  // Consent ticked on this form: partners in general, or the partner picked (the consent
  // recorded names the referral's partner).
  if (person.consentScope === "share_partners") return { ok: true, text: t("consent_now_partners") };
  if (person.consentScope === "share_named_partner") return { ok: true, text: t("consent_now_named") };
  var sharing = person.sharing;  // the server's answer for this person (consents API)
  if (sharing) {
    if ((sharing.named_partners || []).indexOf(s.organization_id) >= 0) return { ok: true, text: t("consent_named") };
    if (sharing.partners) return { ok: true, text: t("consent_partners") };
    return { ok: false, text: t("consent_none") };
  }
  if (person.isNew) return { ok: false, text: t("consent_none") };
  return { ok: null, text: t("consent_unknown") };
}
function capacityBadge(s) {
  var c = s.capacity;
  var b = document.createElement("span");
  b.className = "badge";
  if (!c) { b.textContent = t("no_figure"); return b; }
  var vars = { a: c.available, t: c.total, unit: c.unit };
  b.textContent = t(c.available > 0 ? "places_free" : "full", vars) +
    (c.stale ? " (" + t("old_figure", { date: dayOf(c.as_of) }) + ")" : "");
  b.className = "badge " + (c.stale ? "stale" : c.available > 0 ? "ok" : "no");
  return b;
}
export function wirePicker(li, person, ctx) {
  var box = li.querySelector("[data-referral-picker]");
  var chosen = box.querySelector("[data-referral-chosen]");
  var find = box.querySelector("[data-referral-find]");
  var search = box.querySelector("[data-referral-search]");
  var byNeeds = box.querySelector("[data-referral-by-needs]");
  var asOf = box.querySelector("[data-referral-as-of]");
  var options = box.querySelector("[data-referral-options]");
  var more = box.querySelector("[data-referral-more]");
  var none = box.querySelector("[data-referral-none]");
  var seq = 0;
  var timer = null;
  function showChosen() {
    var r = person.referral;
    if (r && r.sent) {
      chosen.textContent = t("referral_sent", { service: r.name, organization: r.organizationName, status: t("referral_" + r.status) });
      find.hidden = true;
      none.hidden = true;
      return;
    }
    chosen.textContent = r ? t("chosen", { service: r.name, organization: r.organizationName || "" }) : t("no_referral_chosen");
    chosen.classList.toggle("picked", !!r);
    none.hidden = !r;
  }
  function choose(s) {
    person.referral = s ? {
      clientId: (person.referral && person.referral.clientId) || uuid(),
      service: s.service,
      serviceAtLocation: s.service_at_location,
      organization: s.organization_id,
      name: s.name,
      organizationName: s.organization,
    } : null;
    showChosen();
    ctx.save();
  }
  function option(s) {
    var item = document.createElement("li");
    item.className = "option";
    var label = document.createElement("label");
    var radio = document.createElement("input");
    radio.type = "radio";
    radio.name = "referral-" + person.key;
    radio.value = s.service_at_location;
    radio.checked = !!person.referral && person.referral.serviceAtLocation === s.service_at_location;
    radio.addEventListener("change", function () { if (radio.checked) choose(s); });
    var what = document.createElement("span");
    what.className = "what";
    var name = document.createElement("strong");
    name.textContent = s.name;
    what.appendChild(name);
    what.appendChild(document.createTextNode(" · " + s.organization));
    var where = document.createElement("span");
    where.className = "meta where";
    where.textContent = [s.location, [s.address, s.city].filter(Boolean).join(", ")].filter(Boolean).join(" · ");
    var facts = document.createElement("span");
    facts.className = "facts";
    facts.appendChild(capacityBadge(s));
    var consent = consentFor(person, s);
    var badge = document.createElement("span");
    badge.className = "badge consent" + (consent.ok === true ? " ok" : consent.ok === false ? " no" : "");
    badge.textContent = consent.text;
    facts.appendChild(badge);
    [radio, what, where, facts].forEach(function (el) { label.appendChild(el); });
    item.appendChild(label);
    return item;
  }
  // Without words typed, places with room come first, then those without a figure (or
  // an old one), then full ones: all listed, the responder decides.
  function roomOrder(s) {
    var c = s.capacity;
    if (!c || c.stale) return 1;
    return c.available > 0 ? 0 : 2;
  }
  function show(rows, data, offline, needs) {
    if (!search.value.trim()) {
      rows = rows.map(function (s, i) { return [roomOrder(s), i, s]; })
        .sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; })
        .map(function (x) { return x[2]; });
    }
    options.textContent = "";
    rows.slice(0, PICKER_SHOWN).forEach(function (s) { options.appendChild(option(s)); });
    if (!rows.length) {
      var empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = data.missing ? "" : t(needs.length ? "no_services_for_needs" : "no_services");
      if (empty.textContent) options.appendChild(empty);
      // The words meant services that are not offered (closed, no referrals, no place yet):
      // the server says which and why (online only; the offline copy holds offered ones).
      var left = (data.not_offered || []).map(function (s) { return s.name + " (" + s.why + ")"; });
      if (left.length) {
        var why = document.createElement("li");
        why.className = "empty not-offered";
        why.textContent = t("not_offered", { services: left.join("; ") });
        options.appendChild(why);
      }
    }
    more.hidden = rows.length <= PICKER_SHOWN;
    more.textContent = t("more_options", { n: rows.length - PICKER_SHOWN });
    asOf.textContent = data.missing ? t("no_directory") : t(offline ? "figures_offline" : "figures_now", { time: hhmm(data.as_of) });
    asOf.classList.toggle("offline", !!offline);
  }
  function refresh() {
    if (person.referral && person.referral.sent) return;
    var mine = ++seq;
    var text = search.value.trim();
    var needs = byNeeds.checked ? tickedNeeds(ctx.form) : [];
    searchDirectory(text, needs).then(function (data) {
      if (mine !== seq) return null;
      if (data) return show(data.services || [], data, false, needs);
      // Offline (or the server did not answer): the copy kept at the last sync.
      return loadDirectory().then(function (copy) {
        if (mine !== seq) return;
        var matchable = copy.matchable_needs || [];
        var known = needs.filter(function (n) { return matchable.indexOf(n) >= 0; });
        show(filterDirectory(copy.services || [], text, known), copy, true, known);
      });
    });
  }
  search.addEventListener("input", function (ev) {
    ev.stopPropagation();  // typing a search is not an edit of the encounter
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
  byNeeds.addEventListener("change", function (ev) { ev.stopPropagation(); refresh(); });
  none.addEventListener("click", function () {
    options.querySelectorAll("input[type=radio]").forEach(function (r) { r.checked = false; });
    choose(null);
  });
  li.refreshPicker = refresh;
  showChosen();
  refresh();
}
