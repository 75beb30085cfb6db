/* Glassboard: the five-star control. One tap on a star saves the rating; a second, optional
 * tap on "Why?" adds a comment. Offline, the rating waits in the queue (queue.js) and the
 * row says so until it is sent.
 *
 * Each star is a <button aria-pressed aria-label="Rate N out of 5">: reachable with Tab,
 * pressed with Enter or Space, and a tap saves at once (arrow keys would save on the way).
 */
(function (root) {
  "use strict";

  var raters = new Map();  // asset id → rater, for news from the service worker
  var recentlySent = new Map();  // asset id → {stars, at}: a redrawn list still says "Sent"
  var SENT_NEWS_MS = 60000;
  var toastTimer = null;

  function toast(message, kind) {
    var el = document.getElementById("toast");
    if (!el) return;
    el.textContent = message;
    el.className = "toast show" + (kind ? " toast-" + kind : "");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { el.className = "toast"; }, 4000);
  }

  function starButton(n) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "star";
    button.dataset.stars = String(n);
    button.setAttribute("aria-label", "Rate " + n + " out of 5");
    button.setAttribute("aria-pressed", "false");
    button.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">' +
      '<use href="#star"/></svg>';
    return button;
  }

  function queueRegisterSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.getRegistration("/app/").then(function (registration) {
      if (registration && registration.sync) {
        return registration.sync.register(GBQueue.SYNC_TAG);
      }
    }).catch(function () { /* Background Sync is a bonus; "online" replays anyway */ });
  }

  /* PUT the rating. Resolves {state: "saved" | "queued" | "error", status, detail}. */
  function sendRating(uid, assetId, body) {
    var controlled = "serviceWorker" in navigator && navigator.serviceWorker.controller;
    function attempt() {
      var startedAt = Date.now();
      return fetch(GBQueue.ratingUrl(assetId), {
        method: "PUT",
        credentials: "same-origin",
        headers: { "content-type": "application/json", "x-glassboard-user": String(uid || "") },
        body: JSON.stringify(body),
      }).then(function (response) {
        if (response.status === 202 && response.headers.get("x-glassboard-queued")) {
          queueRegisterSync();
          return { state: "queued" };
        }
        if (response.ok) {
          if (controlled) return { state: "saved" };  // the worker tidied up already
          return GBQueue.removeOlder(uid, assetId, startedAt).then(function () {
            return GBQueue.patchCachedLists(assetId, body.stars);
          }).then(function () { return { state: "saved" }; });
        }
        return response.json().catch(function () { return {}; }).then(function (data) {
          return { state: "error", status: response.status, detail: data.detail || "" };
        });
      }, function () {
        // No network (or no service worker to catch it): keep it here until we are back.
        return GBQueue.put(uid, assetId, body).then(function () {
          queueRegisterSync();
          return { state: "queued" };
        });
      });
    }
    // Under a service worker the worker serialises; otherwise take the lock ourselves.
    return controlled ? attempt() : GBQueue.exclusive(attempt);
  }

  function Rater(el, options) {
    this.el = el;
    this.assetId = options.assetId;
    this.title = options.title;
    this.uid = options.uid;
    this.stars = options.stars || 0;
    this.comment = options.comment || "";
    this.onChange = options.onChange || function () {};
    this.chain = Promise.resolve();
    this.latest = 0;

    this.group = el.querySelector(".stars");
    this.status = el.querySelector(".rate-status");
    this.whyButton = el.querySelector(".why-button");
    this.whyForm = el.querySelector(".why");
    this.commentEl = el.querySelector(".my-comment");
    this.group.setAttribute("aria-label", "Your rating for " + this.title);
    if (!this.group.querySelector(".star")) {
      for (var n = 1; n <= 5; n++) this.group.appendChild(starButton(n));
    }
    this.buttons = Array.prototype.slice.call(this.group.querySelectorAll(".star"));
    var self = this;
    this.buttons.forEach(function (button) {
      button.addEventListener("click", function () { self.rate(Number(button.dataset.stars)); });
    });
    if (this.whyButton) {
      this.whyButton.addEventListener("click", function () { self.toggleWhy(); });
      var cancel = this.whyForm.querySelector(".why-cancel");
      cancel.addEventListener("click", function () { self.toggleWhy(false); });
      this.whyForm.addEventListener("submit", function (event) {
        event.preventDefault();
        self.saveWhy();
      });
      var id = "why-" + this.assetId.replace(/[^a-z0-9_-]/gi, "_");
      this.whyForm.id = id;
      this.whyForm.querySelector("textarea").id = id + "-text";
      this.whyForm.querySelector("label").htmlFor = id + "-text";
      this.whyButton.setAttribute("aria-controls", id);
    }
    var sent = recentlySent.get(this.assetId);
    if (sent && !options.queued && Date.now() - sent.at < SENT_NEWS_MS && sent.stars === this.stars) {
      this.paint(this.stars);
      this.setStatus("sent");
    } else {
      this.paint(this.stars);
      this.setStatus(options.queued ? "queued" : this.stars ? "rated" : "none");
    }
    raters.set(this.assetId, this);
  }

  Rater.prototype.paint = function (stars) {
    this.buttons.forEach(function (button) {
      var n = Number(button.dataset.stars);
      button.setAttribute("aria-pressed", n === stars ? "true" : "false");
      button.classList.toggle("on", n <= stars);
    });
    if (this.commentEl) {
      this.commentEl.textContent = this.comment;
      this.commentEl.hidden = !this.comment;
    }
    if (this.whyButton) {
      this.whyButton.hidden = !stars;
      this.whyButton.setAttribute("aria-label", "Why " + stars + " stars? Add a comment for " +
                                  this.title);
    }
  };

  var STATUS = {
    none: function () { return "Not rated yet"; },
    rated: function (r) { return "Your rating: " + r.stars + " of 5" + (r.comment ? " · with why" : ""); },
    saving: function () { return "Saving…"; },
    saved: function (r) { return "Saved · " + r.stars + " of 5"; },
    savedWhy: function () { return "Saved · with your why"; },
    queued: function () { return "Queued — will send when online"; },
    sent: function (r) { return "Sent · " + r.stars + " of 5"; },
  };

  Rater.prototype.setStatus = function (state, text) {
    this.state = state;
    this.status.textContent = text || STATUS[state](this);
    this.status.className = "rate-status status-" + state;
    this.el.dataset.state = state;
  };

  Rater.prototype.rate = function (stars, comment) {
    var self = this;
    var previous = { stars: this.stars, comment: this.comment };
    var ticket = ++this.latest;
    this.stars = stars;
    this.comment = comment || "";
    this.paint(stars);
    this.setStatus("saving");
    if (navigator.vibrate) { try { navigator.vibrate(8); } catch (e) { /* not allowed */ } }
    var body = { stars: stars, comment: comment || null };
    this.chain = this.chain.then(function () {
      return sendRating(self.uid, self.assetId, body);
    }).then(function (outcome) {
      if (ticket !== self.latest) return outcome;  // a newer tap is on its way
      if (outcome.state === "saved") {
        self.setStatus(comment ? "savedWhy" : "saved");
        toast((comment ? "Saved your why for " : "Rated " + stars + " of 5: ") + self.title, "ok");
      } else if (outcome.state === "queued") {
        self.setStatus("queued");
        toast("You're offline. Your " + stars + "★ for " + self.title + " is queued.", "queued");
      } else {
        self.stars = previous.stars;
        self.comment = previous.comment;
        self.paint(previous.stars);
        var why = outcome.status === 401 ? "your session ended, sign in again"
          : outcome.detail || "error " + outcome.status;
        self.setStatus("error", "Not saved: " + why);
        toast("Not saved: " + why, "error");
        if (outcome.status === 401) {
          setTimeout(function () {
            location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
          }, 1500);
        }
      }
      self.onChange(self, outcome);
      return outcome;
    });
    return this.chain;
  };

  Rater.prototype.toggleWhy = function (open) {
    if (!this.whyForm) return;
    var show = open === undefined ? this.whyForm.hidden : open;
    this.whyForm.hidden = !show;
    this.whyButton.setAttribute("aria-expanded", show ? "true" : "false");
    if (show) {
      this.whyForm.querySelector("label").textContent = "Why " + this.stars + " stars?";
      var area = this.whyForm.querySelector("textarea");
      area.value = this.comment;
      area.focus();
    } else {
      this.whyButton.focus();
    }
  };

  Rater.prototype.saveWhy = function () {
    var text = this.whyForm.querySelector("textarea").value.trim();
    this.whyForm.hidden = true;
    this.whyButton.setAttribute("aria-expanded", "false");
    this.whyButton.focus();
    return this.rate(this.stars, text);
  };

  /* News from the queue: the rating waiting for this asset reached the server, or not. */
  Rater.prototype.sent = function (message) {
    if (this.state !== "queued" && this.state !== "saving") return;
    this.stars = message.stars;
    this.paint(message.stars);
    this.setStatus("sent");
  };

  Rater.prototype.failed = function (message) {
    this.setStatus("error", "Not sent: " + (message.detail || "error " + message.status));
  };

  function onQueueNews(message) {
    var rater = raters.get(message.asset_id);
    if (message.type === "sent") {
      recentlySent.set(message.asset_id, { stars: message.stars, at: Date.now() });
      if (rater) rater.sent(message);
      toast("Sent your queued " + message.stars + "★" + (rater ? " for " + rater.title : ""), "ok");
    } else if (message.type === "failed") {
      if (rater) rater.failed(message);
      toast("A queued rating could not be saved: " + (message.detail || message.status), "error");
    } else if (message.type === "signed-out") {
      toast("Sign in again to send your queued ratings.", "error");
    }
  }

  root.GBStars = {
    Rater: Rater,
    raters: raters,
    toast: toast,
    onQueueNews: onQueueNews,
    sendRating: sendRating,
  };
})(window);
