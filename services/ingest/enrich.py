"""Turn request headers into event fields: device, referrer host, privacy signals.

Devices and bots come from Matomo's Device Detector (its Python port), which carries
Matomo's maintained bot list. Parsing a fresh User-Agent costs ~5 ms, so results are
cached: real traffic repeats a small set of UA strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from urllib.parse import urlsplit

from device_detector import DeviceDetector
from device_detector.parser.settings import DESKTOP_OS

from shared.events import Device, DeviceClass

__all__ = ["device_from_user_agent", "referrer_host", "tracking_refused", "warm_up"]

#: Longer User-Agents are truncated before parsing: bounds the regex cost per request.
MAX_UA_LENGTH = 512

_PHONE_TYPES = {"smartphone", "feature phone", "phablet"}
_TABLET_TYPES = {"tablet"}
_DESKTOP_TYPES = {"desktop"}
#: Mail services that fetch images on behalf of a person opening an email. Device Detector
#: lists them as bots, but each fetch is a real open by a human: count it, device unknown.
EMAIL_IMAGE_PROXIES = frozenset({"Gmail Image Proxy", "Yahoo! Mail Proxy"})


@lru_cache(maxsize=20_000)
def device_from_user_agent(user_agent: str) -> Device:
    user_agent = user_agent[:MAX_UA_LENGTH]
    if not user_agent.strip():
        return Device(device_class=DeviceClass.UNKNOWN)
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


def warm_up() -> None:
    """Load Device Detector's regex files now, not on the first hit (~1.5 s)."""
    device_from_user_agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36")


def referrer_host(referrer: str | None) -> str | None:
    if not referrer:
        return None
    host = urlsplit(referrer if "//" in referrer else f"//{referrer}").hostname
    return host[:255] if host else None


def tracking_refused(headers: Mapping[str, str]) -> bool:
    """Do-Not-Track or Global Privacy Control: count the hit, drop who it was."""
    return headers.get("dnt") == "1" or headers.get("sec-gpc") == "1"
