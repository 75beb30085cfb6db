/* Glassboard: the rating app. Lists assets (search, type, stage, "Recently viewed by me"),
 * rates them from the list with GBStars, and keeps working offline with the service
 * worker (sw.js) and the queue (queue.js).
 */
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var state = { me: null, tab: "all", q: "", type: "", stage: "", loading: null, lastFromCache: null };
  var searchTimer = null;
  var replayTimer = null;

  var TYPE_LABELS = {};
  Array.prototype.forEach.call($("type").options, function (o) { TYPE_LABELS[o.value] = o.text; });
  var STAGE_LABELS = {};
  Array.prototype.forEach.call($("stage").options, function (o) { STAGE_LABELS[o.value] = o.text; });

  function label(slug, labels) {
    return labels[slug] || (slug ? slug.charAt(0).toUpperCase() + slug.slice(1).replace(/_/g, " ") : "");
  }

  // --- the service worker and the queue -------------------------------------------------

  function registerWorker() {
    if (!("serviceWorker" in navigator)) return Promise.resolve(null);
    return navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" })
      .catch(function (error) { console.warn("service worker not registered", error); return null; });
  }

  function localNews(message) {
    GBStars.onQueueNews(message);
    refreshPending();
  }

  /* Ask for the waiting ratings to be sent: by the worker if it runs this page, else here.
   * Checks again a little later while something still waits (and we think we are online). */
  function flushQueue(attempt) {
    attempt = attempt || 0;
    clearTimeout(replayTimer);
    var controller = navigator.serviceWorker && navigator.serviceWorker.controller;
    var done = controller
      ? (controller.postMessage({ type: "replay" }), new Promise(function (r) { setTimeout(r, 1500); }))
      : GBQueue.replay(function (message) { localNews(message); GBQueue.broadcast(message); });
    return Promise.resolve(done).then(refreshPending).then(function (waiting) {
      if (waiting && navigator.onLine && attempt < 6) {
        replayTimer = setTimeout(function () { flushQueue(attempt + 1); }, 1500 * (attempt + 1));
      }
    });
  }

  function myPending() {
    return GBQueue.all().then(function (entries) {
      return entries.filter(function (e) { return state.me && (!e.uid || e.uid === state.me.id); });
    }).catch(function () { return []; });
  }

  function refreshPending() {
    return myPending().then(function (entries) {
      var chip = $("pending");
      chip.hidden = entries.length === 0;
      chip.textContent = entries.length === 1 ? "1 rating waiting" : entries.length + " ratings waiting";
      return entries.length;
    });
  }

  function showConnectivity() {
    $("offline-banner").hidden = navigator.onLine;
    document.body.classList.toggle("is-offline", !navigator.onLine);
  }

  // --- the list ----------------------------------------------------------------------------

  function query() {
    var params = new URLSearchParams();
    if (state.q) params.set("q", state.q);
    if (state.type) params.set("type", state.type);
    if (state.stage) params.set("stage", state.stage);
    if (state.tab === "recent") params.set("recent", "true");
    return params;
  }

  function keepInUrl() {
    var params = query();
    if (params.get("recent")) { params.delete("recent"); params.set("tab", "recent"); }
    var search = params.toString();
    history.replaceState(null, "", "/app/" + (search ? "?" + search : ""));
  }

  /* The same filter as the server, for a list the worker served from its cache. */
  function filterLocally(assets) {
    var q = state.q.toLowerCase();
    return assets.filter(function (a) {
      if (state.type && a.type !== state.type) return false;
      if (state.stage && a.stage !== state.stage) return false;
      if (!q) return true;
      return a.title.toLowerCase().indexOf(q) >= 0 || a.id.toLowerCase().indexOf(q) >= 0 ||
        (a.tags || []).indexOf(q) >= 0;
    });
  }

  function load() {
    keepInUrl();
    var list = $("list");
    list.setAttribute("aria-busy", "true");
    var controller = new AbortController();
    if (state.loading) state.loading.abort();
    state.loading = controller;
    return fetch("/v1/assets?" + query().toString(), {
      credentials: "same-origin", signal: controller.signal,
    }).then(function (response) {
      if (response.status === 401) return signIn();
      if (!response.ok) throw new Error("the server answered " + response.status);
      state.lastFromCache = response.headers.get("x-glassboard-from-cache");
      return response.json().then(function (data) {
        var assets = state.lastFromCache ? filterLocally(data.assets) : data.assets;
        return myPending().then(function (pending) { render(assets, pending); });
      });
    }).catch(function (error) {
      if (error.name === "AbortError") return;
      list.innerHTML = "";
      showEmpty(navigator.onLine
        ? "Could not load the assets (" + error.message + "). Pull to refresh or try again."
        : "You're offline, and this phone has no saved list yet. Open the app once online.");
    }).finally(function () {
      if (state.loading === controller) {
        state.loading = null;
        list.setAttribute("aria-busy", "false");
      }
    });
  }

  function showEmpty(text) {
    var empty = $("empty");
    empty.hidden = !text;
    empty.textContent = text || "";
  }

  var relative = typeof Intl !== "undefined" && Intl.RelativeTimeFormat
    ? new Intl.RelativeTimeFormat("en", { numeric: "auto" }) : null;

  function ago(iso) {
    var seconds = (new Date(iso).getTime() - Date.now()) / 1000;
    if (!relative || isNaN(seconds)) return "";
    var units = [["day", 86400], ["hour", 3600], ["minute", 60]];
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(seconds) >= units[i][1]) {
        return relative.format(Math.round(seconds / units[i][1]), units[i][0]);
      }
    }
    return "just now";
  }

  function render(assets, pending) {
    var list = $("list");
    var waiting = {};
    pending.forEach(function (e) { waiting[e.asset_id] = e; });
    GBStars.raters.clear();
    list.innerHTML = "";
    var template = $("row-template");
    var myEmail = state.me ? state.me.email.toLowerCase() : "";

    assets.forEach(function (asset) {
      var row = template.content.firstElementChild.cloneNode(true);
      row.dataset.id = asset.id;
      row.dataset.type = asset.type;
      row.querySelector(".type-icon use").setAttribute(
        "href", "#t-" + (TYPE_LABELS[asset.type] ? asset.type : "other"));
      var link = row.querySelector(".asset-link");
      link.href = "/assets/" + encodeURIComponent(asset.id);
      link.textContent = asset.title;

      var meta = row.querySelector(".asset-meta");
      var badge = document.createElement("span");
      badge.className = "badge type-" + asset.type;
      badge.textContent = label(asset.type, TYPE_LABELS);
      meta.appendChild(badge);
      if (asset.stage) meta.appendChild(metaPart(label(asset.stage, STAGE_LABELS), "stage"));
      if ((asset.tags || []).length) {
        meta.appendChild(metaPart(asset.tags.slice(0, 4).map(function (t) { return "#" + t; }).join(" "), "tags"));
      }
      if (state.tab === "recent" && asset.my_last_view) {
        meta.appendChild(metaPart("Viewed " + ago(asset.my_last_view), "seen"));
      }

      var raterEl = row.querySelector(".rater");
      if (asset.owner_email && asset.owner_email.toLowerCase() === myEmail) {
        raterEl.innerHTML = '<p class="owner-note">Your asset: owners don\'t rate their own.</p>';
      } else {
        var queued = waiting[asset.id];
        new GBStars.Rater(raterEl, {
          assetId: asset.id,
          title: asset.title,
          uid: state.me && state.me.id,
          stars: queued ? queued.stars : asset.my_stars,
          comment: queued ? queued.comment : "",
          queued: !!queued,
          onChange: function (rater, outcome) {
            if (outcome.state === "queued") refreshPending();
          },
        });
      }
      list.appendChild(row);
    });

    var count = assets.length === 1 ? "1 asset" : assets.length + " assets";
    var note = state.lastFromCache ? " · offline copy" : "";
    $("summary").textContent = count + (state.tab === "recent" ? " you viewed" : "") + note;
    if (!assets.length) {
      showEmpty(state.tab === "recent" && !state.q && !state.type && !state.stage
        ? "Nothing here yet. Assets you open show up here, most recent first."
        : "No assets match. Try another word or clear the filters.");
    } else {
      showEmpty("");
    }
  }

  function metaPart(text, kind) {
    var span = document.createElement("span");
    span.className = "meta-" + kind;
    span.textContent = text;
    return span;
  }

  // --- tabs, search, filters ---------------------------------------------------------------

  function selectTab(name, focus) {
    state.tab = name;
    ["all", "recent"].forEach(function (tab) {
      var button = $("tab-" + tab);
      var selected = tab === name;
      button.setAttribute("aria-selected", selected ? "true" : "false");
      button.tabIndex = selected ? 0 : -1;
      if (selected) {
        $("panel").setAttribute("aria-labelledby", button.id);
        if (focus) button.focus();
      }
    });
    return load();
  }

  function wireControls() {
    document.querySelectorAll('[role="tab"]').forEach(function (tab) {
      tab.addEventListener("click", function () { selectTab(tab.dataset.tab); });
      tab.addEventListener("keydown", function (event) {
        if (event.key === "ArrowRight" || event.key === "ArrowLeft" ||
            event.key === "Home" || event.key === "End") {
          event.preventDefault();
          var other = tab.dataset.tab === "all" ? "recent" : "all";
          var target = event.key === "Home" ? "all" : event.key === "End" ? "recent" : other;
          selectTab(target, true);
        }
      });
    });
    $("q").addEventListener("input", function () {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(function () { state.q = $("q").value.trim(); load(); }, 250);
    });
    $("filters").addEventListener("submit", function (event) {
      event.preventDefault();
      clearTimeout(searchTimer);
      state.q = $("q").value.trim();
      $("q").blur();  // closes the phone's keyboard
      load();
    });
    ["type", "stage"].forEach(function (id) {
      $(id).addEventListener("change", function () { state[id] = $(id).value; load(); });
    });
    $("signout").addEventListener("click", signOut);
    window.addEventListener("online", function () {
      showConnectivity();
      var stale = state.lastFromCache;
      flushQueue().then(function () { if (stale) load(); });  // swap the offline copy
    });
    window.addEventListener("offline", showConnectivity);
    if (typeof BroadcastChannel !== "undefined") {
      new BroadcastChannel(GBQueue.CHANNEL).onmessage = function (event) { localNews(event.data); };
    }
  }

  function readUrl() {
    var params = new URLSearchParams(location.search);
    state.q = params.get("q") || "";
    state.type = params.get("type") || "";
    state.stage = params.get("stage") || "";
    state.tab = params.get("tab") === "recent" ? "recent" : "all";
    $("q").value = state.q;
    $("type").value = state.type;
    $("stage").value = state.stage;
  }

  // --- who ---------------------------------------------------------------------------------

  function signIn() {
    location.replace("/login?next=" + encodeURIComponent("/app/" + location.search));
  }

  function signOut() {
    var button = $("signout");
    button.disabled = true;
    fetch("/v1/auth/logout", { method: "POST", credentials: "same-origin" })
      .then(function () {
        // Forget the offline copies of my lists before anyone else can open the app.
        return (typeof caches !== "undefined" ? caches.delete(GBQueue.DATA_CACHE) : null);
      }).then(function () {
        location.replace("/login");
      }, function () {
        button.disabled = false;
        GBStars.toast("You can sign out when you're back online.", "error");
      });
  }

  function loadMe() {
    return fetch("/v1/me", { credentials: "same-origin" }).then(function (response) {
      if (response.status === 401) { signIn(); return null; }
      if (!response.ok) throw new Error("status " + response.status);
      return response.json();
    }).then(function (me) {
      if (!me) return null;
      state.me = me;
      $("whoami").textContent = me.email + " · tap a star to rate, it saves at once";
      $("signout").setAttribute("aria-label", "Sign out " + me.email);
      $("signout").title = "Sign out " + me.email;
      return me;
    });
  }

  // --- start -------------------------------------------------------------------------------

  function start() {
    readUrl();
    wireControls();
    showConnectivity();
    var worker = registerWorker();
    loadMe().then(function (me) {
      if (!me) return;
      return selectTab(state.tab).then(function () {
        document.body.dataset.ready = "true";
        return worker;
      }).then(function () {
        return refreshPending();
      }).then(function (waiting) {
        if (waiting && navigator.onLine) flushQueue();
      });
    }).catch(function (error) {
      showEmpty("Could not start: " + error.message);
    });
  }

  start();
})();
