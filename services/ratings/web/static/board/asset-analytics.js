/* Glassboard asset page: the analytics section. The content score per window with its
 * parts (live over /v1/scores/stream?asset=ID), ratings with the latest comments, usage per
 * day and the device mix, drawn with Chart.js (served by the app itself). Page by page
 * reading and the video's plays are asset-reading.js's.
 *
 * The page is rendered with the asset's latest score state (#score-state), so the score
 * card shows at once; the stream resumes from that state's revision.
 */
(function () {
  "use strict";

  var root = document.getElementById("analytics");
  if (!root || typeof Chart === "undefined") return;

  var F = GBFormat;
  var assetId = root.dataset.asset;
  var assetType = root.dataset.type;
  var base = "/v1/assets/" + encodeURIComponent(assetId);
  var REFRESH_MS = 1500;
  var FLASH_MS = 2500;
  var COLORS = {
    views: "#4338ca", viewers: "#0d9488", downloads: "#f59e0b", grid: "#eceef5",
    stars: ["#b91c1c", "#ea580c", "#ca8a04", "#65a30d", "#15803d"],
    devices: { desktop: "#4338ca", phone: "#0d9488", tablet: "#f59e0b", tv: "#db2777",
               console: "#7c3aed", other: "#6b7280", unknown: "#9ca3af" },
  };

  var scoreState = readState();
  var selectedWindow = "90d";
  var ratingWindows = null;
  var charts = {};
  var refreshTimer = null;
  var flashTimer = null;
  var updates = 0;

  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#4b5563";
  Chart.defaults.maintainAspectRatio = false;
  if (F.reducedMotion()) Chart.defaults.animation = false;

  function $(id) { return document.getElementById(id); }

  var el = F.el;

  function readState() {
    var script = document.getElementById("score-state");
    try {
      return script ? JSON.parse(script.textContent) : null;
    } catch (error) {
      return null;
    }
  }

  function meter(share, small) {
    var bar = el("div", "meter" + (small ? " small" : ""));
    var fill = el("span");
    fill.style.width = Math.round(Math.max(0, Math.min(1, share)) * 100) + "%";  // CSSOM: CSP-safe
    bar.appendChild(fill);
    bar.setAttribute("aria-hidden", "true");
    return bar;
  }

  function pct(share) { return Math.round(share * 100) + "%"; }

  // --- the score card ------------------------------------------------------------------------

  function renderChips() {
    Array.prototype.forEach.call(root.querySelectorAll(".window-chip"), function (chip) {
      var s = scoreState && scoreState.scores ? scoreState.scores[chip.dataset.window] : null;
      var t = F.trend(s);
      chip.querySelector(".chip-score").textContent = s ? s.score + (t.arrow ? " " + t.arrow : "") : "—";
      chip.classList.toggle("trend-up", t.kind === "up");
      chip.classList.toggle("trend-down", t.kind === "down");
      chip.setAttribute("aria-pressed", String(chip.dataset.window === selectedWindow));
      chip.title = s ? "Score " + s.score + ", " + t.words : "No score yet";
    });
  }

  function ratingPart(s) {
    var part = el("div", "part");
    var head = el("div", "part-head");
    head.append(el("span", "part-name", "What sales thinks"), el("span", "part-weight", "× 60%"),
                el("span", "part-value", s.rating_part.toFixed(2)));
    var explain = s.rating_count
      ? "Bayesian average " + s.bayesian_average.toFixed(2) + " ★ from " + F.votes(s.rating_count) +
        " in the window (plain mean " + s.rating_mean.toFixed(2) + "), mapped from 1–5 to 0–1: (" +
        s.bayesian_average.toFixed(2) + " − 1) / 4 = " + s.rating_part.toFixed(2) + "."
      : "No votes in the window, so it counts as the catalog average, " +
        s.bayesian_average.toFixed(2) + " ★: (" + s.bayesian_average.toFixed(2) + " − 1) / 4 = " +
        s.rating_part.toFixed(2) + ".";
    part.append(head, meter(s.rating_part), el("p", "part-explain", explain));
    return part;
  }

  function engagementPart(s) {
    var part = el("div", "part");
    var head = el("div", "part-head");
    head.append(el("span", "part-name", "How it is used"), el("span", "part-weight", "× 40%"),
                el("span", "part-value", s.engagement_part.toFixed(2)));
    var peers = s.peers === 1 ? "the 1 other " + F.label(assetType).toLowerCase()
      : "the " + s.peers + " other " + F.typePlural(assetType);
    var explain = s.peers
      ? "The average of three ranks against " + peers + ": the share of them it beats, a tie counting half."
      : "It is the only " + F.label(assetType).toLowerCase() + ", so each rank is a neutral 50% (0 where it has nothing).";
    var ranks = el("ul", "ranks");
    [["Daily viewers, summed", F.int(s.viewer_days), s.viewers_percentile],
     ["Engaged time per view", s.engaged_ms ? F.duration(s.engaged_ms_per_view) : "no data", s.engagement_percentile],
     ["Downloads", F.int(s.downloads), s.downloads_percentile]].forEach(function (rank) {
      var li = el("li");
      li.append(el("span", "rank-name", rank[0]), el("span", "rank-figure", rank[1]),
                meter(rank[2], true), el("span", "rank-pct", "beats " + pct(rank[2])));
      ranks.appendChild(li);
    });
    part.append(head, meter(s.engagement_part), el("p", "part-explain", explain), ranks);
    return part;
  }

  function renderScore() {
    renderChips();
    var detail = $("score-detail");
    var s = scoreState && scoreState.scores ? scoreState.scores[selectedWindow] : null;
    if (!s) {
      detail.replaceChildren(el("p", "muted", "No score yet: it appears with the first view or rating."));
      return;
    }
    var t = F.trend(s);
    var big = el("div", "score-big");
    var arrow = el("span", "trend " + t.kind, t.arrow);
    arrow.setAttribute("aria-hidden", "true");
    big.append(el("span", "score-number", String(s.score)), el("span", "score-max", "/ 100"),
               arrow, el("span", "trend-words", t.words));
    big.title = s.previous_score === null ? "" : "Previous " + F.windowDays(selectedWindow) + " days: " + s.previous_score;
    var formula = el("p", "formula", "100 × (0.6 × " + s.rating_part.toFixed(2) + " + 0.4 × " +
                     s.engagement_part.toFixed(2) + ") = " + s.score);
    var parts = el("div", "parts");
    parts.append(ratingPart(s), engagementPart(s));
    var foot = el("p", "score-foot", "Since " + F.date(s.since) + ": " + F.int(s.views) + " views, " +
                  F.int(s.viewer_days) + " daily viewers summed, " + F.int(s.downloads) +
                  " downloads, " + F.duration(s.engaged_ms) + " engaged in all.");
    detail.replaceChildren(big, formula, parts, foot);
  }

  // --- charts --------------------------------------------------------------------------------

  function draw(name, config) {
    var chart = charts[name];
    if (chart) {
      chart.data = config.data;
      chart.update();
    } else {
      charts[name] = new Chart($("chart-" + name), config);
    }
  }

  function showBox(canvasId, shown) {
    $(canvasId).parentNode.hidden = !shown;
  }

  function drawUsage(body) {
    var days = body.daily;
    var sum = function (field) { return days.reduce(function (n, d) { return n + d[field]; }, 0); };
    $("usage-summary").textContent = F.int(sum("views")) + " views, " + F.int(sum("unique_viewers")) +
      " unique viewers added up over the days, " + F.int(sum("downloads")) + " downloads, " +
      F.duration(sum("engaged_ms")) + " engaged in all.";
    draw("usage", {
      type: "bar",
      data: {
        labels: days.map(function (d) { return F.shortDay(d.day); }),
        datasets: [
          { type: "line", label: "Views", data: days.map(function (d) { return d.views; }),
            borderColor: COLORS.views, backgroundColor: COLORS.views, borderWidth: 2,
            pointRadius: 0, pointHoverRadius: 4, tension: 0.25, order: 1 },
          { type: "line", label: "Unique viewers", data: days.map(function (d) { return d.unique_viewers; }),
            borderColor: COLORS.viewers, backgroundColor: COLORS.viewers, borderWidth: 2,
            borderDash: [5, 3], pointRadius: 0, pointHoverRadius: 4, tension: 0.25, order: 2 },
          { type: "bar", label: "Downloads", data: days.map(function (d) { return d.downloads; }),
            backgroundColor: COLORS.downloads, borderRadius: 2, order: 3 },
        ],
      },
      options: {
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 8 } },
          y: { beginAtZero: true, ticks: { precision: 0 }, grid: { color: COLORS.grid } },
        },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12, boxHeight: 12 } } },
      },
    });
  }

  // What was kept out of the counts over the usage chart's 120 days, per reason (bots,
  // suspect, limited, ...): the labels come with the counts from /filtered.
  // Machine opens (Apple Mail Privacy Protection) are neither opens nor filtered hits.
  function drawFiltered(body) {
    var text = body.filtered
      ? F.int(body.filtered) + (body.filtered === 1 ? " hit" : " hits") + " filtered (" +
        body.reasons.map(function (r) { return F.int(r.count) + " " + r.label; }).join(", ") + ")."
      : "No hits filtered.";
    if (body.machine_opens) {
      text += " " + F.int(body.machine_opens) +
        (body.machine_opens === 1 ? " machine open" : " machine opens") +
        " (Apple Mail Privacy Protection), not counted as views.";
    }
    $("filtered-summary").textContent = text;
  }

  // Each suspect hit, machine open and bot with its reason: what the scanner rules saw.
  function drawFilteredLatest(body) {
    var box = $("filtered-latest");
    box.hidden = !body.hits.length;
    var items = body.hits.map(function (h) {
      var li = el("li");
      var when = el("time", "muted", F.ago(h.received_at));
      when.dateTime = h.received_at;
      when.title = F.date(h.received_at);
      li.append(el("span", "role-badge", h.label), " ", el("span", "filtered-detail",
        (h.type || "hit") + ": " + h.detail), " ", when);
      return li;
    });
    $("filtered-latest-list").replaceChildren.apply($("filtered-latest-list"), items);
  }

  function drawRatings() {
    var w = ratingWindows && ratingWindows.windows[$("ratings-window").value];
    if (!w) return;
    var stars = ["5", "4", "3", "2", "1"];
    $("ratings-summary").textContent = w.count
      ? w.bayesian_average.toFixed(2) + " ★ Bayesian average · " + F.votes(w.count) +
        " · plain mean " + w.mean.toFixed(2) + " · catalog average " + w.prior.mean.toFixed(2)
      : "No ratings in this window.";
    showBox("chart-ratings", w.count > 0);
    draw("ratings", {
      type: "bar",
      data: {
        labels: stars.map(function (n) { return n + " ★"; }),
        datasets: [{ label: "Ratings", data: stars.map(function (n) { return w.histogram[n]; }),
                     backgroundColor: stars.map(function (n) { return COLORS.stars[Number(n) - 1]; }),
                     borderRadius: 4, maxBarThickness: 22 }],
      },
      options: {
        indexAxis: "y",
        scales: {
          x: { beginAtZero: true, ticks: { precision: 0 }, grid: { color: COLORS.grid } },
          y: { grid: { display: false } },
        },
        plugins: { legend: { display: false } },
      },
    });
  }

  function drawRecent(body) {
    var list = $("recent");
    if (!body.ratings.length) {
      list.replaceChildren(el("li", "muted", "No ratings yet."));
      return;
    }
    var items = body.ratings.map(function (r) {
      var li = el("li");
      var head = el("div", "recent-head");
      var stars = el("span", "stars-static", F.starsText(r.stars));
      stars.setAttribute("role", "img");
      stars.setAttribute("aria-label", r.stars + " of 5 stars");
      var when = el("time", "muted", F.ago(r.rated_at));
      when.dateTime = r.rated_at;
      when.title = F.date(r.rated_at);
      head.append(stars, el("span", "role-badge", F.label(r.rater_role)), when);
      li.append(head, el("p", r.comment ? "comment" : "comment none", r.comment || "No comment"));
      return li;
    });
    if (body.count > body.ratings.length) {
      items.push(el("li", "muted small", "The latest " + body.ratings.length + " of " + F.int(body.count) + " ratings."));
    }
    list.replaceChildren.apply(list, items);
  }

  function drawDevices(body) {
    var devices = body.devices.filter(function (d) { return d.views > 0; });
    showBox("chart-devices", devices.length > 0);
    if (!devices.length) {
      $("devices-summary").textContent = "No views in the last 90 days.";
      return;
    }
    $("devices-summary").textContent = devices.map(function (d) {
      return F.label(d.device_class) + " " + pct(d.share_of_views);
    }).join(" · ") + " of " + F.int(body.views) + " views.";
    draw("devices", {
      type: "doughnut",
      data: {
        labels: devices.map(function (d) { return F.label(d.device_class); }),
        datasets: [{ label: "Views", data: devices.map(function (d) { return d.views; }),
                     backgroundColor: devices.map(function (d) { return COLORS.devices[d.device_class] || COLORS.devices.other; }),
                     borderColor: "#fff", borderWidth: 2 }],
      },
      options: {
        cutout: "58%",
        plugins: { legend: { position: "right", labels: { boxWidth: 12, boxHeight: 12 } } },
      },
    });
  }

  // --- loading and live updates --------------------------------------------------------------

  function failed(summaryId) {
    return function (error) {
      if (error.message === "signed out") return;
      $(summaryId).textContent = "Could not load this (" + error.message + ").";
    };
  }

  function loadAll() {
    root.dataset.ready = "false";
    return Promise.all([
      F.getJson(base + "/usage/daily?days=120").then(drawUsage, failed("usage-summary")),
      F.getJson(base + "/filtered?window=120d").then(drawFiltered, failed("filtered-summary")),
      F.getJson(base + "/filtered/latest?limit=20").then(drawFilteredLatest,
                                                         failed("filtered-summary")),
      F.getJson(base + "/score").then(function (body) { ratingWindows = body; drawRatings(); },
                                       failed("ratings-summary")),
      F.getJson(base + "/ratings/recent?limit=10").then(drawRecent, failed("ratings-summary")),
      F.getJson(base + "/usage?window=90d").then(drawDevices, failed("devices-summary")),
    ]).then(function () { root.dataset.ready = "true"; });
  }

  function setLive(name) {
    var words = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…" };
    $("live").dataset.state = name;
    $("live-text").textContent = words[name] || name;
  }

  function onUpdate(item) {
    if (item.asset_id !== assetId) return;
    if (scoreState && Number(item.revision) <= Number(scoreState.revision)) return;
    scoreState = item;
    updates += 1;
    root.dataset.liveUpdates = String(updates);
    renderScore();
    var card = $("score-card");
    clearTimeout(flashTimer);
    card.classList.remove("updated");
    void card.offsetWidth;
    card.classList.add("updated");
    flashTimer = setTimeout(function () { card.classList.remove("updated"); }, FLASH_MS);
    clearTimeout(refreshTimer);  // a burst of updates redraws the charts once
    refreshTimer = setTimeout(function () {
      loadAll();
      root.dispatchEvent(new CustomEvent("analytics:refresh"));  // asset-reading.js's cards
    }, REFRESH_MS);
  }

  Array.prototype.forEach.call(root.querySelectorAll(".window-chip"), function (chip) {
    chip.addEventListener("click", function () {
      selectedWindow = chip.dataset.window;
      renderScore();
    });
  });
  $("ratings-window").addEventListener("change", drawRatings);

  renderScore();
  loadAll();
  GBScoreStream.open({ asset: assetId, since: scoreState ? scoreState.revision : 0 },
                     { update: onUpdate, state: setLive });
  window.GBAnalytics = { charts: charts };
})();
