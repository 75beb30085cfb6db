/* Glassboard asset page: share it with a prospect (a link of their own, POST
 * /v1/share-links), and "How sales uses this content" (GET /v1/assets/ID/share-usage).
 * Two taps from the asset: "Share with a prospect", type the email, "Create link". The Copy
 * buttons are asset.js's, which copy the text of the element they name.
 */
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

  function sheet() {
    var card = $("share");
    if (!card) return;
    var opener = $("share-open");
    var form = $("share-form");
    var result = $("share-result");
    var email = $("share-email");
    var error = $("share-error");

    function show(open) {
      card.hidden = !open;
      opener.hidden = open;
      opener.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) {
        form.hidden = false;
        result.hidden = true;
        email.focus();
      } else {
        opener.focus();
      }
    }

    function fail(text) {
      error.textContent = text;
      email.setAttribute("aria-invalid", "true");
      email.focus();
    }

    function done(link, body) {
      var who = body.recipient_name ? body.recipient_name + " <" + body.recipient_email + ">"
        : body.recipient_email;
      $("share-for").textContent = "Link for " + who + (body.company ? ", " + body.company : "") +
        (body.email_gate ? " · asks for an email first" : "");
      $("share-url").textContent = link.url;
      var snippet = link.email_snippet || {};
      var text = snippet.text || link.url;
      $("share-subject").textContent = snippet.subject ? "Subject: " + snippet.subject : "";
      $("share-email-text").textContent = text;
      $("share-mailto").href = "mailto:" + encodeURIComponent(body.recipient_email) +
        "?subject=" + encodeURIComponent(snippet.subject || "") +
        "&body=" + encodeURIComponent(text);
      form.hidden = true;
      result.hidden = false;
      result.focus();
      GBStars.toast("Link ready: copy it or send the email", "ok");
    }

    opener.addEventListener("click", function () { show(true); });
    $("share-close").addEventListener("click", function () { show(false); });
    $("share-again").addEventListener("click", function () {
      form.reset();
      show(true);
    });
    email.addEventListener("input", function () {
      error.textContent = "";
      email.removeAttribute("aria-invalid");
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var address = email.value.trim();
      if (!EMAIL.test(address)) {
        fail("Enter the recipient's email, like name@company.com.");
        return;
      }
      var body = { asset_id: card.dataset.asset, recipient_email: address,
                   email_gate: $("share-gate").checked };
      var name = $("share-name").value.trim();
      var company = $("share-company").value.trim();
      if (name) body.recipient_name = name;
      if (company) body.company = company;
      var button = $("share-create");
      button.disabled = true;
      button.textContent = "Creating…";
      fetch("/v1/share-links", {
        method: "POST", credentials: "same-origin",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify(body),
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (response.status === 401) {
            location.assign("/login?next=" + encodeURIComponent(location.pathname + "#share"));
            return;
          }
          if (!response.ok) {
            var detail = data.detail;
            if (Array.isArray(detail)) detail = detail.map(function (d) { return d.msg; }).join("; ");
            fail("Not created: " + (detail || "the server answered " + response.status));
            return;
          }
          done(data, body);
          loadUsage();
        });
      }, function () {
        fail("Not created: you seem to be offline. Try again when you're back.");
      }).finally(function () {
        button.disabled = false;
        button.textContent = "Create link";
      });
    });
    if (location.hash === "#share") show(true);
  }

  function percent(rate) {
    return rate === null || rate === undefined ? "—" : Math.round(rate * 100) + "%";
  }

  function loadUsage() {
    var card = $("share-usage");
    if (!card) return;
    GBFormat.getJson("/v1/assets/" + encodeURIComponent(card.dataset.asset) + "/share-usage")
      .then(function (usage) {
        var sent = usage.links_sent || 0;
        var values = {
          links_sent: GBFormat.int(sent),
          open_rate: sent ? percent(usage.open_rate) : "—",
          forward_rate: sent ? percent(usage.forward_rate) : "—",
          median_engaged_ms_per_recipient: usage.median_engaged_ms_per_recipient === null ||
            usage.median_engaged_ms_per_recipient === undefined ? "—"
            : GBFormat.duration(usage.median_engaged_ms_per_recipient),
        };
        card.querySelectorAll("dd[data-key]").forEach(function (dd) {
          dd.textContent = values[dd.dataset.key];
        });
        var reps = (usage.reps || []).map(function (rep) {
          var links = rep.links === 1 ? "1 link" : GBFormat.int(rep.links) + " links";
          return (rep.name || rep.email) + " (" + links + ")";
        });
        $("share-usage-reps").textContent = !sent ? "No one has sent it to a prospect yet."
          : "Opened by " + GBFormat.int(usage.opened) + " of " + GBFormat.int(sent) +
            " recipients, passed on by " + GBFormat.int(usage.forwarded) + ". Shared by " +
            reps.join(", ") + ".";
        card.setAttribute("aria-busy", "false");
        card.dataset.ready = "true";
      }, function (error) {
        $("share-usage-reps").textContent = "Could not load how sales uses it (" +
          error.message + ").";
        card.setAttribute("aria-busy", "false");
      });
  }

  sheet();
  loadUsage();
})();
