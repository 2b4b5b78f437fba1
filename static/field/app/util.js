/* Small helpers without a screen: client UUIDs, dates and times as the tablet shows them. */

// A client UUID: what makes every write idempotent on the server.
export function uuid() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  var b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
}
export function hhmm(iso) {
  var d = new Date(iso);
  return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function dayOf(iso) {
  var d = new Date(iso);
  return isNaN(d) ? "" : d.toLocaleDateString();
}
// The tablet's local date and time, as date and datetime-local inputs hold them.
export function localNow() {
  var d = new Date();
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}
export function inDays(n) {
  var d = new Date(Date.now() + n * 86400000);
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 10);
}
export function toLocalInput(iso) {
  var d = new Date(iso);
  if (isNaN(d)) return "";
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}
export function localDate(iso) {
  var d = new Date(iso);
  if (isNaN(d)) return "";
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 10);
}
export function withoutKeys(obj, keys) {
  var copy = Object.assign({}, obj);
  keys.forEach(function (k) { delete copy[k]; });
  return copy;
}
