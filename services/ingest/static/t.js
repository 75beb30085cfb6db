/* Glassboard page tracker: one view on load, then time on page as dwell slices, plays and
 * watch time of the page's videos, and tracked downloads.
 *
 * Engaged time counts only while the page is visible AND focused (Page Visibility API
 * plus focus/blur), so a background tab never counts as reading. Wall time counts while
 * the page is open. Time is measured on the page itself, not inferred from the next page
 * view, so a single-page visit reads its real time, never 0 s.
 *
 * Embed (the first line lets the page call glassboard.page(n) before t.js has loaded; the
 * calls are queued and replayed in order on load):
 *   <script>window.glassboard=window.glassboard||{page:function(n){(this.q=this.q||[]).push(n)}}</script>
 *   <script async src="https://INGEST/t.js" data-asset="ASSET_ID"></script>
 * Optional: data-page="N" (the page at load), data-heartbeat="15" (seconds between slices).
 *
 * Slides and single-page apps: glassboard.page(n), n an integer 1..10000 (anything else is
 * ignored), sends the open dwell slice with the old page; later slices carry page n. It is
 * the same view (same view_id); data-page stays the page the view was counted on.
 *
 * Downloads: a click (or middle click) on <a data-glassboard-download href="..."> sends a
 * download event with the view's id. Not for ingest's own /d/ links: those count already.
 *
 * Videos: every <video> on the page, or added to it later, is followed. The first "playing"
 * sends a play (its event_id is the play's id), and so does a play after "ended" (or after
 * the element loaded another source). Watch time (media_ms) accrues only while the video
 * really plays (not paused, ended, seeking or buffering), at least half of it is in the
 * viewport and the document is visible. Under the same condition, continuous forward
 * playback marks coverage: the video is cut into 100 buckets (1% each), and a bucket is
 * watched once playback has run over its middle, so 0..10 s of a 20 s video is buckets
 * 0..49 exactly. A jump of more than 1.5 s between two readings of the position, or any
 * seek, marks nothing; the end of the video clamps to bucket 99. Quartile q (25, 50, 75,
 * 100) is reached when bucket q-1 is watched. A watch slice carries play_id, its own
 * media_ms, duration_ms and the play's whole coverage so far ("watched": 25 lowercase hex
 * digits, one 100-bit big-endian number, bucket 0 = the highest bit of the first digit).
 * Slices go out on pause, ended, every heartbeat while playing, and when the page is hidden
 * or left, only when media_ms > 0 or the coverage grew. A video of unknown length (a live
 * stream) sends its play only.
 *
 * The script needs no key, so it sends no viewer id and no User-Agent of its own: ingest
 * refuses those from keyless requests (401). Readers count as anonymous viewers.
 *
 * Opened through a share link (/s/ID), the page arrives with ?gb_visit=<the open's id>:
 * ingest already counted that open as the view, so the script sends none of its own, its
 * dwell, video and download events carry view_id = gb_visit (the time is the recipient's),
 * and it takes gb_visit out of the address bar, so a copied or bookmarked URL does not carry
 * it. A reload in the same tab goes on with the same visit (sessionStorage).
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
  // A string body goes out as text/plain;charset=UTF-8 and, unlike a Blob's, shows in the
  // browser's developer tools (and to test tools reading the request).
  function send(events, closing) {
    var body = JSON.stringify({ events: events });
    if (closing && navigator.sendBeacon) {
      if (navigator.sendBeacon(endpoint, body)) return;
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

  // --- slides and single-page apps: glassboard.page(n) --------------------------------------

  function isPage(n) {
    return typeof n === "number" && Math.floor(n) === n && n >= 1 && n <= 10000;
  }

  function setPage(n) {
    if (!isPage(n) || n === page) return;
    flush(false);  // the open slice belongs to the page it was spent on
    page = n;
  }

  try {
    var api = window.glassboard;
    if (!api || (typeof api !== "object" && typeof api !== "function")) {
      api = window.glassboard = {};
    }
    var queued = api.q;
    api.q = undefined;
    api.page = setPage;
    // Called before load: the reader was on that page when the script started, so the
    // slice open now (a fraction of a millisecond) is its, not data-page's.
    if (queued && queued.length) {
      for (var i = 0; i < queued.length; i++) if (isPage(queued[i])) page = queued[i];
    }
  } catch (e) { /* a page that froze window.glassboard keeps its own */ }

  // --- tracked downloads -------------------------------------------------------------------

  function onLinkClick(event) {
    if (event.type === "auxclick" && event.button !== 1) return;  // middle click only
    var target = event.target;
    if (!target || !target.closest || !target.closest("a[data-glassboard-download]")) return;
    var download = base("download");
    download.view_id = viewId;
    send([download], true);  // the click may leave the page: a beacon survives that
  }
  // Capture phase: a page handler that stops the click's propagation still lets it count.
  document.addEventListener("click", onLinkClick, true);
  document.addEventListener("auxclick", onLinkClick, true);

  // --- videos ------------------------------------------------------------------------------

  var BUCKETS = 100;
  var SEEK_S = 1.5;  // a longer step between two readings of the position is a jump
  var NOTHING_WATCHED = "0000000000000000000000000";
  var MEDIA_EVENTS = ["play", "playing", "pause", "waiting", "seeking", "seeked",
                      "timeupdate", "ended", "emptied"];
  var videos = [];
  var followed = window.WeakMap ? new WeakMap() : null;
  var inView = window.IntersectionObserver ? new IntersectionObserver(function (entries) {
    for (var i = 0; i < entries.length; i++) {
      var state = followed.get(entries[i].target);
      if (!state) continue;
      state.inView = entries[i].isIntersecting && entries[i].intersectionRatio >= 0.5;
      tickVideo(state);
    }
  }, { threshold: 0.5 }) : null;

  function mediaEvent(type, eventId) {
    return { event_id: eventId || uuid(), type: type, asset_id: asset, source: "beacon",
             view_id: viewId };
  }

  function known(seconds) {
    return seconds > 0 && isFinite(seconds);  // not NaN (no metadata) nor Infinity (live)
  }

  function lengthMs(seconds) {
    return known(seconds) ? Math.max(1, Math.min(Math.round(seconds * 1000), 86400000)) : 0;
  }

  function counts(state) {
    var v = state.video;
    return !away && state.playId !== null && !state.done && state.inView &&
      document.visibilityState === "visible" && !v.paused && !v.ended && !v.seeking &&
      v.readyState > 2;  // HAVE_FUTURE_DATA: buffering is not watching
  }

  // Mark the buckets whose middle playback ran over, from `from` to `to` seconds.
  function mark(state, from, to) {
    var d = state.duration;
    if (!known(d)) return;
    var first = Math.max(0, Math.ceil(from / d * BUCKETS - 0.5));
    var last = Math.min(BUCKETS - 1, Math.ceil(to / d * BUCKETS - 0.5) - 1);
    for (var i = first; i <= last; i++) state.watched[i] = 1;
  }

  function watchedHex(state) {
    var hex = "", w = state.watched;
    for (var i = 0; i < BUCKETS; i += 4) {
      hex += ((w[i] ? 8 : 0) | (w[i + 1] ? 4 : 0) | (w[i + 2] ? 2 : 0) | (w[i + 3] ? 1 : 0))
        .toString(16);
    }
    return hex;
  }

  // Bank the time and the stretch played since the last reading, then re-read the state;
  // `jumped` (a seek) says the position moved without being watched.
  function tickVideo(state, jumped) {
    var v = state.video, now = performance.now();
    // Kept: once the element has let go of its source ("emptied") it no longer knows it.
    if (known(v.duration)) state.duration = v.duration;
    var position = v.ended && known(v.duration) ? v.duration : v.currentTime;
    if (state.counting) {
      state.pendingMs += now - state.lastTick;
      var step = position - state.lastPos;
      if (!jumped && state.lastPos !== null && step > 0 && step <= SEEK_S) {
        mark(state, state.lastPos, position);
      }
    }
    state.lastTick = now;
    state.lastPos = position;
    state.counting = counts(state);
  }

  function startPlay(state) {
    state.playId = uuid();
    state.done = false;
    state.watched = [];
    state.sentWatched = NOTHING_WATCHED;
    state.pendingMs = 0;
    state.duration = state.video.duration;
    var play = mediaEvent("play", state.playId);
    var duration = lengthMs(state.duration);
    if (duration) play.duration_ms = duration;
    send([play], false);
  }

  function flushVideo(state, closing) {
    tickVideo(state);
    var duration = lengthMs(state.duration);
    if (state.playId === null || !duration) return;
    var mediaMs = Math.round(state.pendingMs), watched = watchedHex(state);
    if (mediaMs <= 0 && watched === state.sentWatched) return;
    state.pendingMs = 0;
    state.sentWatched = watched;
    var watch = mediaEvent("watch");
    watch.play_id = state.playId;
    watch.media_ms = Math.min(mediaMs, 3600000);
    watch.duration_ms = duration;
    watch.watched = watched;
    send([watch], closing);
  }

  function onMedia(state, type) {
    tickVideo(state, type === "seeking");
    if (type === "playing" && (state.playId === null || state.done)) {
      startPlay(state);
      tickVideo(state);
    } else if (type === "pause" || type === "ended" || type === "emptied") {
      flushVideo(state, false);
      if (type !== "pause") {  // the play is over: playing again is a new play
        state.done = true;
        state.counting = false;
      }
    }
  }

  function follow(video) {
    var state = followed.get(video);
    if (state) {
      if (videos.indexOf(state) < 0) videos.push(state);  // taken out, then put back
      return;
    }
    state = { video: video, playId: null, done: false, duration: NaN, watched: [],
              sentWatched: NOTHING_WATCHED, pendingMs: 0, lastTick: performance.now(),
              lastPos: null, counting: false, inView: !inView };
    followed.set(video, state);
    videos.push(state);
    MEDIA_EVENTS.forEach(function (type) {
      video.addEventListener(type, function () { onMedia(state, type); });
    });
    if (inView) inView.observe(video);
    // Already playing before this (async) script ran: the play starts now.
    if (!video.paused && !video.ended && video.readyState > 2) startPlay(state);
    tickVideo(state);
  }

  function followWithin(node) {
    if (node.nodeName === "VIDEO") follow(node);
    else if (node.querySelectorAll) {
      var found = node.querySelectorAll("video");
      for (var i = 0; i < found.length; i++) follow(found[i]);
    }
  }

  function tickVideos() {
    for (var i = 0; i < videos.length; i++) tickVideo(videos[i]);
  }

  function flushVideos(closing) {
    for (var i = 0; i < videos.length; i++) flushVideo(videos[i], closing);
    // A video taken out of the page is paused (and flushed) by the browser: forget it.
    videos = videos.filter(function (state) { return state.video.isConnected; });
  }

  if (followed) {
    followWithin(document);
    if (window.MutationObserver) {
      new MutationObserver(function (records) {
        for (var i = 0; i < records.length; i++) {
          var added = records[i].addedNodes;
          for (var j = 0; j < added.length; j++) followWithin(added[j]);
        }
      }).observe(document.documentElement, { childList: true, subtree: true });
    }
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      flush(true);
      flushVideos(true);
    } else {
      tick();
      tickVideos();
    }
  });
  window.addEventListener("focus", tick);
  window.addEventListener("blur", tick);
  window.addEventListener("pagehide", function () {
    flush(true);
    away = true;
    flushVideos(true);  // banks up to now, then stops counting (away)
  });
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    away = false;  // back from the back/forward cache: the same view goes on
    lastTick = performance.now();
    engaged = isEngaged();
    tickVideos();
  });
  setInterval(function () {
    flush(false);
    flushVideos(false);
  }, heartbeatMs);
})();
