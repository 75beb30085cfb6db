/* Glassboard sign-in: ask for a magic link, then say where it went. */
(function () {
  "use strict";

  var form = document.getElementById("login-form");
  var email = document.getElementById("email");
  var error = document.getElementById("email-error");
  var button = document.getElementById("send");
  var PATTERN = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

  function fail(message) {
    error.textContent = message;
    email.setAttribute("aria-invalid", "true");
    email.focus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var address = email.value.trim();
    if (!PATTERN.test(address)) return fail("Enter your work email, like name@company.com.");
    error.textContent = "";
    email.removeAttribute("aria-invalid");
    button.disabled = true;
    button.textContent = "Sending…";
    fetch("/v1/auth/magic-link", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: address, next: document.getElementById("next").value || "/app/" }),
    }).then(function (response) {
      if (response.status === 429) {  // over a sign-in limit: say when to try again
        var minutes = Math.max(1, Math.ceil(Number(response.headers.get("retry-after") || 60) / 60));
        var limited = new Error("Too many sign-in links were asked for. Try again in " + minutes +
          (minutes === 1 ? " minute." : " minutes."));
        limited.shown = true;
        throw limited;
      }
      if (!response.ok) throw new Error("status " + response.status);
      document.getElementById("sent-to").textContent = address;
      document.getElementById("ask").hidden = true;
      var sent = document.getElementById("sent");
      sent.hidden = false;
      sent.focus();
    }).catch(function (problem) {
      if (problem.shown) return fail(problem.message);
      fail(navigator.onLine ? "Could not send the link. Try again in a moment."
        : "You're offline. Connect, then try again.");
    }).finally(function () {
      button.disabled = false;
      button.textContent = "Email me a sign-in link";
    });
  });

  document.getElementById("again").addEventListener("click", function () {
    document.getElementById("sent").hidden = true;
    document.getElementById("ask").hidden = false;
    email.select();
    email.focus();
  });
})();
