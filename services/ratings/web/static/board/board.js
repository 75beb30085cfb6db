/* Glassboard: the live scoreboard (/) and the stale-content list (/stale).
 *
 * Reads a page of GET /v1/scores, then follows /v1/scores/stream from the revision that
 * page reflects. An update to a row on screen changes its cells in place and highlights
 * them; when the sort key moved, the row moves to its new place. A new asset that matches
 * the filters and sorts inside this page comes in; one that stops matching (another owner,
 * or on /stale, a fresh view) goes. Filters and sort live in the address.
 */
(function () {
  "use strict";

  var F = GBFormat;
  function $(id) { return document.getElementById(id); }

  var VIEW = document.body.dataset.view === "stale" ? "stale" : "board";
  var LIMIT = 50;
  var FLASH_MS = 2500;
  var LEAVE_MS = 1200;
  var ASCENDING_FIRST = { title: true, last_event_at: true };
  var SORT_WORDS = {
    score: "score", rating: "rating", views: "views", viewer_days: "daily viewers",
    engaged_ms_per_view: "engaged time per view", downloads: "downloads", title: "title",
    last_event_at: "last activity",
  };

  var state = {
    window: "90d", days: 30, sort: VIEW === "stale" ? "last_event_at" : "-score",
    q: "", type: "", stage: "", owner: "", offset: 0,
  };
  var items = [];  // {item, tr, timer} in display order
  var byId = new Map();
  var total = 0;
  var revision = 0;
  var stream = null;
  var loadSeq = 0;
  var searchTimer = null;
  var updates = 0;

  // --- what a row shows ----------------------------------------------------------------------

  function windowScore(item) {
    return (item.scores && item.scores[state.window]) || null;
  }

  function text(tag, className, value) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    el.textContent = value;
    return el;
  }

  function assetCell(td, item, withOwner) {
    var link = text("a", "asset-name", item.title || item.asset_id);
    link.href = "/assets/" + encodeURIComponent(item.asset_id);
    var sub = document.createElement("div");
    sub.className = "asset-sub";
    sub.appendChild(text("span", "badge type-" + item.asset_type, F.label(item.asset_type)));
    if (item.stage) sub.appendChild(text("span", "meta-stage", F.label(item.stage)));
    if (withOwner && item.owner_email) sub.appendChild(text("span", "owner", item.owner_email));
    td.replaceChildren(link, sub);
  }

  function scoreCell(td, item) {
    var s = windowScore(item);
    if (!s) {
      td.replaceChildren(text("span", "score-value none", "—"));
      td.title = "No score yet: no views and no ratings";
      return;
    }
    var t = F.trend(s);
    var value = text("span", "score-value", String(s.score));
    var arrow = text("span", "trend " + t.kind, t.arrow);
    arrow.setAttribute("aria-hidden", "true");
    td.replaceChildren(value, arrow, text("span", "sr-only", ", " + t.words));
    td.title = s.previous_score === null || s.previous_score === undefined
      ? "No earlier " + F.windowDays(state.window) + " days to compare with"
      : "Previous " + F.windowDays(state.window) + " days: " + s.previous_score;
  }

  function ratingCell(td, item) {
    var s = windowScore(item);
    if (!s || !s.rating_count) {
      td.replaceChildren(text("span", "muted", "No votes"));
      td.title = s ? "Counts as the catalog average, " + s.bayesian_average.toFixed(2) +
        " ★, in the score" : "";
      return;
    }
    td.replaceChildren(text("span", "", F.rating(s.bayesian_average, s.rating_count)));
    td.title = "Bayesian average " + s.bayesian_average.toFixed(2) + " (plain mean " +
      (s.rating_mean === null ? "—" : s.rating_mean.toFixed(2)) + "); " + s.positive_ratings +
      " of " + s.rating_count + " votes are 4-5 stars";
  }

  function numberCell(field) {
    return function (td, item) {
      var s = windowScore(item);
      td.textContent = F.int(s ? s[field] : 0);
    };
  }

  /* Share links sent to prospects, all time, and how many were opened (/v1/share-usage). */
  var shareUsage = {};

  function sharedCell(td, item) {
    var u = shareUsage[item.asset_id];
    td.textContent = u ? F.int(u.links_sent) + " sent, " + Math.round(100 * u.open_rate) +
      "% opened" : "—";
    td.title = u ? u.opened + " of " + u.links_sent + " share links opened" : "Never shared";
  }

  /* Pixel and email views carry no time on page: "no data", which is not 0 s. */
  function engagedCell(td, item) {
    var s = windowScore(item);
    var known = s && s.views && s.engaged_ms;
    td.textContent = known ? F.duration(s.engaged_ms_per_view) : "—";
    td.title = known ? F.duration(s.engaged_ms) + " engaged over " + F.int(s.views) + " views"
      : s && s.views ? "No time on page recorded: pixel and email views carry none" : "No views in the window";
  }

  function lastActivityCell(td, item) {
    var when = text("span", "", F.ago(item.last_event_at));
    var parts = [when];
    if (item.last_event_at) parts.push(text("span", "muted when", F.date(item.last_event_at)));
    td.replaceChildren.apply(td, parts);
    td.title = item.last_event_at || "No view, download or reading time recorded";
  }

  function allTimeRatingsCell(td, item) {
    var r = item.ratings || {};
    td.textContent = r.count ? F.votes(r.count) + ", mean " + Number(r.mean).toFixed(1) + " ★"
      : "No votes";
  }

  var COLUMNS = {
    board: [
      { cls: "rank", label: "#", fill: function () { /* renumber() writes it */ } },
      { cls: "col-asset", label: "Asset", fill: function (td, item) { assetCell(td, item, true); } },
      { cls: "num col-score", label: "Score", fill: scoreCell },
      { cls: "num", label: "Rating", fill: ratingCell },
      { cls: "num", label: "Views", fill: numberCell("views") },
      { cls: "num", label: "Daily viewers, summed", fill: numberCell("viewer_days") },
      { cls: "num", label: "Engaged per view", fill: engagedCell },
      { cls: "num", label: "Downloads", fill: numberCell("downloads") },
      { cls: "num col-shared", label: "Sent by sales", fill: sharedCell },
    ],
    stale: [
      { cls: "col-asset", label: "Asset", fill: function (td, item) { assetCell(td, item, false); } },
      { cls: "owner-cell", label: "Owner", fill: function (td, item) { td.textContent = item.owner_email || "—"; } },
      { cls: "", label: "Last activity", fill: lastActivityCell },
      { cls: "num", label: "Views, all time", fill: function (td, item) { td.textContent = F.int((item.totals || {}).views); } },
      { cls: "num", label: "Downloads, all time", fill: function (td, item) { td.textContent = F.int((item.totals || {}).downloads); } },
      { cls: "num", label: "Ratings", fill: allTimeRatingsCell },
    ],
  }[VIEW];

  // --- sorting, as the server sorts (services/ratings/score_listing.py) -------------------

  function sortKey() { return state.sort.replace(/^-/, ""); }
  function descending() { return state.sort.charAt(0) === "-"; }

  /* The sort value as a list compared left to right; no score yet sorts as -1. */
  function sortValue(item) {
    var key = sortKey();
    var s = windowScore(item);
    if (key === "title") return [(item.title || "").toLowerCase()];
    // Never used sorts as the oldest activity of all.
    if (key === "last_event_at") return [item.last_event_at ? Date.parse(item.last_event_at) : -Infinity];
    if (key === "rating") return s ? [s.wilson_lower_bound, s.bayesian_average] : [-1, -1];
    if (key === "trend") return [s && s.previous_score !== null ? s.score - s.previous_score : 0];
    return [s && s[key] !== undefined ? s[key] : -1];
  }

  function order(a, b) {
    for (var i = 0; i < a.length; i++) {
      if (a[i] < b[i]) return -1;
      if (a[i] > b[i]) return 1;
    }
    return 0;
  }

  function sameValue(a, b) { return order(a, b) === 0; }

  /* Negative when a comes first. Ties go by title, then id, whichever the direction. */
  function compare(a, b) {
    var byKey = order(sortValue(a), sortValue(b));
    if (byKey) return descending() ? -byKey : byKey;
    return order([(a.title || "").toLowerCase(), a.asset_id], [(b.title || "").toLowerCase(), b.asset_id]);
  }

  function placeFor(item) {
    for (var i = 0; i < items.length; i++) {
      if (compare(item, items[i].item) < 0) return i;
    }
    return items.length;
  }

  // --- which rows belong here ----------------------------------------------------------------

  /* The list's own filters, as the server applies them (title and id for the search). */
  function keeps(item) {
    if (state.type && item.asset_type !== state.type) return false;
    if (state.stage && item.stage !== state.stage) return false;
    if (state.owner && (item.owner_email || "").toLowerCase() !== state.owner.toLowerCase()) return false;
    if (state.q) {
      var q = state.q.toLowerCase();
      if ((item.title || "").toLowerCase().indexOf(q) < 0 && item.asset_id.indexOf(q) < 0) return false;
    }
    if (VIEW === "stale" && item.last_event_at &&
        Date.parse(item.last_event_at) >= Date.now() - state.days * F.DAY_MS) return false;
    return true;
  }

  // --- rows ----------------------------------------------------------------------------------

  function makeRow(item) {
    var tr = document.createElement("tr");
    tr.dataset.id = item.asset_id;
    COLUMNS.forEach(function (column) {
      var td = document.createElement(column.cls === "col-asset" ? "th" : "td");
      if (column.cls === "col-asset") td.scope = "row";
      td.className = column.cls;
      td.dataset.label = column.label;
      tr.appendChild(td);
    });
    var entry = { item: item, tr: tr, timer: null };
    fill(entry, false);
    return entry;
  }

  function fill(entry, flash) {
    var cells = entry.tr.children;
    var changed = false;
    COLUMNS.forEach(function (column, i) {
      var before = cells[i].textContent;
      column.fill(cells[i], entry.item);
      if (flash && cells[i].textContent !== before) {
        cells[i].classList.add("changed");
        changed = true;
      }
    });
    entry.tr.dataset.revision = String(entry.item.revision);
    // Only rows whose figures moved light up: one rating moves the catalog-wide prior and
    // so re-sends every asset, most of them with nothing visible changed.
    if (changed) highlight(entry);
  }

  function highlight(entry) {
    var tr = entry.tr;
    clearTimeout(entry.timer);
    tr.classList.remove("updated");
    void tr.offsetWidth;  // restart the animation
    tr.classList.add("updated");
    entry.timer = setTimeout(function () {
      tr.classList.remove("updated");
      Array.prototype.forEach.call(tr.querySelectorAll(".changed"), function (td) {
        td.classList.remove("changed");
      });
    }, FLASH_MS);
  }

  function insertAt(entry, index) {
    var tbody = $("rows");
    tbody.insertBefore(entry.tr, index < items.length ? items[index].tr : null);
    items.splice(index, 0, entry);
    byId.set(entry.item.asset_id, entry);
  }

  function detach(entry) {
    var index = items.indexOf(entry);
    if (index >= 0) items.splice(index, 1);
    byId.delete(entry.item.asset_id);
  }

  function leave(entry) {
    detach(entry);
    total = Math.max(total - 1, 0);
    entry.tr.classList.add("leaving");
    setTimeout(function () { entry.tr.remove(); }, LEAVE_MS);
  }

  function renumber() {
    if (VIEW !== "board") return;
    items.forEach(function (entry, i) {
      entry.tr.firstChild.textContent = String(state.offset + i + 1);
    });
  }

  function render(list) {
    items.forEach(function (entry) { clearTimeout(entry.timer); });
    items = [];
    byId.clear();
    $("rows").replaceChildren();
    list.forEach(function (item) { insertAt(makeRow(item), items.length); });
    $("rows").setAttribute("aria-busy", "false");
    refreshChrome();
  }

  // --- live updates --------------------------------------------------------------------------

  function onUpdate(item) {
    updates += 1;
    document.body.dataset.liveUpdates = String(updates);
    var entry = byId.get(item.asset_id);
    if (entry) {
      if (Number(item.revision) <= Number(entry.item.revision)) return;  // replayed
      if (!keeps(item)) {
        leave(entry);
      } else {
        var before = sortValue(entry.item);
        entry.item = item;
        fill(entry, true);
        if (!sameValue(sortValue(item), before)) move(entry);
      }
    } else if (keeps(item)) {
      arrive(item);
    }
    refreshChrome();
  }

  function move(entry) {
    detach(entry);
    insertAt(entry, placeFor(entry.item));
  }

  function arrive(item) {
    var index = placeFor(item);
    var lastPage = state.offset + items.length >= total;
    if (items.length < LIMIT && lastPage) {
      total += 1;
    } else if (index >= items.length) {
      return;  // it sorts onto a later page
    }
    var entry = makeRow(item);
    insertAt(entry, index);
    highlight(entry);
    if (items.length > LIMIT) {
      var last = items[items.length - 1];
      detach(last);
      last.tr.remove();
    }
  }

  function setLive(name) {
    var words = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…",
                  off: "Not live" };
    $("live").dataset.state = name;
    $("live-text").textContent = words[name] || name;
  }

  function openStream() {
    if (stream) stream.close();
    stream = GBScoreStream.open(
      // Not stale_days: on /stale, the fresh activity that takes a row away must arrive too.
      { since: revision, type: state.type, stage: state.stage, owner: state.owner, q: state.q },
      { update: onUpdate, state: setLive });
  }

  // --- the page around the rows --------------------------------------------------------------

  function refreshChrome() {
    renumber();
    var words = SORT_WORDS[sortKey()] || sortKey();
    var direction = descending() ? "highest first" : "lowest first";
    if (sortKey() === "title") direction = descending() ? "Z to A" : "A to Z";
    if (sortKey() === "last_event_at") direction = descending() ? "newest first" : "oldest first";
    var noun = total === 1 ? "1 asset" : F.int(total) + " assets";
    $("summary").textContent = VIEW === "stale"
      ? noun + " without views, downloads or reading time for " + state.days + " days · " + words + ", " + direction
      : noun + " · " + F.windowDays(state.window) + "-day window · sorted by " + words + ", " + direction;
    var first = items.length ? state.offset + 1 : 0;
    $("range").textContent = items.length ? first + "–" + (state.offset + items.length) + " of " + F.int(total) : "";
    $("prev").disabled = state.offset === 0;
    $("next").disabled = state.offset + items.length >= total;
    $("prev").parentNode.hidden = state.offset === 0 && total <= LIMIT;
    var empty = $("empty");
    empty.hidden = items.length > 0;
    empty.textContent = VIEW === "stale"
      ? "Nothing stale: every asset matching these filters was used in the last " + state.days + " days."
      : "No assets match these filters.";
    Array.prototype.forEach.call(document.querySelectorAll("th[data-sort]"), function (th) {
      th.setAttribute("aria-sort", th.dataset.sort === sortKey()
        ? (descending() ? "descending" : "ascending") : "none");
    });
  }

  function params(forList) {
    var p = new URLSearchParams();
    p.set("window", state.window);
    p.set("sort", state.sort);
    if (VIEW === "stale") p.set("stale_days", String(state.days));
    ["type", "stage", "owner", "q"].forEach(function (key) { if (state[key]) p.set(key, state[key]); });
    if (forList) {
      p.set("limit", String(LIMIT));
      p.set("offset", String(state.offset));
    }
    return p;
  }

  function writeUrl() {
    var p = new URLSearchParams();
    if (VIEW === "board" && state.window !== "90d") p.set("window", state.window);
    if (VIEW === "stale" && state.days !== 30) p.set("days", String(state.days));
    if (state.sort !== (VIEW === "stale" ? "last_event_at" : "-score")) p.set("sort", state.sort);
    ["q", "type", "stage", "owner"].forEach(function (key) { if (state[key]) p.set(key, state[key]); });
    if (state.offset) p.set("offset", String(state.offset));
    var query = p.toString();
    history.replaceState(null, "", location.pathname + (query ? "?" + query : ""));
  }

  function readUrl() {
    var p = new URLSearchParams(location.search);
    if (/^(7|30|90|120)d$/.test(p.get("window") || "")) state.window = p.get("window");
    if (/^(30|60|90)$/.test(p.get("days") || "")) state.days = Number(p.get("days"));
    if (/^-?[a-z_]+$/.test(p.get("sort") || "")) state.sort = p.get("sort");
    ["q", "type", "stage", "owner"].forEach(function (key) { state[key] = p.get(key) || ""; });
    state.offset = Math.max(parseInt(p.get("offset"), 10) || 0, 0);
  }

  function showControls() {
    var group = VIEW === "stale" ? "days" : "window";
    var value = VIEW === "stale" ? String(state.days) : state.window;
    Array.prototype.forEach.call(document.querySelectorAll('input[name="' + group + '"]'),
      function (radio) { radio.checked = radio.value === value; });
    $("q").value = state.q;
    ["type", "stage", "owner"].forEach(function (key) { $(key).value = state[key]; });
    var sort = $("sort");
    sort.value = state.sort;
    if (sort.value !== state.sort) sort.selectedIndex = -1;
  }

  function showError(error) {
    var box = $("error");
    box.hidden = false;
    box.textContent = error.status === 404
      ? "The scoreboard API is not available on this server yet."
      : "Could not load the scoreboard (" + error.message + "). It will try again.";
  }

  function load() {
    var seq = ++loadSeq;
    if (stream) { stream.close(); stream = null; }
    document.body.dataset.ready = "false";
    writeUrl();
    $("csv").href = "/v1/scores.csv?" + params(false).toString();
    $("rows").setAttribute("aria-busy", "true");
    var shared = F.getJson("/v1/share-usage").then(function (body) {
      shareUsage = body.assets || {};
    }, function () { shareUsage = {}; });
    var scores = F.getJson("/v1/scores?" + params(true).toString());
    return Promise.all([scores, shared]).then(function (answers) {
      var body = answers[0];
      if (seq !== loadSeq) return;
      $("error").hidden = true;
      revision = Number(body.revision) || 0;
      total = Number(body.total) || 0;
      render(body.items || []);
      document.body.dataset.revision = String(revision);
      document.body.dataset.ready = "true";
      openStream();
    }).catch(function (error) {
      if (seq !== loadSeq || error.message === "signed out") return;
      $("rows").setAttribute("aria-busy", "false");
      setLive("off");
      showError(error);
      if (error.status !== 404) setTimeout(function () { if (seq === loadSeq) load(); }, 5000);
    });
  }

  function reload() {
    state.offset = 0;
    load();
  }

  function bind() {
    $("filters").addEventListener("submit", function (event) { event.preventDefault(); });
    $("filters").addEventListener("change", function (event) {
      var target = event.target;
      if (target.name === "window") state.window = target.value;
      else if (target.name === "days") state.days = Number(target.value);
      else if (target.id === "sort") state.sort = target.value;
      else if (target.id === "q") return;  // handled on input
      else state[target.id] = target.value;
      reload();
    });
    $("q").addEventListener("input", function () {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(function () {
        state.q = $("q").value.trim();
        reload();
      }, 250);
    });
    Array.prototype.forEach.call(document.querySelectorAll("th[data-sort] button"), function (button) {
      button.addEventListener("click", function () {
        var key = button.parentNode.dataset.sort;
        if (sortKey() === key) {
          state.sort = descending() ? key : "-" + key;
        } else {
          state.sort = ASCENDING_FIRST[key] ? key : "-" + key;
        }
        showControls();
        reload();
      });
    });
    $("prev").addEventListener("click", function () {
      state.offset = Math.max(state.offset - LIMIT, 0);
      load();
    });
    $("next").addEventListener("click", function () {
      state.offset += LIMIT;
      load();
    });
  }

  readUrl();
  showControls();
  bind();
  load();
})();
