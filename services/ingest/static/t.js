/* Glassboard page tracker: one view on load, then time on page as dwell slices.
 *
 * Engaged time counts only while the page is visible AND focused (Page Visibility API
 * plus focus/blur), so a background tab never counts as reading. Wall time counts while
 * the page is open. Time is measured on the page itself, not inferred from the next page
 * view, so a single-page visit reads its real time, never 0 s.
 *
 * Embed:
 *   <script async src="https://INGEST/t.js" data-asset="ASSET_ID"></script>
 * Optional: data-page="N", data-heartbeat="15" (seconds between dwell slices).
 *
 * The script needs no key, so it sends no viewer id and no User-Agent of its own: ingest
 * refuses those from keyless requests (401). Readers count as anonymous viewers.
 *
 * Opened through a share link (/s/ID), the page arrives with ?gb_visit=<the open's id>:
 * ingest already counted that open as the view, so the script sends none of its own, its
 * dwell slices carry view_id = gb_visit (the engaged time is the recipient's), and it
 * takes gb_visit out of the address bar, so a copied or bookmarked URL does not carry it.
 * A reload in the same tab goes on with the same visit (sessionStorage).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.asset) return;
  var endpoint = new URL(script.src).origin + "/v1/events";
  var asset = script.dataset.asset;
  var page = script.dataset.page ? parseInt(script.dataset.page, 10) : undefined;
  var heartbeat = parseInt(script.dataset.heartbeat || "15", 10);
  // Not a number → the default; NaN would otherwise reach setInterval as 0 and flood.
  var heartbeatMs = Math.max(5, isNaN(heartbeat) ? 15 : heartbeat) * 1000;

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = (Math.random() * 16) | 0;
      return (c === "x" ? r : (r & 0x3) | 0x8).toString(16);
    });
  }

  function base(type) {
    var event = { event_id: uuid(), type: type, asset_id: asset, source: "beacon" };
    if (page) event.page = page;
    return event;
  }

  // text/plain keeps the request "simple": no CORS preflight, and sendBeacon accepts it.
  function send(events, closing) {
    var body = JSON.stringify({ events: events });
    if (closing && navigator.sendBeacon) {
      if (navigator.sendBeacon(endpoint, new Blob([body], { type: "text/plain" }))) return;
    }
    fetch(endpoint, {
      method: "POST", body: body, keepalive: true, mode: "cors",
      headers: { "Content-Type": "text/plain" }
    }).catch(function () { /* analytics must never break the page */ });
  }

  var UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

  // The share-link visit this page belongs to, if ingest sent the reader here from /s/.
  function shareVisit() {
    var key = "gb_visit:" + asset, visit = null;
    try {
      var url = new URL(location.href);
      var given = url.searchParams.get("gb_visit");
      if (given !== null) {
        url.searchParams.delete("gb_visit");
        history.replaceState(history.state, "", url.pathname + url.search + url.hash);
        if (UUID.test(given)) {
          visit = given.toLowerCase();
          sessionStorage.setItem(key, visit);
        }
      }
      if (visit === null) {
        var kept = sessionStorage.getItem(key);
        if (kept && UUID.test(kept)) visit = kept;
      }
    } catch (e) { /* no URL API or storage: a page view like any other */ }
    return visit;
  }

  var visit = shareVisit();
  var viewId = visit;
  if (!visit) {
    var view = base("view");
    if (document.referrer) view.referrer = document.referrer;
    viewId = view.event_id;
    send([view], false);
  }

  var pendingEngaged = 0, pendingWall = 0;
  var lastTick = performance.now();
  var engaged = isEngaged();
  // Between pagehide and a pageshow from the back/forward cache the page is not open:
  // that time is neither engaged nor wall time.
  var away = false;

  function isEngaged() {
    return document.visibilityState === "visible" && document.hasFocus();
  }

  // Bank the time since the last tick, then re-read the page state.
  function tick() {
    var now = performance.now();
    if (!away) {
      var elapsed = now - lastTick;
      pendingWall += elapsed;
      if (engaged) pendingEngaged += elapsed;
    }
    lastTick = now;
    engaged = isEngaged();
  }

  function flush(closing) {
    tick();
    var engagedMs = Math.round(pendingEngaged), wallMs = Math.round(pendingWall);
    if (engagedMs <= 0 && wallMs <= 0) return;
    pendingEngaged = 0;
    pendingWall = 0;
    var dwell = base("dwell");
    dwell.view_id = viewId;
    dwell.engaged_ms = Math.min(engagedMs, 3600000);
    dwell.wall_ms = Math.min(wallMs, 3600000);
    send([dwell], closing);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") flush(true); else tick();
  });
  window.addEventListener("focus", tick);
  window.addEventListener("blur", tick);
  window.addEventListener("pagehide", function () { flush(true); away = true; });
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    away = false;  // back from the back/forward cache: the same view goes on
    lastTick = performance.now();
    engaged = isEngaged();
  });
  setInterval(function () { flush(false); }, heartbeatMs);
})();
