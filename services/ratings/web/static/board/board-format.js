/* Glassboard: how the scoreboard and the asset analytics write numbers, times and dates,
 * in one place so that every page says "1 min 05 s" and "4.3 ★ · 12 votes" the same way.
 */
(function (root) {
  "use strict";

  var NUMBER = new Intl.NumberFormat("en-US");
  var DAY_MS = 86400000;
  var TYPE_PLURALS = {
    product_sheet: "product sheets", case_study: "case studies", blog_post: "blog posts",
    video: "videos", deck: "decks", other: "other assets",
  };

  function int(n) {
    return NUMBER.format(Math.round(Number(n) || 0));
  }

  /* Milliseconds as "42 s", "1 min 05 s" or "1 h 02 min"; "—" when there is no figure. */
  function duration(ms) {
    if (ms === null || ms === undefined || isNaN(ms)) return "—";
    var s = Math.round(ms / 1000);
    if (s < 60) return s + " s";
    var m = Math.floor(s / 60);
    if (m < 60) return m + " min " + String(s % 60).padStart(2, "0") + " s";
    return Math.floor(m / 60) + " h " + String(m % 60).padStart(2, "0") + " min";
  }

  function votes(n) {
    return n === 1 ? "1 vote" : int(n) + " votes";
  }

  /* "4.3 ★ · 12 votes": the Bayesian average beside the vote count, never alone. */
  function rating(average, count) {
    if (!count) return "No votes";
    return Number(average).toFixed(1) + " ★ · " + votes(count);
  }

  function label(slug) {
    return slug ? slug.charAt(0).toUpperCase() + slug.slice(1).replace(/_/g, " ") : "";
  }

  function typePlural(slug) {
    return TYPE_PLURALS[slug] || "assets";
  }

  function windowDays(windowName) {
    return parseInt(windowName, 10) || 0;
  }

  /* "today", "yesterday", "12 days ago", "never". */
  function ago(iso, now) {
    if (!iso) return "never";
    var days = Math.floor(((now || Date.now()) - Date.parse(iso)) / DAY_MS);
    if (days <= 0) return "today";
    if (days === 1) return "yesterday";
    return int(days) + " days ago";
  }

  function date(iso) {
    if (!iso) return "";
    return new Date(iso).toLocaleDateString("en-US", {
      year: "numeric", month: "short", day: "numeric", timeZone: "UTC",
    });
  }

  function shortDay(isoDay) {
    return new Date(isoDay + "T00:00:00Z").toLocaleDateString("en-US", {
      month: "short", day: "numeric", timeZone: "UTC",
    });
  }

  /* The arrow and words for a window score's trend. */
  function trend(score) {
    if (!score || score.previous_score === null || score.previous_score === undefined) {
      return { arrow: "", kind: "none", words: "no earlier period to compare with" };
    }
    var delta = score.score - score.previous_score;
    var signed = (delta > 0 ? "+" : delta < 0 ? "−" : "±") + Math.abs(delta);
    if (score.trend === "up") return { arrow: "▲", kind: "up", words: "up from " + score.previous_score + " (" + signed + ")" };
    if (score.trend === "down") return { arrow: "▼", kind: "down", words: "down from " + score.previous_score + " (" + signed + ")" };
    return { arrow: "▬", kind: "flat", words: "steady: " + score.previous_score + " before (" + signed + ")" };
  }

  function starsText(n) {
    return "★★★★★".slice(0, n) + "☆☆☆☆☆".slice(0, 5 - n);
  }

  function reducedMotion() {
    return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  }

  // An element with a class and text (null or undefined: none), never through innerHTML.
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { accept: "application/json" } })
      .then(function (response) {
        if (response.status === 401) {
          location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
          throw new Error("signed out");
        }
        if (!response.ok) {
          var error = new Error(url.split("?")[0] + " answered " + response.status);
          error.status = response.status;
          throw error;
        }
        return response.json();
      });
  }

  root.GBFormat = {
    DAY_MS: DAY_MS, ago: ago, date: date, duration: duration, el: el, getJson: getJson, int: int,
    label: label, rating: rating, reducedMotion: reducedMotion, shortDay: shortDay,
    starsText: starsText, trend: trend, typePlural: typePlural, votes: votes,
    windowDays: windowDays,
  };
})(window);
