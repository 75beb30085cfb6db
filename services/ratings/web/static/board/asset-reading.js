/* Glassboard asset page: how the asset is read and watched (_reading.html).
 *
 * "Page by page" draws GET /v1/assets/ID/reading (for one file version or all of them): how
 * far readers get, the time on each page and the pages read twice, and beside it
 * /reading/recipients, the share-link openings this person may see. "Video" draws /video:
 * plays, watch time, the quartiles reached and how many plays are still watching at each
 * point. Chart.js and board-format.js come before this script; so does asset-analytics.js,
 * whose live score updates ask for a redraw ("analytics:refresh").
 */
(function () {
  "use strict";

  var root = document.getElementById("reading");
  if (!root || typeof Chart === "undefined") return;

  var F = GBFormat;
  var base = "/v1/assets/" + encodeURIComponent(root.dataset.asset);
  var isVideo = root.dataset.type === "video";
  var windowName = root.dataset.window || "90d";
  var COLORS = { reach: "#4338ca", reachFill: "rgba(67, 56, 202, .12)", median: "#0d9488",
                 total: "#f59e0b", watch: "#db2777", watchFill: "rgba(219, 39, 119, .12)",
                 grid: "#eceef5" };
  var TIME_LABELS = { median: "Median time per reader", total: "Total time, all readers" };

  var charts = {};
  var reading = null;      // the answer drawn now
  var latestPages = 0;     // the newest file's page count, for "3 of 5" in the recipients
  var timeShown = "median";

  function $(id) { return document.getElementById(id); }

  var el = F.el;

  function pct(share) {
    return share === null || share === undefined ? "—" : Math.round(share * 100) + "%";
  }

  function plural(n, one, many) {
    return F.int(n) + " " + (n === 1 ? one : many);
  }

  function seconds(ms) {
    return ms === null || ms === undefined ? null : Math.round(ms / 100) / 10;
  }

  function draw(name, config) {
    var chart = charts[name];
    if (chart) {
      chart.data = config.data;
      chart.options = config.options;
      chart.update();
    } else {
      charts[name] = new Chart($("chart-" + name), config);
    }
  }

  function when(iso) {
    var node = el("time", "", F.ago(iso));
    node.dateTime = iso;
    node.title = F.date(iso);
    return node;
  }

  // A failure in words: what could not be shown and what to do, the technical reason aside.
  function trouble(what, error) {
    var text = error.status === 404 ? "This asset is no longer in the catalog."
      : "Could not load " + what + " just now. Reload the page to try again.";
    var p = el("span", "load-error", text);
    p.title = error.message;
    return p;
  }

  // --- page by page ---------------------------------------------------------------------------

  function versionLabel(v) {
    return "v" + v.version + " (" + plural(v.pages, "page", "pages") + ", uploaded " +
      F.date(v.uploaded_at) + ")";
  }

  function fillVersions(versions, chosen) {
    var select = $("reading-version");
    var options = [new Option("All versions", "")].concat(versions.map(function (v) {
      return new Option(versionLabel(v), String(v.version));
    }));
    select.replaceChildren.apply(select, options);
    select.value = chosen === null || chosen === undefined ? "" : String(chosen);
    $("reading-version-field").hidden = versions.length === 0;
  }

  function versionWords(body) {
    return body.version === null || body.version === undefined ? "" : "Version " + body.version + ": ";
  }

  function summaryText(body) {
    var parts = [plural(body.readers, "reader", "readers")];
    var last = body.per_page[body.per_page.length - 1];
    if (body.pages > 1 && last) parts.push(pct(last.reached_share) + " reach the last page");
    else if (body.pages === 1) parts.push("a single page");
    if (body.most_reread.length) parts.push("most re-read: page " + body.most_reread[0].page);
    return parts.join(" · ");
  }

  function drawReach(body) {
    var pages = body.per_page;
    $("reach-text").textContent = pages.map(function (p) {
      return "Page " + p.page + ": " + pct(p.reached_share) + " (" + F.int(p.reached) + ")";
    }).join(", ") + ".";
    draw("reach", {
      type: "line",
      data: {
        labels: pages.map(function (p) { return "Page " + p.page; }),
        datasets: [{ label: "Readers who got this far",
                     data: pages.map(function (p) { return p.reached_share === null ? null : p.reached_share * 100; }),
                     borderColor: COLORS.reach, backgroundColor: COLORS.reachFill, fill: true,
                     borderWidth: 2, pointRadius: pages.length > 30 ? 0 : 3,
                     cubicInterpolationMode: "monotone" }],  // never rises between pages
      },
      options: {
        interaction: { mode: "index", intersect: false },
        layout: { padding: { top: 6, right: 6 } },  // the 100% point whole
        scales: {
          x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 8 } },
          y: { min: 0, max: 100, grid: { color: COLORS.grid },
               ticks: { stepSize: 25, callback: function (v) { return v + "%"; } } },
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (ctx) {
            var p = pages[ctx.dataIndex];
            return F.int(p.reached) + " of " + plural(body.readers, "reader", "readers") +
              " (" + pct(p.reached_share) + ")";
          } } },
        },
      },
    });
  }

  function drawPageTime(body) {
    var pages = body.per_page;
    var field = timeShown === "total" ? "total_ms" : "median_ms";
    $("page-time-text").textContent = TIME_LABELS[timeShown] + ": " + pages.map(function (p) {
      return "page " + p.page + " " + F.duration(p[field]);
    }).join(", ") + ".";
    Array.prototype.forEach.call(root.querySelectorAll("[data-time]"), function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.time === timeShown));
    });
    draw("page-time", {
      type: "bar",
      data: {
        labels: pages.map(function (p) { return "Page " + p.page; }),
        datasets: [{ label: TIME_LABELS[timeShown] + " (seconds)",
                     data: pages.map(function (p) { return seconds(p[field]); }),
                     backgroundColor: timeShown === "total" ? COLORS.total : COLORS.median,
                     borderRadius: 4, maxBarThickness: 40 }],
      },
      options: {
        scales: {
          x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 10 } },
          y: { beginAtZero: true, grid: { color: COLORS.grid },
               title: { display: true, text: "seconds" } },
        },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 12, boxHeight: 12 } },
          tooltip: { callbacks: { label: function (ctx) {
            var p = pages[ctx.dataIndex];
            return F.duration(p[field]) + (timeShown === "total" ? " in all" : " median") +
              " · " + plural(p.readers, "reader", "readers") + " spent time here";
          } } },
        },
      },
    });
  }

  function drawRereads(body) {
    var list = $("reread-list");
    if (!body.most_reread.length) {
      list.replaceChildren(el("li", "muted", "No page was read twice: readers went through once."));
      return;
    }
    list.replaceChildren.apply(list, body.most_reread.map(function (r) {
      var li = el("li");
      li.append(el("span", "reread-page", "Page " + r.page),
                el("span", "reread-figures", "read again " + plural(r.rereads, "time", "times") +
                   " by " + plural(r.rereaders, "reader", "readers")));
      return li;
    }));
  }

  function drawReading(body) {
    reading = body;
    if (body.version === null || body.version === undefined) {
      latestPages = body.versions.length ? body.versions[0].pages : body.pages;
    }
    fillVersions(body.versions, body.version);
    var card = $("reading-card");
    var chosen = body.version !== null && body.version !== undefined;
    // Nothing to show for an asset nobody read page by page and that has no file with pages.
    card.hidden = !chosen && !body.readers && !body.pages;
    $("reading-body").hidden = !body.readers;
    if (!body.readers) {
      $("reading-summary").textContent = "No one has read " + (chosen ? "version " + body.version
        : "it") + " page by page in the last 90 days yet. Pages show here once people open it " +
        "in the Glassboard viewer or a share link.";
      return;
    }
    $("reading-summary").textContent = versionWords(body) + summaryText(body) + ".";
    drawReach(body);
    drawPageTime(body);
    drawRereads(body);
  }

  function pageStrip(r, pages) {
    var strip = el("span", "page-strip");
    var most = r.pages.reduce(function (m, p) { return Math.max(m, p.engaged_ms); }, 0);
    var byPage = {};
    r.pages.forEach(function (p) { byPage[p.page] = p.engaged_ms; });
    var words = [];
    for (var page = 1; page <= pages; page += 1) {
      var ms = byPage[page] || 0;
      var cell = el("span", ms ? "on" : "");
      // CSSOM, not a style attribute: the page's CSP allows it.
      if (ms && most) cell.style.opacity = String(0.25 + 0.75 * ms / most);
      strip.appendChild(cell);
      if (ms) words.push("page " + page + " " + F.duration(ms));
    }
    strip.setAttribute("role", "img");
    strip.setAttribute("aria-label", words.length ? "Time per page: " + words.join(", ") : "No time on any page");
    strip.title = words.join(" · ");
    return strip;
  }

  function cell(label, content, className) {
    var td = el("td", className);
    td.dataset.label = label;
    if (content instanceof Node) td.appendChild(content);
    else td.textContent = content;
    return td;
  }

  function drawRecipients(body) {
    var rows = body.recipients;
    $("recipients").hidden = !rows.length;
    if (!rows.length) return;
    $("recipient-rows").replaceChildren.apply($("recipient-rows"), rows.map(function (r) {
      var pages = Math.max(latestPages, r.furthest_page || 0,
                           r.pages.reduce(function (m, p) { return Math.max(m, p.page); }, 0));
      var tr = el("tr");
      tr.dataset.link = r.link_id;
      var who = el("th", "recipient-name");
      who.scope = "row";
      who.append(el("span", "", r.recipient_name || r.recipient_email || "Unnamed recipient"));
      if (r.recipient_name && r.recipient_email) who.append(el("span", "recipient-email", r.recipient_email));
      var via = el("span", r.who === "recipient" ? "role-badge" : "role-badge forward", F.label(r.who));
      tr.append(who, cell("Company", r.company || "—"), cell("Via", via),
                cell("Opened", r.opened_at ? when(r.opened_at) : "—"),
                cell("Furthest page", r.furthest_page ? r.furthest_page + " of " + pages : "—", "num"),
                cell("Time", F.duration(r.engaged_ms), "num"),
                cell("Time per page", pageStrip(r, pages), "strip-cell"));
      return tr;
    }));
  }

  function loadReading(version) {
    var query = "?window=" + windowName + (version ? "&version=" + encodeURIComponent(version) : "");
    $("reading-card").setAttribute("aria-busy", "true");
    return F.getJson(base + "/reading" + query).then(function (body) {
      drawReading(body);
      return true;
    }, function (error) {
      if (error.message === "signed out") return false;
      $("reading-card").hidden = false;
      $("reading-body").hidden = true;
      $("recipients").hidden = true;
      $("reading-summary").replaceChildren(trouble("the page-by-page reading", error));
      return false;
    }).then(function (drawn) {
      $("reading-card").setAttribute("aria-busy", "false");
      return drawn;
    });
  }

  function loadRecipients(readingDrawn) {
    if (!readingDrawn) return null;
    return F.getJson(base + "/reading/recipients?window=" + windowName).then(drawRecipients,
      function () { $("recipients").hidden = true; });  // extra detail: the card stands without it
  }

  // --- video ----------------------------------------------------------------------------------

  function drawQuartiles(body) {
    var list = $("quartiles");
    list.replaceChildren.apply(list, body.quartiles.map(function (q) {
      var li = el("li");
      var bar = el("span", "meter small");
      var fill = el("span");
      fill.style.width = Math.round((q.share || 0) * 100) + "%";  // CSSOM: CSP-safe
      bar.appendChild(fill);
      bar.setAttribute("aria-hidden", "true");
      li.dataset.quartile = String(q.quartile);
      li.append(el("span", "quartile-name", q.quartile === 100 ? "The end (100%)" : q.quartile + "% of the video"),
                el("span", "quartile-figure", plural(q.plays, "play", "plays") + " · " + pct(q.share)),
                bar);
      return li;
    }));
  }

  function drawRetention(body) {
    var points = body.retention.map(function (share, i) { return { x: i, y: share * 100 }; });
    var marks = [0, 25, 50, 75, 99].map(function (i) {
      return (i === 99 ? "near the end" : i + "%") + ": " + pct(body.retention[i]);
    });
    $("retention-text").textContent = "Plays still watching at " + marks.join(", ") + ".";
    draw("retention", {
      type: "line",
      data: { datasets: [{ label: "Plays still watching", data: points, borderColor: COLORS.watch,
                           backgroundColor: COLORS.watchFill, fill: true, borderWidth: 2,
                           pointRadius: 0, pointHoverRadius: 4, tension: 0 }] },
      options: {
        interaction: { mode: "index", intersect: false },
        layout: { padding: { top: 6, right: 6 } },
        scales: {
          x: { type: "linear", min: 0, max: 100, grid: { display: false },
               title: { display: true, text: "point in the video" },
               ticks: { stepSize: 25, callback: function (v) { return v + "%"; } } },
          y: { min: 0, max: 100, grid: { color: COLORS.grid },
               ticks: { stepSize: 25, callback: function (v) { return v + "%"; } } },
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: {
            title: function (items) { return items[0].parsed.x + "% into the video"; },
            label: function (ctx) { return pct(body.retention[ctx.dataIndex]) + " of plays still watching"; },
          } },
        },
      },
    });
  }

  function drawVideo(body) {
    var card = $("video-card");
    card.hidden = !isVideo && !body.plays;
    $("video-body").hidden = !body.plays;
    if (!body.plays) {
      $("video-summary").textContent = "No plays in the last 90 days yet. Plays show here once " +
        "people watch the video on a page with the Glassboard page script.";
      return;
    }
    $("video-summary").textContent = plural(body.plays, "play", "plays") + " · " +
      F.duration(body.watch_ms) + " watched in all · on average " + pct(body.avg_watched_share) +
      " of the video" + (body.duration_ms ? " (" + F.duration(body.duration_ms) + " long)" : "") + ".";
    $("video-plays").textContent = F.int(body.plays);
    $("video-watch").textContent = F.duration(body.watch_ms);
    $("video-median").textContent = F.duration(body.median_watch_ms);
    $("video-share").textContent = pct(body.avg_watched_share);
    drawQuartiles(body);
    drawRetention(body);
  }

  function loadVideo() {
    var card = $("video-card");
    card.setAttribute("aria-busy", "true");
    return F.getJson(base + "/video?window=" + windowName).then(drawVideo, function (error) {
      if (error.message === "signed out" || !isVideo) return;  // only a video misses its card
      $("video-body").hidden = true;
      $("video-summary").replaceChildren(trouble("the video's plays", error));
    }).then(function () { card.setAttribute("aria-busy", "false"); });
  }

  // --- wiring ---------------------------------------------------------------------------------

  function loadAll() {
    root.dataset.ready = "false";
    var version = $("reading-version").value;
    // The recipients' "3 of 5" needs the newest file's page count from the reading first.
    return Promise.all([loadReading(version).then(loadRecipients), loadVideo()])
      .then(function () { root.dataset.ready = "true"; });
  }

  $("reading-version").addEventListener("change", function (event) {
    root.dataset.ready = "false";
    loadReading(event.target.value).then(function () { root.dataset.ready = "true"; });
  });
  Array.prototype.forEach.call(root.querySelectorAll("[data-time]"), function (button) {
    button.addEventListener("click", function () {
      timeShown = button.dataset.time;
      if (reading && reading.readers) drawPageTime(reading);
    });
  });
  var analytics = document.getElementById("analytics");
  if (analytics) analytics.addEventListener("analytics:refresh", loadAll);

  loadAll();
  window.GBReading = { charts: charts };
})();
