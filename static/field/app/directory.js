/* The directory snapshot (the page's data-directory): services that take referrals, with places
 * free and the needs they meet. The service worker keeps its last copy for dead zones (its
 * `as_of` says when); online, the server searches it (typo-tolerant), offline the copy is
 * filtered here by the server's rule for needs. */

var directory = null;
export function loadDirectory() {
  if (directory) return Promise.resolve(directory);
  return fetch(document.body.dataset.directory, { credentials: "same-origin", headers: { "X-ACS-Background": "1" } })
    .then(function (res) { return res.ok ? res.json() : null; })
    .catch(function () { return null; })
    .then(function (data) { directory = data || { services: [], missing: true }; return directory; });
}
// The picker's search, online: the server's typo-tolerant search of the directory for the
// words typed and the needs ticked. Null when it cannot answer (offline): filter the copy.
var searches = {};
export function searchDirectory(text, needs) {
  var q = new URLSearchParams();
  if (text) q.set("q", text);
  needs.forEach(function (n) { q.append("need", n); });
  var key = q.toString();
  if (!navigator.onLine) return Promise.resolve(null);
  if (!searches[key]) {
    searches[key] = fetch(document.body.dataset.directory + "?" + key, {
      credentials: "same-origin", headers: { "X-ACS-Background": "1" },
    }).then(function (res) { return res.ok ? res.json() : null; }).catch(function () { return null; });
    searches[key].then(function (data) { if (!data) delete searches[key]; });
  }
  return searches[key];
}
function fold(text) {
  return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}
// The copy's rows for the words typed and the needs ticked (offline; the server's rule for
// needs: a service meets a need when its terms do, listed with the row).
export function filterDirectory(rows, text, needs) {
  var words = fold(text).split(/\s+/).filter(Boolean);
  return rows.filter(function (s) {
    if (needs.length && !(s.needs || []).some(function (n) { return needs.indexOf(n) >= 0; })) return false;
    var hay = fold([s.name, s.organization, s.location, s.address, s.city].join(" "));
    return words.every(function (w) { return hay.indexOf(w) >= 0; });
  });
}
