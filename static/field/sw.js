/* The field app's service worker, served as /field/sw.js (scope /field/) by
 * responders.field.views.service_worker, which puts the configuration on the first line:
 * self.ACS_FIELD = {version, static, pages, directory, offline, encounterForm}.
 *
 * - Static files of the shell: cache first (their names change with each release).
 * - Pages of the app: network first, with a time limit for a weak signal; a good answer is
 *   kept for the next dead zone. Without network: the kept copy, else the offline page.
 *   Pages marked no-store (a resident's record) are never kept.
 * - The directory snapshot: network first, the kept copy offline. A search of it (a query
 *   string: the referral picker's typed words and needs) is the network's alone, so that it
 *   never replaces the whole snapshot kept for dead zones; offline the picker filters that.
 * - The API is not touched: the field script queues writes itself (app/outbox.js).
 * Signing out deletes every cache (app/session.js, and the server's Clear-Site-Data header).
 */
"use strict";

var CONFIG = self.ACS_FIELD;
var SHELL = "acs-field-shell-" + CONFIG.version;
var PAGES = "acs-field-pages";
var NETWORK_WAIT_MS = 6000;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL).then(function (cache) {
      return cache.addAll(CONFIG.static);
    }).then(function () {
      return caches.open(PAGES);
    }).then(function (cache) {
      var urls = CONFIG.pages.concat([CONFIG.directory]);
      return Promise.all(urls.map(function (url) {
        return fetch(url, { credentials: "same-origin", redirect: "follow" }).then(function (res) {
          if (keepable(res)) return cache.put(url, res);
          return null;
        }).catch(function () { return null; });
      }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) {
        return k.indexOf("acs-field-shell-") === 0 && k !== SHELL;
      }).map(function (k) { return caches.delete(k); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function keepable(res) {
  if (!res || !res.ok || res.redirected || res.type !== "basic") return false;
  var control = res.headers.get("Cache-Control") || "";
  return control.indexOf("no-store") < 0;
}

// The encounter form is one page whatever its query string (the call, a draft id).
function pageKey(url) {
  return url.pathname === CONFIG.encounterForm ? url.pathname : url.pathname + url.search;
}

function withTimeout(promise, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
    promise.then(function (v) { clearTimeout(timer); resolve(v); }, function (e) { clearTimeout(timer); reject(e); });
  });
}

function networkFirst(request, key, fallback) {
  return withTimeout(fetch(request), NETWORK_WAIT_MS).then(function (res) {
    if (keepable(res)) {
      var copy = res.clone();
      caches.open(PAGES).then(function (cache) { return cache.put(key, copy); });
    }
    return res;
  }).catch(function () {
    return caches.open(PAGES).then(function (cache) {
      return cache.match(key).then(function (hit) {
        if (hit) return hit;
        return cache.match(key, { ignoreSearch: true }).then(function (loose) {
          return loose || (fallback ? cache.match(fallback) : undefined);
        });
      });
    }).then(function (hit) {
      return hit || new Response("Offline", { status: 503, headers: { "Content-Type": "text/plain" } });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (CONFIG.static.indexOf(url.pathname) >= 0) {
    event.respondWith(caches.match(url.pathname).then(function (hit) {
      return hit || fetch(request);
    }));
    return;
  }
  if (url.pathname === CONFIG.directory) {
    if (url.search) return;
    event.respondWith(networkFirst(request, url.pathname, null));
    return;
  }
  if (request.mode === "navigate" && url.pathname.indexOf("/field/") === 0) {
    event.respondWith(networkFirst(request, pageKey(url), CONFIG.offline));
  }
});
