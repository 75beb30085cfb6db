/* Glassboard: my share links (/links). Reads GET /v1/share-links (newest first), the visits
 * of the links last opened (GET /v1/share-links/ID), the accounts roll-up, then follows
 * GET /v1/share-links/stream: each `visit` event is one visit's newest state (a
 * LinkVisitUpdate), so the feed replaces the row of that visit, or adds it on top.
 */
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var F = window.GBFormat;
  var FEED_LIMIT = 40;
  var DETAIL_LINKS = 12;  // the links whose visits seed the feed: the last opened ones
  var MAX_WAIT_MS = 30000;
  var links = {};         // id -> link, from the list
  var visits = {};        // event_id -> visit, as shown in the feed
  var refreshTimer = null;
  var ME = Number(document.body.dataset.uid) || null;

  var el = F.el;

  function plural(n, one, many) {
    return n === 1 ? "1 " + one : F.int(n) + " " + many;
  }

  /* "12 min ago", "yesterday 14:05", "Mar 3, 09:12": when, in the reader's own clock. */
  function when(iso) {
    if (!iso) return "never";
    var t = Date.parse(iso);
    var seconds = Math.round((Date.now() - t) / 1000);
    if (seconds < 45) return "just now";
    if (seconds < 3600) return Math.round(seconds / 60) + " min ago";
    var time = new Date(t).toLocaleTimeString("en-US", { hour: "2-digit", minute: "2-digit", hour12: false });
    if (seconds < 86400) return Math.round(seconds / 3600) + " h ago, " + time;
    return new Date(t).toLocaleDateString("en-US", { month: "short", day: "numeric" }) + ", " + time;
  }

  function exactTime(iso) {
    return iso ? new Date(iso).toLocaleString("en-US", { dateStyle: "medium", timeStyle: "medium" }) : "";
  }

  function device(item) {
    var d = item.device || item.last_device || item;
    if (typeof d === "string") return F.label(d);
    var parts = [F.label(d.device_class || ""), d.os, d.browser].filter(Boolean);
    return parts.join(" · ");
  }

  function recipient(link) {
    if (!link) return "a recipient";
    if (link.erased_at && !link.recipient_email) return "an erased recipient";
    return link.recipient_name || link.recipient_email || "a recipient";
  }

  function forwards(link) {
    var n = link.forwards !== undefined ? link.forwards : link.forwarded || 0;
    return Number(n) || 0;
  }

  function visitCount(link) {
    var n = link.visits;
    return Array.isArray(n) ? n.length : Number(n) || 0;
  }

  // --- the feed ----------------------------------------------------------------------------

  function who(visit, link) {
    if (visit.forwarded) {
      return "Forward " + (visit.forward_no || "") + " of " + recipient(link) + "'s link";
    }
    return recipient(link);
  }

  function feedRow(visit) {
    var link = links[visit.link_id];
    var li = el("li", "visit" + (visit.forwarded ? " forwarded" : ""));
    li.dataset.visit = visit.event_id;
    li.dataset.link = visit.link_id;
    var head = el("p", "visit-who");
    head.appendChild(el("strong", null, who(visit, link)));
    if (visit.forwarded) head.appendChild(el("span", "chip chip-forward", "Forwarded"));
    li.appendChild(head);
    var title = link ? (link.asset_title || link.asset_id) : visit.asset_id;
    li.appendChild(el("p", "visit-asset", "opened " + title));
    var meta = el("p", "visit-meta");
    var time = el("time", "visit-when", when(visit.opened_at));
    time.dateTime = visit.opened_at;
    time.title = exactTime(visit.opened_at);
    meta.appendChild(time);
    meta.appendChild(el("span", "visit-device", device(visit)));
    meta.appendChild(el("span", "visit-engaged", F.duration(visit.engaged_ms || 0) + " read"));
    var pages = visit.pages || [];
    if (pages.length) meta.appendChild(el("span", "visit-pages", plural(pages.length, "page", "pages")));
    if (visit.gated) meta.appendChild(el("span", "visit-gate", "gave an email at the gate (not verified)"));
    li.appendChild(meta);
    return li;
  }

  function showVisit(visit, flash) {
    var feed = $("feed");
    var old = visits[visit.event_id];
    if (old && old.updated_at && visit.updated_at &&
        Date.parse(old.updated_at) > Date.parse(visit.updated_at)) return;
    visits[visit.event_id] = visit;
    var row = feedRow(visit);
    var existing = feed.querySelector('li[data-visit="' + visit.event_id + '"]');
    if (existing) {
      feed.replaceChild(row, existing);
    } else {
      // Newest first: before the first row opened earlier than this one.
      var next = Array.prototype.find.call(feed.children, function (li) {
        var other = visits[li.dataset.visit];
        return other && Date.parse(other.opened_at) < Date.parse(visit.opened_at);
      });
      feed.insertBefore(row, next || null);
      while (feed.children.length > FEED_LIMIT) {
        delete visits[feed.lastElementChild.dataset.visit];
        feed.removeChild(feed.lastElementChild);
      }
    }
    if (flash) row.classList.add("flash");
    $("feed-empty").hidden = feed.children.length > 0;
  }

  function seedFeed(list) {
    var opened = list.filter(function (l) { return l.last_opened_at; })
      .sort(function (a, b) { return Date.parse(b.last_opened_at) - Date.parse(a.last_opened_at); })
      .slice(0, DETAIL_LINKS);
    return Promise.all(opened.map(function (link) {
      return F.getJson("/v1/share-links/" + encodeURIComponent(link.id)).then(function (detail) {
        var list = detail.visit_list || (Array.isArray(detail.visits) ? detail.visits : []);
        list.forEach(function (v) {
          v.link_id = v.link_id || link.id;
          v.asset_id = v.asset_id || link.asset_id;
          v.event_id = v.event_id || v.id;
          showVisit(v, false);
        });
      }, function () { /* a link revoked meanwhile: its visits are in the list anyway */ });
    })).then(function () {
      $("feed").setAttribute("aria-busy", "false");
      $("feed-empty").hidden = $("feed").children.length > 0;
    });
  }

  // --- the links -----------------------------------------------------------------------------

  function stat(label, value, key) {
    var div = el("div", "stat");
    div.appendChild(el("dt", null, label));
    var dd = el("dd", null, value);
    if (key) dd.dataset.key = key;
    div.appendChild(dd);
    return div;
  }

  function linkRow(link) {
    var li = el("li", "share-link" + (link.revoked_at ? " revoked" : ""));
    li.dataset.link = link.id;
    var head = el("div", "share-link-head");
    var text = el("div", "share-link-text");
    var title = el("a", "share-link-asset", link.asset_title || link.asset_id);
    title.href = "/assets/" + encodeURIComponent(link.asset_id);
    text.appendChild(title);
    var to = el("p", "share-link-to");
    to.appendChild(document.createTextNode("to "));
    to.appendChild(el("strong", null, recipient(link)));
    if (link.recipient_name && link.recipient_email) {
      to.appendChild(document.createTextNode(" <" + link.recipient_email + ">"));
    }
    if (link.company) to.appendChild(document.createTextNode(", " + link.company));
    text.appendChild(to);
    var sent = "sent " + when(link.created_at);
    var creator = link.creator || {};
    if (creator.id && creator.id !== ME) sent += " by " + (creator.name || creator.email);
    if (link.revoked_at) sent += " · revoked";
    else if (link.expires_at && Date.parse(link.expires_at) < Date.now()) sent += " · expired";
    else if (link.expires_at) sent += " · expires " + F.date(link.expires_at);
    if (link.email_gate) sent += " · asks for an email";
    text.appendChild(el("p", "share-link-sent muted small", sent));
    head.appendChild(text);
    if (!link.revoked_at) {
      var revoke = el("button", "button small secondary revoke", "Revoke");
      revoke.type = "button";
      revoke.setAttribute("aria-label", "Revoke the link to " + recipient(link));
      revoke.addEventListener("click", function () { revokeLink(link, revoke); });
      head.appendChild(revoke);
    }
    li.appendChild(head);

    var n = forwards(link);
    var stats = el("dl", "share-link-stats");
    stats.appendChild(stat("Visits", F.int(visitCount(link)), "visits"));
    stats.appendChild(stat("Shared with", n ? plural(n, "other", "others") : "no one else", "forwards"));
    stats.appendChild(stat("Last open", link.last_opened_at ? when(link.last_opened_at) : "not yet", "last"));
    stats.appendChild(stat("Time spent", F.duration(link.engaged_ms || 0), "engaged"));
    stats.appendChild(stat("Device", link.last_opened_at ? device(link) || "—" : "—", "device"));
    li.appendChild(stats);
    return li;
  }

  function revokeLink(link, button) {
    button.disabled = true;
    fetch("/v1/share-links/" + encodeURIComponent(link.id), {
      method: "DELETE", credentials: "same-origin",
    }).then(function (response) {
      if (!response.ok && response.status !== 204) throw new Error("status " + response.status);
      return loadLinks();
    }).catch(function (error) {
      button.disabled = false;
      $("links-summary").textContent = "Not revoked: " + error.message;
    });
  }

  function renderLinks(list) {
    var ul = $("links");
    ul.innerHTML = "";
    links = {};
    list.forEach(function (link) {
      links[link.id] = link;
      ul.appendChild(linkRow(link));
    });
    var opened = list.filter(function (l) { return visitCount(l) > 0; }).length;
    $("links-summary").textContent = list.length
      ? plural(list.length, "link", "links") + ", " + F.int(opened) + " opened" : "";
    $("links-empty").hidden = list.length > 0;
    ul.setAttribute("aria-busy", "false");
  }

  function loadLinks() {
    return F.getJson("/v1/share-links").then(function (body) {
      var list = Array.isArray(body) ? body : body.links || [];
      renderLinks(list);
      return list;
    });
  }

  // --- accounts ------------------------------------------------------------------------------

  function loadAccounts() {
    return F.getJson("/v1/share-links/accounts").then(function (body) {
      var rows = Array.isArray(body) ? body : body.accounts || [];
      var tbody = $("accounts");
      tbody.innerHTML = "";
      rows.forEach(function (a) {
        var tr = el("tr");
        var name = el("th", null, a.account || a.company || a.domain || "—");
        name.scope = "row";
        tr.appendChild(name);
        [a.links, a.opened, a.visits, a.forwards !== undefined ? a.forwards : a.forwarded]
          .forEach(function (n) { tr.appendChild(el("td", "num", F.int(n || 0))); });
        tr.appendChild(el("td", "num", F.duration(a.engaged_ms || 0)));
        tr.appendChild(el("td", null, a.last_opened_at ? when(a.last_opened_at) : "not yet"));
        tbody.appendChild(tr);
      });
      if (!rows.length) {
        var empty = el("tr");
        var td = el("td", "muted", "No accounts yet: they come from the links' companies.");
        td.colSpan = 7;
        empty.appendChild(td);
        tbody.appendChild(empty);
      }
      tbody.setAttribute("aria-busy", "false");
    });
  }

  // --- my alert settings -------------------------------------------------------------------

  var NUMBERS = ["reopen_after_days", "long_read_seconds", "quiet_from_hour", "quiet_to_hour"];

  function showPrefs(prefs) {
    var form = $("link-prefs");
    form.elements.first_open.checked = !!prefs.first_open;
    form.elements.forward.checked = !!prefs.forward;
    NUMBERS.forEach(function (name) { form.elements[name].value = String(prefs[name]); });
  }

  function wirePrefs() {
    var form = $("link-prefs");
    var status = $("link-prefs-status");
    F.getJson("/v1/me/share-alert-preferences").then(showPrefs, function (error) {
      status.textContent = "Could not load your settings (" + error.message + ").";
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = { first_open: form.elements.first_open.checked,
                   forward: form.elements.forward.checked };
      var bad = null;
      NUMBERS.forEach(function (name) {
        var input = form.elements[name];
        var value = Number(input.value);
        var ok = input.value !== "" && Number.isInteger(value) &&
          value >= Number(input.min) && value <= Number(input.max);
        if (input.tagName === "INPUT") input.setAttribute("aria-invalid", ok ? "false" : "true");
        if (!ok && !bad) bad = input;
        body[name] = value;
      });
      if (bad) {
        status.textContent = "A whole number from " + bad.min + " to " + bad.max + ", please.";
        bad.focus();
        return;
      }
      status.textContent = "Saving…";
      fetch("/v1/me/share-alert-preferences", {
        method: "PUT", credentials: "same-origin",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify(body),
      }).then(function (response) {
        if (!response.ok) throw new Error("the server answered " + response.status);
        return response.json();
      }).then(function (prefs) {
        showPrefs(prefs);
        status.textContent = "Saved.";
      }, function (error) {
        status.textContent = "Not saved: " + error.message;
      });
    });
  }

  // --- live --------------------------------------------------------------------------------

  function setLive(name) {
    var words = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…" };
    $("live").dataset.state = name;
    $("live-text").textContent = words[name] || name;
  }

  /* A visit changed: show it, and refresh the list and accounts a moment later (their
   * totals are the server's to add up), once per burst. */
  function onVisit(visit) {
    var known = links[visit.link_id];
    showVisit(visit, true);
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      Promise.all([loadLinks(), loadAccounts()]).then(function () {
        if (!known) showVisit(visits[visit.event_id] || visit, false);  // now with its recipient
      }).catch(function () {});
    }, known ? 800 : 0);
  }

  function follow() {
    var wait = 1000;
    var source = null;
    function connect() {
      setLive(source ? "reconnecting" : "connecting");
      source = new EventSource("/v1/share-links/stream");
      source.addEventListener("open", function () { wait = 1000; setLive("live"); });
      source.addEventListener("visit", function (event) {
        try {
          onVisit(JSON.parse(event.data));
        } catch (error) {
          console.warn("unreadable visit event", error);
        }
      });
      source.addEventListener("signed-out", function () {
        source.close();
        location.assign("/login?next=" + encodeURIComponent("/links"));
      });
      source.addEventListener("error", function () {
        setLive("reconnecting");
        if (source.readyState === EventSource.CLOSED) {
          setTimeout(connect, wait);
          wait = Math.min(wait * 2, MAX_WAIT_MS);
        }
      });
    }
    connect();
  }

  // --- start ---------------------------------------------------------------------------------

  follow();
  wirePrefs();
  Promise.all([loadLinks().then(seedFeed), loadAccounts()]).then(function () {
    document.body.dataset.ready = "true";
  }, function (error) {
    $("links-summary").textContent = "Could not load your links (" + error.message + ").";
    $("feed").setAttribute("aria-busy", "false");
  });
  // "12 min ago" moves on by itself.
  setInterval(function () {
    document.querySelectorAll("time.visit-when").forEach(function (t) {
      t.textContent = when(t.dateTime);
    });
  }, 30000);
})();
