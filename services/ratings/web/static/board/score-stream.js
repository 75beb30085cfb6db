/* Glassboard: follow /v1/scores/stream (Server-Sent Events) from a known revision.
 *
 * The page first reads a list, which says the highest revision it reflects; the stream
 * then sends every newer state ("event: score", "id: <revision>"). While the connection
 * holds, the browser reconnects by itself and sends Last-Event-ID. If the server closes
 * it for good (an error answer), we reopen it from the last revision seen, waiting a
 * little longer each time.
 */
(function (root) {
  "use strict";

  var MAX_WAIT_MS = 30000;

  /* filters: {since, asset, owner, type, stage, q}; handlers: {update(item), state(name)}.
   * state names: "connecting", "live", "reconnecting". Returns {close()}. */
  function open(filters, handlers) {
    var since = Number(filters.since) || 0;
    var source = null;
    var timer = null;
    var wait = 1000;
    var closed = false;

    function url() {
      var params = new URLSearchParams();
      params.set("since", String(since));
      ["asset", "owner", "type", "stage", "q"].forEach(function (key) {
        if (filters[key]) params.set(key, filters[key]);
      });
      return "/v1/scores/stream?" + params.toString();
    }

    function connect() {
      if (closed) return;
      source = new EventSource(url());
      source.addEventListener("open", function () {
        wait = 1000;
        handlers.state("live");
      });
      source.addEventListener("score", function (event) {
        var revision = Number(event.lastEventId);
        if (revision > since) since = revision;
        var item;
        try {
          item = JSON.parse(event.data);
        } catch (error) {
          console.warn("unreadable score event", error);
          return;
        }
        handlers.update(item);
      });
      source.addEventListener("error", function () {
        if (closed) return;
        if (source.readyState === EventSource.CLOSED) {
          handlers.state("reconnecting");
          clearTimeout(timer);
          timer = setTimeout(connect, wait);
          wait = Math.min(wait * 2, MAX_WAIT_MS);
        } else {
          handlers.state("reconnecting");  // the browser retries on its own
        }
      });
    }

    handlers.state("connecting");
    connect();
    return {
      close: function () {
        closed = true;
        clearTimeout(timer);
        if (source) source.close();
      },
    };
  }

  root.GBScoreStream = { open: open };
})(window);
