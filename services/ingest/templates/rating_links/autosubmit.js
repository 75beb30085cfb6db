// Auto-submit only on a fresh navigation: not while Chrome prerenders the page, and not when
// the rater comes back with the Back button or reloads (that would rate again, and on Android
// trap Back in a loop). Those see the button instead.
(function () {
  var form = document.getElementById("rate");
  if (!form) return;
  var nav = performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
  if (nav && nav.type !== "navigate") return;
  if (document.prerendering) {
    document.addEventListener("prerenderingchange", function () { form.submit(); }, { once: true });
  } else {
    form.submit();
  }
})();
