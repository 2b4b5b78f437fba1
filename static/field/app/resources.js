/* Resources: "Near me" fills the search with the tablet's position (where the browser may ask
 * for it) and searches. */

export function wireResources() {
  var near = document.getElementById("near-me");
  if (!near || !navigator.geolocation) return;
  near.hidden = false;
  near.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(function (pos) {
      document.getElementById("lat").value = pos.coords.latitude.toFixed(5);
      document.getElementById("lon").value = pos.coords.longitude.toFixed(5);
      document.getElementById("resource-search").submit();
    }, function () {}, { timeout: 10000, maximumAge: 60000 });
  });
}
