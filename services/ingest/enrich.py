"""Turn request headers into event fields: device, referrer host, privacy signals.

Devices and bots come from Matomo's Device Detector (its Python port), which carries
Matomo's maintained bot list, and from the public lists and rules of :mod:`.bots`.

Parsing a fresh User-Agent costs 4-10 ms of pure-Python regex work, which a thread
cannot take off the event loop (the GIL): a batch of 1,000 distinct User-Agents once held
the loop for seconds. So :func:`device_for`, the awaitable variant the pipeline uses, never
parses on the loop:

1. an LRU cache of what was parsed (real traffic repeats a small set of strings);
2. a precompiled fast path (:mod:`.fastpath`) for the User-Agents of current desktop and
   mobile browsers, in microseconds, verified against Device Detector by the tests;
3. anything else is parsed in a worker process, at a lower CPU priority than the loop.
   A request awaits its items one at a time, so each request has at most one parse in
   flight, and a pixel's new User-Agent waits behind at most one parse per concurrent
   request, never behind a whole batch. The batch itself takes as long as its parses
   (13-23 s for 1,000 never-seen User-Agents on 2 busy cores); the hits beside it do not.

:func:`device_from_user_agent` is the same decision, synchronously (tests, tools).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import multiprocessing
import os
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from urllib.parse import urlsplit

from device_detector import DeviceDetector
from device_detector.parser.settings import DESKTOP_OS

from shared.events import Device, DeviceClass

from . import bots
from .fastpath import fast_device

__all__ = [
    "EMAIL_IMAGE_PROXIES",
    "MAX_UA_LENGTH",
    "classify",
    "device_for",
    "device_from_user_agent",
    "referrer_host",
    "shutdown",
    "tracking_refused",
    "warm_up",
]

log = logging.getLogger(__name__)

#: Longer User-Agents are truncated before parsing: bounds the regex cost per request.
MAX_UA_LENGTH = 512
#: Parsed devices kept: ~300 bytes each, so ~6 MB at most.
CACHE_SIZE = 20_000
#: One worker process: the machine has 2 cores, one for the event loop, one for parsing.
PARSE_WORKERS = 1
#: The worker's nice value: under CPU contention the loop that answers hits goes first.
WORKER_NICENESS = 10

_PHONE_TYPES = {"smartphone", "feature phone", "phablet"}
_TABLET_TYPES = {"tablet"}
_DESKTOP_TYPES = {"desktop"}
_MOBILE = frozenset({DeviceClass.PHONE, DeviceClass.TABLET})
#: Mail services that fetch images on behalf of a person opening an email. Device Detector
#: and the public lists file them as bots, but each fetch is a real open by a human: count
#: it, device unknown.
EMAIL_IMAGE_PROXIES = frozenset({"Gmail Image Proxy", "Yahoo! Mail Proxy"})
#: Device Detector client types that a person uses without a browser engine: mail clients
#: fetching an email's images (Outlook, Thunderbird), so never "no browser engine" bots.
_PEOPLE_WITHOUT_ENGINE = frozenset({"pim"})


def classify(user_agent: str) -> Device:
    """The device behind a User-Agent, by Device Detector and the rules of :mod:`.bots`.
    Pure and uncached: the worker process runs this."""
    user_agent = user_agent[:MAX_UA_LENGTH]
    if not user_agent.strip():
        return Device(device_class=DeviceClass.UNKNOWN)
    proxy = bots.mail_image_proxy(user_agent)
    if proxy is not None:
        return Device(device_class=DeviceClass.UNKNOWN, browser=proxy)
    parsed = DeviceDetector(user_agent).parse()
    if parsed.is_bot():
        bot_name = (parsed.all_details.get("bot") or {}).get("name")
        if bot_name in EMAIL_IMAGE_PROXIES:
            return Device(device_class=DeviceClass.UNKNOWN, browser=bot_name)
        return Device(
            device_class=DeviceClass.BOT, browser=_clean(bot_name or parsed.client_name())
        )
    kind = parsed.device_type()
    if kind in _PHONE_TYPES:
        device_class = DeviceClass.PHONE
    elif kind in _TABLET_TYPES:
        device_class = DeviceClass.TABLET
    elif kind in _DESKTOP_TYPES or _desktop_os(parsed):
        device_class = DeviceClass.DESKTOP
    else:
        device_class = DeviceClass.UNKNOWN
    client_type = str(parsed.client_type())
    listed = bots.listed_bot(user_agent, browser=client_type == "browser",
                             mobile=device_class in _MOBILE)
    if listed is not None:  # a browser's name says less than the list that caught it
        name = None if client_type == "browser" else _clean(parsed.client_name())
        return Device(device_class=DeviceClass.BOT, browser=name or listed)
    if (device_class is DeviceClass.UNKNOWN and not bots.has_browser_engine(user_agent)
            and client_type not in _PEOPLE_WITHOUT_ENGINE):
        return Device(device_class=DeviceClass.BOT,
                      browser=_clean(parsed.client_name()) or bots.BotRule.NO_ENGINE)
    return Device(
        device_class=device_class,
        os=_clean(parsed.os_name()),
        browser=_clean(parsed.client_name()),
    )


def _desktop_os(parsed: DeviceDetector) -> bool:
    """No device type, but a desktop-only OS family (Device Detector's own list, as Matomo
    reports "desktop"): Linux desktops parse this way."""
    os_parser = getattr(parsed, "os", None)
    family = os_parser.family() if os_parser is not None else None
    return family in DESKTOP_OS and not parsed.uses_mobile_browser()


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value[:64] or None


# --- cache, fast path and worker process -------------------------------------------------

_cache: OrderedDict[str, Device] = OrderedDict()
#: Parses under way in the worker, so that concurrent hits with one new UA share one parse.
_pending: dict[str, asyncio.Future[Device]] = {}
_pool: ProcessPoolExecutor | None = None


def _cached(user_agent: str) -> Device | None:
    device = _cache.get(user_agent)
    if device is not None:
        _cache.move_to_end(user_agent)
    return device


def _remember(user_agent: str, device: Device) -> Device:
    _cache[user_agent] = device
    if len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return device


def device_from_user_agent(user_agent: str) -> Device:
    """The device behind a User-Agent, parsed on the calling thread when it is new."""
    user_agent = user_agent[:MAX_UA_LENGTH]
    device = _cached(user_agent) or fast_device(user_agent)
    return _remember(user_agent, device or classify(user_agent))


async def device_for(user_agent: str) -> Device:
    """:func:`device_from_user_agent` that never parses on the event loop."""
    user_agent = user_agent[:MAX_UA_LENGTH]
    device = _cached(user_agent) or fast_device(user_agent)
    if device is not None:
        return _remember(user_agent, device)
    pending = _pending.get(user_agent)
    if pending is None:
        pending = asyncio.ensure_future(_parse_in_worker(user_agent))
        _pending[user_agent] = pending
        pending.add_done_callback(lambda _: _pending.pop(user_agent, None))
    # Shielded: a hit whose request went away must not cancel the parse others await.
    return _remember(user_agent, await asyncio.shield(pending))


async def _parse_in_worker(user_agent: str) -> Device:
    global _pool
    for _attempt in range(2):
        pool = _pool or _start_pool()
        try:
            return await asyncio.wrap_future(pool.submit(classify, user_agent))
        except BrokenProcessPool:
            log.warning("User-Agent worker process died; starting a new one")
            pool.shutdown(wait=False, cancel_futures=True)
            if _pool is pool:
                _pool = None
    return await asyncio.to_thread(classify, user_agent)  # no worker: at least not inline


def _start_pool() -> ProcessPoolExecutor:
    """The worker process, spawned (a fork would copy the loop's threads and sockets)."""
    global _pool
    _pool = ProcessPoolExecutor(PARSE_WORKERS, mp_context=multiprocessing.get_context("spawn"),
                                initializer=_start_worker)
    return _pool


def shutdown() -> None:
    """Stop the worker process (also run at exit)."""
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
        _pool = None


atexit.register(shutdown)


def _start_worker() -> None:
    """In the worker: yield the CPU to the event loops (a flood of new User-Agents must not
    slow the hits whose device is known), then load the parsers."""
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    _load_parsers()


def _load_parsers() -> None:
    classify("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36")


def warm_up() -> Future[Device]:
    """Load Device Detector's regex files and the bot lists now, not on the first hit
    (~1.5 s), here and in the worker process, which is started now too."""
    _load_parsers()
    bots.warm_up()
    return (_pool or _start_pool()).submit(classify, "Mozilla/5.0")


def referrer_host(referrer: str | None) -> str | None:
    if not referrer:
        return None
    host = urlsplit(referrer if "//" in referrer else f"//{referrer}").hostname
    return host[:255] if host else None


def tracking_refused(headers: Mapping[str, str]) -> bool:
    """Do-Not-Track or Global Privacy Control: count the hit, drop who it was."""
    return headers.get("dnt") == "1" or headers.get("sec-gpc") == "1"
