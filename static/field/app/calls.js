/* The calls: the list refreshed in place (My calls), and the call's status line (the call page),
 * which follows the unit's moves at once and the server's answer after. */

var callStatusLabels = null;
export function setCallStatus(status) {
  var line = document.getElementById("call-status");
  if (!line || !status) return;
  if (!callStatusLabels) {
    var data = document.getElementById("call-status-labels");
    callStatusLabels = data ? JSON.parse(data.textContent) : {};
  }
  line.dataset.status = status;
  line.textContent = callStatusLabels[status] || status;
}
export function wireCalls() {
  document.addEventListener("acs:call", function (ev) {
    var line = document.getElementById("call-status");
    var call = ev.detail || {};
    if (line && call.id && call.id === line.dataset.call && call.status) setCallStatus(call.status);
  });
  var box = document.getElementById("call-rows");
  if (!box) return;
  function refresh() {
    if (!navigator.onLine) return;
    fetch(box.dataset.rowsUrl, { credentials: "same-origin", headers: { "X-ACS-Background": "1" } })
      .then(function (res) {
        if (res.ok && !res.redirected) return res.text();
        return null;
      })
      .then(function (html) { if (html) box.innerHTML = html; })
      .catch(function () {});
  }
  setInterval(refresh, (parseInt(box.dataset.refresh, 10) || 15) * 1000);
  window.addEventListener("online", refresh);
}
