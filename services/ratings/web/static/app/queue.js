/* Glassboard: ratings waiting for the network.
 *
 * Shared by the service worker (importScripts) and the pages (a classic script). A rating
 * that cannot reach the server is kept in IndexedDB under (user, asset): a newer rating of
 * the same asset replaces the older one, so only the latest is ever sent. `replay()` sends
 * what is waiting, one at a time and in a Web Lock shared by every tab and the worker, so
 * a replay and a fresh rating never overtake each other.
 */
(function (root) {
  "use strict";

  var DB_NAME = "glassboard";
  var STORE = "pending-ratings";
  var LOCK = "glassboard-ratings";
  var CHANNEL = "glassboard-ratings";
  var SYNC_TAG = "glassboard-ratings";
  var SEND_TIMEOUT_MS = 15000;
  var DATA_CACHE = "glassboard-data-v1";  // the service worker's copies of /v1/me and lists
  var LIST_KEYS = ["/v1/assets", "/v1/assets?recent=true"];

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "key" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  /* Run `work(store)` in one transaction; resolves with what `work` returned (an
   * IDBRequest's result once the transaction has committed). */
  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var outcome = work(tx.objectStore(STORE));
        tx.oncomplete = function () {
          db.close();
          resolve(outcome instanceof IDBRequest ? outcome.result : outcome);
        };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function keyFor(uid, assetId) { return String(uid || "") + ":" + assetId; }

  function put(uid, assetId, body) {
    var entry = {
      key: keyFor(uid, assetId),
      uid: uid ? Number(uid) : null,
      asset_id: assetId,
      stars: body.stars,
      comment: body.comment || null,
      queued_at: Date.now(),
      seq: Math.random().toString(36).slice(2) + Date.now().toString(36),
    };
    return withStore("readwrite", function (store) { store.put(entry); return entry; });
  }

  function all() {
    return withStore("readonly", function (store) { return store.getAll(); })
      .then(function (entries) {
        return entries.sort(function (a, b) { return a.queued_at - b.queued_at; });
      });
  }

  /* Drop an entry, unless a newer rating of the same asset replaced it meanwhile. */
  function removeIfSame(entry) {
    return withStore("readwrite", function (store) {
      var get = store.get(entry.key);
      get.onsuccess = function () {
        if (get.result && get.result.seq === entry.seq) store.delete(entry.key);
      };
    });
  }

  /* A rating of this asset reached the server directly: anything older is obsolete. */
  function removeOlder(uid, assetId, before) {
    return withStore("readwrite", function (store) {
      var get = store.get(keyFor(uid, assetId));
      get.onsuccess = function () {
        if (get.result && get.result.queued_at <= before) store.delete(get.result.key);
      };
    });
  }

  function clearFor(uid) {
    return all().then(function (entries) {
      return withStore("readwrite", function (store) {
        entries.forEach(function (e) { if (e.uid === Number(uid)) store.delete(e.key); });
      });
    });
  }

  /* Serialise with every other tab and the service worker (Web Locks), else in-process. */
  var chain = Promise.resolve();
  function exclusive(work) {
    if (root.navigator && root.navigator.locks && root.navigator.locks.request) {
      return root.navigator.locks.request(LOCK, work);
    }
    var next = chain.then(work, work);
    chain = next.catch(function () {});
    return next;
  }

  /* A rating reached the server: make the offline copies of the lists agree. */
  function patchCachedLists(assetId, stars) {
    if (typeof caches === "undefined") return Promise.resolve();
    return caches.open(DATA_CACHE).then(function (cache) {
      return Promise.all(LIST_KEYS.map(function (key) {
        return cache.match(key).then(function (response) {
          if (!response) return null;
          var headers = new Headers(response.headers);
          headers.delete("content-length");
          return response.json().then(function (data) {
            (data.assets || []).forEach(function (a) { if (a.id === assetId) a.my_stars = stars; });
            return cache.put(key, new Response(JSON.stringify(data), { status: 200, headers: headers }));
          });
        });
      }));
    }).catch(function () { /* only a cache */ });
  }

  function ratingUrl(assetId) {
    return "/v1/assets/" + encodeURIComponent(assetId) + "/rating";
  }

  function send(assetId, body, signal) {
    return fetch(ratingUrl(assetId), {
      method: "PUT",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-glassboard-replay": "1" },
      body: JSON.stringify({ stars: body.stars, comment: body.comment || null }),
      signal: signal,
    });
  }

  function timeoutSignal() {
    return typeof AbortSignal !== "undefined" && AbortSignal.timeout
      ? AbortSignal.timeout(SEND_TIMEOUT_MS) : undefined;
  }

  function broadcast(message) {
    if (typeof BroadcastChannel === "undefined") return;
    var channel = new BroadcastChannel(CHANNEL);
    channel.postMessage(message);
    channel.close();
  }

  /* Send every waiting rating of whoever is signed in. Resolves with how many are still
   * waiting. `notify(message)` hears {type: "sent" | "failed" | "signed-out", ...}. */
  function replay(notify) {
    notify = notify || broadcast;
    return exclusive(function () {
      return all().then(function (entries) {
        if (!entries.length) return 0;
        return fetch("/v1/me", { credentials: "same-origin", cache: "no-store" })
          .then(function (response) {
            if (response.status === 401) {
              notify({ type: "signed-out" });
              return null;
            }
            return response.ok ? response.json() : null;
          }, function () { return null; })
          .then(function (me) {
            if (!me) return entries.length;
            var mine = entries.filter(function (e) { return !e.uid || e.uid === me.id; });
            var waiting = entries.length - mine.length;
            var index = 0;
            function next() {
              if (index >= mine.length) return waiting;
              var entry = mine[index++];
              return send(entry.asset_id, entry, timeoutSignal()).then(function (response) {
                if (response.ok) {
                  return removeIfSame(entry).then(function () {
                    return patchCachedLists(entry.asset_id, entry.stars);
                  }).then(function () {
                    notify({ type: "sent", asset_id: entry.asset_id, stars: entry.stars,
                             comment: entry.comment });
                    return next();
                  });
                }
                if (response.status === 401) {
                  notify({ type: "signed-out" });
                  return waiting + mine.length - index + 1;
                }
                if (response.status >= 500 || response.status === 429 || response.status === 408) {
                  return waiting + mine.length - index + 1;  // the server is unwell: later
                }
                // 403, 404, 422: this rating can never succeed; say so and drop it.
                return response.json().catch(function () { return {}; }).then(function (body) {
                  return removeIfSame(entry).then(function () {
                    notify({ type: "failed", asset_id: entry.asset_id, stars: entry.stars,
                             status: response.status, detail: body.detail || "" });
                    return next();
                  });
                });
              }, function () {
                return waiting + mine.length - index + 1;  // offline again
              });
            }
            return next();
          });
      });
    });
  }

  root.GBQueue = {
    CHANNEL: CHANNEL,
    DATA_CACHE: DATA_CACHE,
    SYNC_TAG: SYNC_TAG,
    put: put,
    all: all,
    removeOlder: removeOlder,
    clearFor: clearFor,
    exclusive: exclusive,
    replay: replay,
    broadcast: broadcast,
    ratingUrl: ratingUrl,
    patchCachedLists: patchCachedLists,
  };
})(typeof self !== "undefined" ? self : this);
