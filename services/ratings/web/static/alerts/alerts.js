/* Glassboard alert inbox: my alerts, mark read, how I hear about them, my rule levels.
   Plain DOM, textContent only (alert texts quote people's comments). */
(function () {
  "use strict";

  var body = document.body;
  var me = (body.dataset.email || "").toLowerCase();
  var list = document.getElementById("alert-list");
  var summary = document.getElementById("summary");
  var more = document.getElementById("more");
  var readAll = document.getElementById("read-all");
  var unreadCount = document.getElementById("unread-count");
  var view = "unread";
  var before = null;

  var RULE_FIELDS = {
    rating_below: { field: "threshold", min: 1, max: 5, step: 0.1,
      text: ["Alert when the rating falls below", "stars"] },
    score_drop: { field: "points", min: 1, max: 100, step: 1,
      text: ["Alert when the score falls by", "points or more"] },
    engagement_collapse: { field: "percent", min: 1, max: 99, step: 1,
      text: ["Alert when weekly views fall to", "% of the month before"] },
    low_rating_comment: { field: "max_stars", min: 1, max: 4, step: 1,
      text: ["Alert on a new rating of", "stars or fewer, with a comment"] }
  };
  var STATES = { sent: "sent", pending: "waiting", sending: "sending", failed: "failed" };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  var toastTimer = null;
  function toast(message, kind) {
    var box = document.getElementById("toast");
    box.textContent = message;
    box.className = "toast show toast-" + (kind || "ok");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { box.className = "toast"; }, 2600);
  }

  function api(url, options) {
    var opts = options || {};
    opts.credentials = "same-origin";
    opts.headers = Object.assign({ accept: "application/json" }, opts.headers || {});
    return fetch(url, opts).then(function (response) {
      if (response.status === 401) { window.location.href = "/login?next=/alerts"; }
      if (response.status === 204) { return { ok: true, status: 204, data: null }; }
      return response.json().then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      }, function () { return { ok: response.ok, status: response.status, data: null }; });
    });
  }

  function ago(iso) {
    var then = new Date(iso);
    var seconds = Math.max(0, (Date.now() - then.getTime()) / 1000);
    if (seconds < 60) { return "just now"; }
    if (seconds < 3600) { return Math.round(seconds / 60) + " min ago"; }
    if (seconds < 86400) { return Math.round(seconds / 3600) + " h ago"; }
    return then.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });
  }

  function deliveryChip(d) {
    var channel = d.channel === "email" ? "Email" : "Webhook";
    var state = STATES[d.state] || d.state;
    if (d.state === "pending" && d.kind === "digest") { state = "in the next digest"; }
    else if (d.state === "pending" && d.attempts > 0) { state = "retrying"; }
    var chip = el("li", "chip chip-" + d.state, channel + " · " + state);
    if (d.last_error && d.state !== "sent") { chip.title = d.last_error; }
    return chip;
  }

  function renderAlert(a) {
    var item = el("li", "alert-item" + (a.read_at ? "" : " unread"));
    item.dataset.id = a.id;
    var head = el("div", "alert-head");
    head.appendChild(el("span", "rule-badge rule-" + a.rule, a.rule_label));
    var time = el("time", "alert-time", ago(a.fired_at));
    time.dateTime = a.fired_at;
    time.title = new Date(a.fired_at).toLocaleString();
    head.appendChild(time);
    item.appendChild(head);
    var title = el("h3", "alert-title");
    var link = el("a", "", a.title);
    link.href = a.asset_url;
    title.appendChild(link);
    item.appendChild(title);
    item.appendChild(el("p", "alert-summary", a.summary));
    var foot = el("div", "alert-foot");
    var chips = el("ul", "chips");
    chips.setAttribute("aria-label", "Delivery");
    a.deliveries.forEach(function (d) { chips.appendChild(deliveryChip(d)); });
    if (!a.deliveries.length) { chips.appendChild(el("li", "chip", "Inbox only")); }
    foot.appendChild(chips);
    if (view === "everyone") { foot.appendChild(el("span", "alert-owner", a.owner_email)); }
    if (!a.read_at && a.owner_email.toLowerCase() === me) {
      var button = el("button", "button small secondary mark-read", "Mark read");
      button.type = "button";
      button.setAttribute("aria-label", "Mark the alert on " + a.title + " read");
      button.addEventListener("click", function () { markRead(a, item, button); });
      foot.appendChild(button);
    }
    item.appendChild(foot);
    return item;
  }

  function setUnread(n) {
    unreadCount.textContent = n ? String(n) : "";
    readAll.hidden = !n;
  }

  function load(append) {
    var params = new URLSearchParams({ limit: "30" });
    if (view === "unread") { params.set("unread", "true"); }
    if (view === "everyone") { params.set("all", "true"); }
    if (append && before) { params.set("before", String(before)); }
    list.setAttribute("aria-busy", "true");
    return api("/v1/alerts?" + params.toString()).then(function (r) {
      list.setAttribute("aria-busy", "false");
      if (!r.ok) { summary.textContent = "Could not load alerts."; return; }
      if (!append) { list.textContent = ""; }
      r.data.alerts.forEach(function (a) { list.appendChild(renderAlert(a)); });
      before = r.data.next_before;
      more.hidden = !before;
      setUnread(r.data.unread);
      var shown = list.children.length;
      if (!shown) {
        var empty = el("li", "empty", view === "unread"
          ? "No unread alerts. When an asset you own drops, it shows up here."
          : "No alerts yet.");
        list.appendChild(empty);
        summary.textContent = "";
      } else {
        summary.textContent = shown + (shown === 1 ? " alert" : " alerts") +
          (view === "unread" ? " not read yet" : "");
      }
    });
  }

  function markRead(a, item, button) {
    button.disabled = true;
    api("/v1/alerts/" + a.id + "/read", { method: "POST" }).then(function (r) {
      if (!r.ok) { button.disabled = false; toast("Could not mark it read", "error"); return; }
      a.read_at = new Date().toISOString();
      item.classList.remove("unread");
      button.remove();
      var n = Math.max(0, (parseInt(unreadCount.textContent, 10) || 1) - 1);
      setUnread(n);
      if (view === "unread") { item.remove(); if (!list.children.length) { load(false); } }
      toast("Marked read", "ok");
    });
  }

  readAll.addEventListener("click", function () {
    api("/v1/alerts/read-all", { method: "POST" }).then(function (r) {
      if (r.ok) { toast(r.data.marked + " marked read", "ok"); load(false); }
    });
  });
  more.addEventListener("click", function () { load(true); });

  document.querySelectorAll('.tabs [role="tab"]').forEach(function (tab) {
    tab.addEventListener("click", function () {
      document.querySelectorAll('.tabs [role="tab"]').forEach(function (t) {
        t.setAttribute("aria-selected", t === tab ? "true" : "false");
      });
      list.setAttribute("aria-labelledby", tab.id);
      view = tab.dataset.view;
      before = null;
      load(false);
    });
  });

  // --- preferences ----------------------------------------------------------------------------
  var form = document.getElementById("prefs");
  var webhook = document.getElementById("pref-webhook");
  var webhookError = document.getElementById("webhook-error");

  function fillPrefs(p) {
    document.getElementById("pref-email").checked = !!p.email;
    webhook.value = p.webhook_url || "";
    form.querySelectorAll('input[name="mode"]').forEach(function (radio) {
      radio.checked = radio.value === p.mode;
    });
    var hour = String(p.digest_hour_utc);
    document.getElementById("digest-hour").textContent = (hour.length < 2 ? "0" : "") + hour + ":00";
  }

  api("/v1/me/alert-preferences").then(function (r) { if (r.ok) { fillPrefs(r.data); } });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var mode = form.querySelector('input[name="mode"]:checked');
    var payload = {
      email: document.getElementById("pref-email").checked,
      webhook_url: webhook.value.trim() || null,
      mode: mode ? mode.value : "immediate"
    };
    webhookError.textContent = "";
    webhook.removeAttribute("aria-invalid");
    api("/v1/me/alert-preferences", {
      method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(payload)
    }).then(function (r) {
      if (r.ok) {
        fillPrefs(r.data);
        var secret = document.getElementById("webhook-secret");
        if (r.data.webhook_secret) {
          document.getElementById("webhook-secret-value").textContent = r.data.webhook_secret;
          secret.hidden = false;
        }
        toast("Saved", "ok");
        return;
      }
      var detail = r.data && r.data.detail;
      var message = Array.isArray(detail) && detail.length ? detail[0].msg : "Could not save";
      webhookError.textContent = message.replace(/^Value error, /, "");
      webhook.setAttribute("aria-invalid", "true");
      webhook.focus();
    });
  });

  // --- my rules -------------------------------------------------------------------------------
  var rulesList = document.getElementById("rules");

  function renderRule(name, rule) {
    var spec = RULE_FIELDS[name];
    var item = el("li", "rule");
    var head = el("div", "rule-head");
    head.appendChild(el("h3", "", rule.label));
    var toggle = el("label", "check small");
    var enabled = el("input");
    enabled.type = "checkbox";
    enabled.checked = rule.effective.enabled;
    enabled.setAttribute("aria-label", rule.label + ": on");
    toggle.appendChild(enabled);
    toggle.appendChild(el("span", "", "On"));
    head.appendChild(toggle);
    item.appendChild(head);
    var line = el("p", "rule-line");
    var id = "rule-" + name;
    var label = el("label", "", spec.text[0] + " ");
    label.htmlFor = id;
    line.appendChild(label);
    var input = el("input", "rule-value");
    input.type = "number";
    input.id = id;
    input.min = spec.min; input.max = spec.max; input.step = spec.step;
    var value = rule.effective[spec.field];
    input.value = spec.step < 1 ? Number(value).toFixed(1) : value;
    line.appendChild(input);
    line.appendChild(document.createTextNode(" " + spec.text[1]));
    item.appendChild(line);
    var overridden = Object.keys(rule.overrides).length > 0;
    var actions = el("div", "rule-actions");
    actions.appendChild(el("p", "rule-note", overridden
      ? "Your setting (default: " + rule.defaults[spec.field] + ")."
      : "The default for everyone."));
    var save = el("button", "button small", "Save");
    save.type = "button";
    var reset = el("button", "button small secondary", "Use default");
    reset.type = "button";
    reset.hidden = !overridden;
    actions.appendChild(save);
    actions.appendChild(reset);
    item.appendChild(actions);
    save.addEventListener("click", function () {
      var change = { enabled: enabled.checked };
      change[spec.field] = Number(input.value);
      api("/v1/me/alert-rules/" + name, {
        method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(change)
      }).then(function (r) {
        if (r.ok) { item.replaceWith(renderRule(name, r.data)); toast("Rule saved", "ok"); return; }
        var detail = r.data && r.data.detail;
        toast(Array.isArray(detail) && detail.length ? detail[0].msg : "Could not save", "error");
      });
    });
    reset.addEventListener("click", function () {
      api("/v1/me/alert-rules/" + name, { method: "DELETE" }).then(loadRules);
    });
    return item;
  }

  function loadRules() {
    return api("/v1/me/alert-rules").then(function (r) {
      if (!r.ok) { return; }
      rulesList.textContent = "";
      Object.keys(RULE_FIELDS).forEach(function (name) {
        rulesList.appendChild(renderRule(name, r.data.rules[name]));
      });
    });
  }

  load(false);
  loadRules();
})();
