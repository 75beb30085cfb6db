/* Glassboard asset page: copy buttons for the embed code, and my rating. */
(function () {
  "use strict";

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "offscreen";
      document.body.appendChild(area);
      area.select();
      var ok = document.execCommand("copy");
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }

  document.querySelectorAll("button.copy").forEach(function (button) {
    var label = button.textContent;
    button.addEventListener("click", function () {
      var code = document.getElementById(button.dataset.copy);
      copyText(code.textContent).then(function () {
        button.textContent = "Copied";
        button.classList.add("copied");
        GBStars.toast("Copied to the clipboard", "ok");
      }, function () {
        var range = document.createRange();
        range.selectNodeContents(code);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        GBStars.toast("Selected: copy it with your phone's menu", "error");
      });
      setTimeout(function () { button.textContent = label; button.classList.remove("copied"); }, 2000);
    });
  });

  var el = document.querySelector(".rater[data-asset]");
  if (el) {
    new GBStars.Rater(el, {
      assetId: el.dataset.asset,
      title: el.dataset.title,
      uid: Number(document.body.dataset.uid) || null,
      stars: Number(el.dataset.stars) || 0,
      comment: el.dataset.comment || "",
    });
  }
  if (typeof BroadcastChannel !== "undefined") {
    new BroadcastChannel(GBQueue.CHANNEL).onmessage = function (event) {
      GBStars.onQueueNews(event.data);
    };
  }
  window.addEventListener("online", function () {
    GBQueue.replay(function (message) {
      GBStars.onQueueNews(message);
      GBQueue.broadcast(message);
    });
  });
})();
