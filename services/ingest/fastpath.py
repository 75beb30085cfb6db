"""A precompiled fast path for the User-Agents of current mainstream browsers.

Chrome, Edge, Firefox and Safari now send frozen, reduced User-Agents (Chrome's "K"
Android model, "Windows NT 10.0; Win64; x64", "Intel Mac OS X 10_15_7"): a handful of
shapes that differ only in version numbers. Each shape below is matched whole
(``fullmatch``), so nothing can be appended to it (a crawler's token, "HeadlessChrome",
"Selenium") without falling through to the full parse; each gives exactly what
:func:`services.ingest.enrich.classify` gives, which the tests check over every version
range the patterns admit. One match costs a few microseconds, not 5-10 ms.
"""

from __future__ import annotations

import re

from shared.events import Device, DeviceClass

__all__ = ["fast_device"]

_V = r"\d{1,4}(?:\.\d{1,5}){0,3}"  # a dotted version number
_CHROME = r"AppleWebKit/537\.36 \(KHTML, like Gecko\) Chrome/\d{2,3}\.0\.0\.0"
_EDGE = rf" Edg/{_V}"
_WIN = r"Windows NT 10\.0; Win64; x64"
_MAC = r"Macintosh; Intel Mac OS X 10_15_7"
_IOS = r"\d{2}(?:_\d{1,2}){0,2}"  # iOS 10..99, as 18_1_1

_DESKTOP, _PHONE, _TABLET = DeviceClass.DESKTOP, DeviceClass.PHONE, DeviceClass.TABLET
#: (whole User-Agent, device class, os, browser): Device Detector's names.
_SHAPES: tuple[tuple[str, DeviceClass, str, str], ...] = (
    (rf"\({_WIN}\) {_CHROME} Safari/537\.36", _DESKTOP, "Windows", "Chrome"),
    (rf"\({_WIN}\) {_CHROME} Safari/537\.36{_EDGE}", _DESKTOP, "Windows", "Microsoft Edge"),
    (rf"\({_MAC}\) {_CHROME} Safari/537\.36", _DESKTOP, "Mac", "Chrome"),
    (rf"\({_MAC}\) {_CHROME} Safari/537\.36{_EDGE}", _DESKTOP, "Mac", "Microsoft Edge"),
    (rf"\(X11; Linux x86_64\) {_CHROME} Safari/537\.36", _DESKTOP, "GNU/Linux", "Chrome"),
    (r"\(Windows NT 10\.0; Win64; x64; rv:(\d{2,3})\.0\) Gecko/20100101 Firefox/\1\.0",
     _DESKTOP, "Windows", "Firefox"),
    (r"\(Macintosh; Intel Mac OS X 10\.15; rv:(\d{2,3})\.0\) Gecko/20100101 Firefox/\1\.0",
     _DESKTOP, "Mac", "Firefox"),
    (r"\(X11; Linux x86_64; rv:(\d{2,3})\.0\) Gecko/20100101 Firefox/\1\.0",
     _DESKTOP, "GNU/Linux", "Firefox"),
    (rf"\({_MAC}\) AppleWebKit/605\.1\.15 \(KHTML, like Gecko\) Version/1[4-9](?:\.\d){{0,2}}"
     r" Safari/605\.1\.15", _DESKTOP, "Mac", "Safari"),
    (rf"\(iPhone; CPU iPhone OS {_IOS} like Mac OS X\) AppleWebKit/605\.1\.15 \(KHTML, like "
     r"Gecko\) Version/\d{2}(?:\.\d){0,2} Mobile/15E148 Safari/604\.1",
     _PHONE, "iOS", "Mobile Safari"),
    (r"\(iPad; CPU OS 1[3-9](?:_\d{1,2}){0,2} like Mac OS X\) AppleWebKit/605\.1\.15 "
     r"\(KHTML, like Gecko\) Version/1[3-9](?:\.\d){0,2} Mobile/15E148 Safari/604\.1",
     _TABLET, "iPadOS", "Mobile Safari"),
    (rf"\(Linux; Android 10; K\) {_CHROME} Mobile Safari/537\.36", _PHONE, "Android",
     "Chrome Mobile"),
    (rf"\(Linux; Android 10; K\) {_CHROME} Safari/537\.36", _TABLET, "Android", "Chrome"),
)
_PATTERNS = tuple((re.compile(rf"Mozilla/5\.0 {shape}"), Device(device_class=device_class,
                                                                 os=os, browser=browser))
                  for shape, device_class, os, browser in _SHAPES)


def fast_device(user_agent: str) -> Device | None:
    """The device of a mainstream browser's User-Agent; None: it needs the full parse."""
    if not user_agent.startswith("Mozilla/5.0 ("):
        return None
    for pattern, device in _PATTERNS:
        if pattern.fullmatch(user_agent):
            return device
    return None
