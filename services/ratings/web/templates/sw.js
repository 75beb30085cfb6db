/* Glassboard's service worker, scope /app/.
 *
 * - The app shell (HTML, CSS, JS, icons) is cached at install; the cache name carries a
 *   hash of those files (filled in by the server, which renders this file as a template
 *   with the files' content-hashed /static/app/ URLs), so a new version replaces the old one.
 * - /app/ itself: network first (it redirects to /login when signed out), else the
 *   cached shell, /app/shell.html: the same page, which needs no sign-in to fetch.
 * - GET /v1/me and the unfiltered asset lists: network first, the last copy when offline
 *   (marked with X-Glassboard-From-Cache so the app can say so and filter it itself).
 * - PUT /v1/assets/{id}/rating: straight to the server; without a network it is queued
 *   in IndexedDB (queue.js) and answered 202 + X-Glassboard-Queued. The queue is replayed
 *   on Background Sync, when a page says it is back online, and when the worker starts.
 */
"use strict";

importScripts("{{ static_url('app/queue.js') }}");

var VERSION = "{{ version }}";
var SHELL_CACHE = "glassboard-shell-" + VERSION;
var DATA_CACHE = GBQueue.DATA_CACHE;
var SHELL = [
  "/app/shell.html",
  "/app/manifest.webmanifest",
{% for name in ("app.css", "app.js", "queue.js", "stars.js", "icon.svg", "icon-192.png",
                 "icon-512.png", "icon-maskable-512.png", "apple-touch-icon.png") %}
  "{{ static_url('app/' ~ name) }}",
{% endfor %}
];
var RATING_PATH = /^\/v1\/assets\/([^/]+)\/rating$/;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL_CACHE).then(function (cache) {
      return cache.addAll(SHELL.map(function (url) {
        return new Request(url, { cache: "reload", credentials: "same-origin" });
      }));
    }).then(function () { return self.skipWaiting(); })
  );
});

/* The page that installed us loaded its data before we ran it: fetch the copies a later
 * offline start needs now, before taking the page over. */
function warmData() {
  return caches.open(DATA_CACHE).then(function (cache) {
    return Promise.all(["/v1/me", "/v1/assets", "/v1/assets?recent=true"].map(function (url) {
      return fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
        if (r.ok) return cache.put(url, r);
      });
    }));
  }).catch(function () { /* offline or signed out: the next online visit fills it */ });
}

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("glassboard-shell-") === 0 && name !== SHELL_CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(warmData).then(function () { return self.clients.claim(); })
  );
});

function notify(message) {
  GBQueue.broadcast(message);
}

function flush() {
  return GBQueue.replay(notify).catch(function () { return 1; });
}

self.addEventListener("sync", function (event) {
  if (event.tag !== GBQueue.SYNC_TAG) return;
  event.waitUntil(flush().then(function (waiting) {
    if (waiting > 0) throw new Error(waiting + " ratings still waiting");  // retry later
  }));
});

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "replay") event.waitUntil(flush());
});

function queuedResponse(assetId, body) {
  return new Response(JSON.stringify({
    asset_id: assetId, stars: body.stars, comment: body.comment || null, queued: true,
  }), {
    status: 202,
    headers: { "content-type": "application/json", "x-glassboard-queued": "1" },
  });
}

function rate(request, assetId) {
  var uid = request.headers.get("x-glassboard-user");
  return GBQueue.exclusive(function () {
    return request.clone().json().then(function (body) {
      var startedAt = Date.now();
      return fetch(request).then(function (response) {
        if (!response.ok) return response;
        return GBQueue.removeOlder(uid, assetId, startedAt).then(function () {
          return GBQueue.patchCachedLists(assetId, body.stars);
        }).then(function () { return response; });
      }, function () {
        return GBQueue.put(uid, assetId, body).then(function () {
          if (self.registration.sync) {
            self.registration.sync.register(GBQueue.SYNC_TAG).catch(function () {});
          }
          return queuedResponse(assetId, body);
        });
      });
    });
  });
}

function fromCache(response) {
  var headers = new Headers(response.headers);
  headers.set("x-glassboard-from-cache", response.headers.get("date") || "1");
  return response.blob().then(function (body) {
    return new Response(body, { status: response.status, headers: headers });
  });
}

/* The lists worth keeping for offline use: me, all assets, my recently viewed. */
function dataKey(url) {
  if (url.pathname === "/v1/me") return "/v1/me";
  if (url.pathname !== "/v1/assets") return null;
  return url.searchParams.get("recent") === "true" ? "/v1/assets?recent=true" : "/v1/assets";
}

function networkFirstData(request, url) {
  var key = dataKey(url);
  var unfiltered = !url.searchParams.get("q") && !url.searchParams.get("type") &&
    !url.searchParams.get("stage") && !url.searchParams.get("tag");
  return fetch(request).then(function (response) {
    if (response.ok && unfiltered) {
      var copy = response.clone();
      caches.open(DATA_CACHE).then(function (cache) { return cache.put(key, copy); });
    }
    if (response.status === 401) caches.delete(DATA_CACHE);
    return response;
  }, function (error) {
    return caches.open(DATA_CACHE).then(function (cache) { return cache.match(key); })
      .then(function (cached) {
        if (!cached) throw error;
        return fromCache(cached);
      });
  });
}

function shellPage(request) {
  return fetch(request).catch(function (error) {
    return caches.open(SHELL_CACHE).then(function (cache) {
      return cache.match("/app/shell.html");
    }).then(function (cached) {
      if (!cached) throw error;
      return cached;
    });
  });
}

function shellFile(request) {
  return caches.open(SHELL_CACHE).then(function (cache) {
    return cache.match(request, { ignoreSearch: true }).then(function (cached) {
      return cached || fetch(request);
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  var rating = url.pathname.match(RATING_PATH);
  if (rating && request.method === "PUT") {
    if (request.headers.get("x-glassboard-replay")) return;  // the queue itself, sending
    event.respondWith(rate(request, decodeURIComponent(rating[1])));
    return;
  }
  if (request.method !== "GET" || request.cache === "no-store") return;

  if (dataKey(url)) {
    event.respondWith(networkFirstData(request, url));
  } else if (request.mode === "navigate" && url.pathname === "/app/") {
    event.respondWith(shellPage(request));
  } else if ((url.pathname.indexOf("/app/") === 0 && url.pathname !== "/app/sw.js") ||
             url.pathname.indexOf("/static/app/") === 0) {
    event.respondWith(shellFile(request));
  }
});
