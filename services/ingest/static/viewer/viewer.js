/* The hosted viewer (/v/ASSET): renders the PDF page by page with pdf.js and measures the
 * engaged time of each page.
 *
 * A page is being read while it is drawn, it is the page most in view, at least half of it
 * is in view (or, zoomed in, it fills at least half of the screen), and the document is
 * visible and focused. Its time goes out as dwell slices through POST /v1/events, as t.js
 * sends them (source beacon, text/plain, sendBeacon at pagehide), each with `page` and
 * view_id: one slice as soon as the reader leaves a page, and the open one every heartbeat
 * and when the document is hidden or left. The order of the slices is the reading order;
 * the highest page among them, the furthest reached.
 *
 * Opened from a share link the page carries gb_visit (the open's event id, checked by the
 * server into data-visit): the open is the view, so none is sent, and the slices carry it
 * as their view_id; it leaves the address bar, and a reload goes on with it.
 */
const root = document.getElementById("viewer");
const status = document.getElementById("status");
const asset = root.dataset.asset;
const ENDPOINT = "/v1/events";
const HEARTBEAT_MS = 15000;
const MAX_MS = 3600000;

function send(events, closing) {
  if (!events.length) return;
  const body = JSON.stringify({ events: events });
  if (closing && navigator.sendBeacon &&
      navigator.sendBeacon(ENDPOINT, new Blob([body], { type: "text/plain" }))) return;
  fetch(ENDPOINT, { method: "POST", body: body, keepalive: true,
                    headers: { "Content-Type": "text/plain" } })
    .catch(function () { /* analytics must never break the page */ });
}

// crypto.randomUUID needs a secure context: plain http on a LAN address has none.
function uuid() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
    return (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16);
  });
}

function event(type) {
  return { event_id: uuid(), type: type, asset_id: asset, source: "beacon" };
}

// The view this reading belongs to: the share link's open, else a view of our own.
function viewOf() {
  const key = "gb_visit:" + asset;
  const url = new URL(location.href);
  if (url.searchParams.has("gb_visit")) {
    url.searchParams.delete("gb_visit");
    history.replaceState(history.state, "", url.pathname + url.search + url.hash);
  }
  try {
    if (root.dataset.visit) sessionStorage.setItem(key, root.dataset.visit);
    const kept = root.dataset.visit || sessionStorage.getItem(key);
    if (kept) return kept;
  } catch (e) { if (root.dataset.visit) return root.dataset.visit; }
  const view = event("view");
  if (document.referrer) view.referrer = document.referrer;
  send([view], false);
  return view.event_id;
}

const viewId = viewOf();

// --- what is in view, and the time of each page ---------------------------------------
const seen = new Map();  // page number -> {ratio, fill, height}
const drawn = new Set(); // the pages painted: a blank placeholder is not being read
let current = null;      // the page being read, or null
let slice = null;        // {page, engaged, wall} of the current page since it was sent
let queued = [];         // closed slices not yet sent
let lastTick = performance.now();
let engaged = isEngaged();
let away = false;

function isEngaged() {
  return document.visibilityState === "visible" && document.hasFocus();
}

function tick() {
  const now = performance.now();
  if (!away && slice) {
    const elapsed = now - lastTick;
    slice.wall += elapsed;
    if (engaged) slice.engaged += elapsed;
  }
  lastTick = now;
  engaged = isEngaged();
}

function mostInView() {
  let best = null, bestHeight = 0;
  seen.forEach(function (s, page) {
    if (drawn.has(page) && (s.ratio >= 0.5 || s.fill >= 0.5) && s.height > bestHeight) {
      best = page;
      bestHeight = s.height;
    }
  });
  return best;
}

function close() {
  if (slice && (slice.engaged >= 1 || slice.wall >= 1)) queued.push(slice);
  slice = null;
}

