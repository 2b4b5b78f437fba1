/* The field API (/api/v1/field/, the page's data-api): JSON in and out, the CSRF token, and what
 * an answer means for the outbox: refused (the responder fixes it and sends it again) or
 * transient (retried by itself). */
import { setMeta } from "./db.js";
import { t } from "./i18n.js";

var API = document.body.dataset.api || "/api/v1/field/";

function csrfToken() {
  var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (m) return decodeURIComponent(m[1]);
  var input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}
export function api(method, path, payload, background) {
  var headers = { Accept: "application/json", "X-CSRFToken": csrfToken() };
  if (payload !== undefined) headers["Content-Type"] = "application/json";
  // Automatic work (polling, retries) must not keep an idle session alive (acs/sessions.py).
  if (background) headers["X-ACS-Background"] = "1";
  return fetch(API + path, {
    method: method,
    credentials: "same-origin",
    headers: headers,
    body: payload === undefined ? undefined : JSON.stringify(payload),
  }).then(function (res) {
    return res.json().catch(function () { return null; }).then(function (data) {
      return { status: res.status, ok: res.ok, data: data };
    });
  });
}
export function errorOf(res) {
  var e = (res.data && res.data.error) || {};
  return {
    status: res.status,
    code: e.code || "error",
    message: e.message || ("HTTP " + res.status),
    fields: e.fields || {},
    candidates: e.candidates || null,
  };
}
// Refused (fix and resend) versus transient (retry by itself).
function isRefusal(res) {
  return res.status >= 400 && res.status < 500 && res.status !== 401 && res.status !== 403 &&
    res.status !== 408 && res.status !== 429;
}
// What the responder reads: the tablet's words for refusals it knows, the server's otherwise.
export function explain(err) {
  if (err.code === "possible_duplicates") {
    var names = (err.candidates || []).map(function (c) {
      return (c.preferred_name || c.legal_name || "?") + (c.date_of_birth ? " " + c.date_of_birth : "");
    });
    return t("refused_duplicate", { names: names.join(", ") });
  }
  return err.message;
}
export function Refused(err, step, person) { this.err = err; this.step = step; this.person = person; }
export function Transient(err) { this.err = err; }
export function check(res, step, person) {
  if (res.ok) return res;
  if (res.status === 401 || res.status === 403) {
    setMeta("auth", { needed: true, at: new Date().toISOString() });
    throw new Transient(errorOf(res));
  }
  if (isRefusal(res)) throw new Refused(errorOf(res), step, person);
  throw new Transient(errorOf(res));
}
