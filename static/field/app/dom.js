/* DOM helpers shared by the screens: buttons and links made in script, the pending rows, the
 * message left for the next page (sessionStorage "acs-flash"), the current page in the bar. */

export function pendingRow(label, why, actions) {
  var li = document.createElement("li");
  li.className = "pending-item";
  var span = document.createElement("span");
  span.textContent = label;
  li.appendChild(span);
  var box = document.createElement("span");
  box.className = "row";
  actions.forEach(function (a) { box.appendChild(a); });
  li.appendChild(box);
  if (why) {
    var p = document.createElement("span");
    p.className = "why";
    p.textContent = why;
    li.appendChild(p);
  }
  return li;
}
export function link(text, href) {
  var a = document.createElement("a");
  a.className = "button";
  a.href = href;
  a.textContent = text;
  return a;
}
export function button(text, onClick) {
  var b = document.createElement("button");
  b.type = "button";
  b.className = "quiet";
  b.textContent = text;
  b.addEventListener("click", onClick);
  return b;
}

export function flash() {
  var message = sessionStorage.getItem("acs-flash");
  if (!message) return;
  sessionStorage.removeItem("acs-flash");
  var main = document.getElementById("main");
  var ul = document.createElement("ul");
  ul.className = "messages";
  var li = document.createElement("li");
  li.textContent = message;
  ul.appendChild(li);
  main.insertBefore(ul, main.firstChild);
}
export function markCurrentNav() {
  document.querySelectorAll(".bar nav a").forEach(function (a) {
    if (a.pathname === location.pathname) a.setAttribute("aria-current", "page");
  });
}


export function el(tag, attrs, text) {
  var node = document.createElement(tag);
  Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
  if (text) node.textContent = text;
  return node;
}
