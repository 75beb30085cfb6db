"""Device parsing at the edge (Matomo's Device Detector) and privacy signals."""

from __future__ import annotations

from harness.user_agents import UA_DESKTOP, UA_GOOGLEBOT, UA_IPAD, UA_IPHONE
from services.ingest.enrich import (
    classify,
    device_from_user_agent,
    referrer_host,
    tracking_refused,
)
from services.ingest.fastpath import fast_device
from shared.events import DeviceClass


def test_device_classes_come_from_the_user_agent() -> None:
    assert device_from_user_agent(UA_IPHONE).device_class is DeviceClass.PHONE
    assert device_from_user_agent(UA_IPHONE).os == "iOS"
    assert device_from_user_agent(UA_IPAD).device_class is DeviceClass.TABLET
    assert device_from_user_agent(UA_DESKTOP).device_class is DeviceClass.DESKTOP
    assert device_from_user_agent(UA_DESKTOP).browser == "Chrome"
    assert device_from_user_agent("").device_class is DeviceClass.UNKNOWN


def test_crawlers_are_bots_but_email_image_proxies_are_people_opening_mail() -> None:
    assert device_from_user_agent(UA_GOOGLEBOT).device_class is DeviceClass.BOT
    gmail = device_from_user_agent(
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
    )
    assert gmail.device_class is DeviceClass.UNKNOWN and gmail.browser == "Gmail Image Proxy"


def test_referrer_keeps_the_host_only_and_dnt_or_gpc_refuse_tracking() -> None:
    assert referrer_host("https://mail.google.com/mail/u/0/#inbox?secret=1") == "mail.google.com"
    assert referrer_host(None) is None
    assert tracking_refused({"dnt": "1"}) and tracking_refused({"sec-gpc": "1"})
    assert not tracking_refused({"dnt": "0"})


def test_linux_desktops_are_desktops() -> None:
    linux = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/120.0.0.0 Safari/537.36")
    assert device_from_user_agent(linux).device_class is DeviceClass.DESKTOP


def test_the_common_browsers_take_the_fast_path_with_the_full_parse_s_answer() -> None:
    for agent in (UA_IPHONE, UA_IPAD, UA_DESKTOP):
        assert fast_device(agent) == classify(agent) == device_from_user_agent(agent)
    assert fast_device(UA_GOOGLEBOT) is None