function update() {
  tick();
  const page = mostInView();
  if (page === current) return;
  close();
  current = page;
  if (page !== null) slice = { page: page, engaged: 0, wall: 0 };
  sendQueued(false);  // the page just left goes out now: the order is the reading order
}

function flush(closing) {
  tick();
  const page = current;
  close();
  if (page !== null) slice = { page: page, engaged: 0, wall: 0 };
  sendQueued(closing);
}

function sendQueued(closing) {
  const events = queued.map(function (s) {
    const dwell = event("dwell");
    dwell.page = s.page;
    dwell.view_id = viewId;
    dwell.engaged_ms = Math.min(Math.round(s.engaged), MAX_MS);
    dwell.wall_ms = Math.min(Math.round(s.wall), MAX_MS);
    return dwell;
  });
  queued = [];
  send(events, closing);
}

const observer = new IntersectionObserver(function (entries) {
  entries.forEach(function (entry) {
    const page = Number(entry.target.dataset.page);
    const screen = entry.rootBounds ? entry.rootBounds.height : window.innerHeight;
    const height = entry.isIntersecting ? entry.intersectionRect.height : 0;
    seen.set(page, { ratio: entry.isIntersecting ? entry.intersectionRatio : 0,
                     fill: screen > 0 ? height / screen : 0, height: height });
  });
  update();
}, { threshold: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1] });

document.addEventListener("visibilitychange", function () {
  if (document.visibilityState === "hidden") flush(true); else tick();
});
window.addEventListener("focus", tick);
window.addEventListener("blur", tick);
window.addEventListener("pagehide", function () { flush(true); away = true; });
window.addEventListener("pageshow", function (e) {
  if (!e.persisted) return;
  away = false;
  lastTick = performance.now();
  engaged = isEngaged();
});
setInterval(function () { flush(false); }, HEARTBEAT_MS);

document.getElementById("download").addEventListener("click", function () {
  const download = event("download");
  download.view_id = viewId;
  send([download], true);
});

// --- rendering --------------------------------------------------------------------------
async function render() {
  const pdfjs = await import(root.dataset.pdfjs);
  pdfjs.GlobalWorkerOptions.workerSrc = root.dataset.worker;
  const doc = await pdfjs.getDocument({ url: root.dataset.file, isEvalSupported: false }).promise;
  const painter = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (!entry.isIntersecting) return;
      painter.unobserve(entry.target);
      paint(doc, entry.target).catch(function (e) { console.warn("page not drawn", e); });
    });
  }, { rootMargin: "100% 0px" });
  status.remove();
  for (let n = 1; n <= doc.numPages; n++) {
    const page = await doc.getPage(n);
    const size = page.getViewport({ scale: 1 });
    const section = document.createElement("section");
    section.className = "page";
    section.dataset.page = String(n);
    section.setAttribute("aria-label", "Page " + n + " of " + doc.numPages);
    section.style.aspectRatio = size.width + " / " + size.height;
    section.style.maxWidth = Math.round(size.width * 1.5) + "px";
    const number = document.createElement("span");
    number.className = "number";
    number.textContent = n + " / " + doc.numPages;
    section.append(number);
    root.append(section);
    observer.observe(section);
    painter.observe(section);
  }
}

async function paint(doc, section) {
  const page = await doc.getPage(Number(section.dataset.page));
  const width = section.clientWidth * (window.devicePixelRatio || 1);
  const viewport = page.getViewport({ scale: width / page.getViewport({ scale: 1 }).width });
  const canvas = document.createElement("canvas");
  canvas.width = Math.floor(viewport.width);
  canvas.height = Math.floor(viewport.height);
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", "Page " + section.dataset.page);
  section.prepend(canvas);
  await page.render({ canvas: canvas, viewport: viewport }).promise;
  section.dataset.drawn = "";
  drawn.add(Number(section.dataset.page));
  update();
}

render().catch(function (e) {
  console.error("document not shown", e);
  status.textContent = "This document could not be shown. Use Download to open it.";
});
