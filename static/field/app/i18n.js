/* Strings translated in the page: the <template id="i18n"> of templates/responders/field/base.html
 * (and the screens' own blocks), read once. t("key", {n: 2}) fills %(n)s. */

var STRINGS = {};
var tpl = document.getElementById("i18n");
if (tpl) {
  tpl.content.querySelectorAll("[data-key]").forEach(function (el) {
    STRINGS[el.dataset.key] = el.textContent.trim();
  });
}
export function t(key, vars) {
  var s = STRINGS[key] || key;
  Object.keys(vars || {}).forEach(function (k) {
    s = s.split("%(" + k + ")s").join(String(vars[k]));
  });
  return s;
}
