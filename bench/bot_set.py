"""The labelled User-Agent set that bot precision and recall are measured on, assembled
offline from data that installed PyPI packages ship (nothing is vendored or fetched):

- bots: every example instance of monperrus' crawler-user-agents (``crawleruseragents``,
  MIT) and every bot of Device Detector's own test fixtures (``device_detector/tests/
  fixtures/upstream/bots.yml``, LGPL-3.0 upstream), each one User-Agent per line;
- browsers: fake-useragent's ``browsers.jsonl`` (Apache-2.0), real-world browser
  User-Agents labelled desktop, mobile or tablet by that project, and Device Detector's
  desktop, smartphone, phablet, feature-phone and tablet browser fixtures, labelled by
  their fixture (one in :data:`FIXTURE_STRIDE` of the smartphones and tablets, in file order).

Mail image proxies (GoogleImageProxy, YahooMailProxy), which both bot sources list, are
labelled ``mail proxy``: each of their fetches is a person opening an email, counted as an
open with device "unknown". COUNTER-Robots ships patterns, not instances, so it adds rules
but no labelled User-Agents.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path

import crawleruseragents
import yaml_rs

from services.ingest.bots import mail_image_proxy
from shared.events import Device, DeviceClass

__all__ = ["BOT", "MAIL_PROXY", "BotFigures", "Labelled", "labelled_user_agents", "measure"]

BOT = "bot"
MAIL_PROXY = "mail proxy"
#: Device Detector's smartphone and tablet browser fixtures kept: one in this many (~3,000
#: of ~29,300), so that the set parses in under a minute; every other browser fixture is kept.
FIXTURE_STRIDE = 10
_STRIDED = ("smartphone", "tablet")
#: What each fixture's device type (or fake-useragent's type) must come out as.
_EXPECTED = {
    "desktop": DeviceClass.DESKTOP, "smartphone": DeviceClass.PHONE,
    "phablet": DeviceClass.PHONE, "feature phone": DeviceClass.PHONE,
    "mobile": DeviceClass.PHONE, "tablet": DeviceClass.TABLET,
}
_BROWSER_FIXTURES = ("desktop", "smartphone", "phablet", "feature_phone", "tablet")


@dataclass(frozen=True)
class Labelled:
    user_agent: str
    #: "bot", "mail proxy", or the device class a browser must get.
    label: str
    source: str


def _fixture_dir() -> Path:
    return Path(str(files("device_detector"))) / "tests" / "fixtures" / "upstream"


def _yaml(path: Path) -> list[dict[str, object]]:
    """A fixture file, with the YAML parser Device Detector itself depends on (yaml-rs)."""
    data = yaml_rs.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, list) else []


def _bots() -> Iterator[Labelled]:
    for entry in crawleruseragents.CRAWLER_USER_AGENTS_DATA:
        for instance in entry["instances"]:
            yield Labelled(instance, BOT, "crawler-user-agents")
    for fixture in _yaml(_fixture_dir() / "bots.yml"):
        yield Labelled(str(fixture["user_agent"]), BOT, "device-detector bots.yml")


def _browsers() -> Iterator[Labelled]:
    data = files("fake_useragent") / "data" / "browsers.jsonl"
    for line in data.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        yield Labelled(row["useragent"], _EXPECTED[row["type"]].value, "fake-useragent")
    for stem in _BROWSER_FIXTURES:
        kept, stride = 0, FIXTURE_STRIDE if stem in _STRIDED else 1
        for path in sorted(_fixture_dir().glob(f"{stem}*.yml")):
            for fixture in _yaml(path):
                client = fixture.get("client") or {}
                device = fixture.get("device") or {}
                kind = device.get("type") if isinstance(device, dict) else None
                if not isinstance(client, dict) or client.get("type") != "browser":
                    continue
                if kind not in _EXPECTED:
                    continue
                kept += 1
                if kept % stride == 0:
                    yield Labelled(str(fixture["user_agent"]), _EXPECTED[str(kind)].value,
                                   "device-detector fixtures")


@cache
def labelled_user_agents() -> tuple[Labelled, ...]:
    """The whole set, each User-Agent once (its first label wins), in a fixed order."""
    seen: dict[str, Labelled] = {}
    for item in (*_bots(), *_browsers()):
        if item.user_agent.strip() and item.user_agent not in seen:
            label = MAIL_PROXY if mail_image_proxy(item.user_agent) else item.label
            seen[item.user_agent] = Labelled(item.user_agent, label, item.source)
    return tuple(seen.values())


@dataclass
class BotFigures:
    """Bot precision and recall over a labelled set, and what each browser became."""

    #: Bots caught, people taken for bots, bots let through (and which).
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    missed: list[str] = field(default_factory=list)
    #: Browsers, those given their labelled device class, the others (ua, label, got).
    browsers: int = 0
    browsers_right: int = 0
    wrong: list[tuple[str, str, str]] = field(default_factory=list)
    #: Mail image proxies, and those counted as opens (device "unknown").
    mail_proxies: int = 0
    mail_proxies_counted: int = 0
    #: "source (label)" -> [right, of]
    by_source: dict[str, list[int]] = field(default_factory=dict)

    @property
    def precision(self) -> float:
        flagged = self.true_positive + self.false_positive
        return self.true_positive / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        bots = self.true_positive + self.false_negative
        return self.true_positive / bots if bots else 1.0

    @property
    def browser_accuracy(self) -> float:
        return self.browsers_right / self.browsers if self.browsers else 1.0

    @property
    def size(self) -> int:
        return self.true_positive + self.false_negative + self.browsers + self.mail_proxies


def measure(classify: Callable[[str], Device],
            items: Iterable[Labelled] | None = None) -> BotFigures:
    figures = BotFigures()
    for item in labelled_user_agents() if items is None else items:
        device = classify(item.user_agent)
        is_bot = device.device_class is DeviceClass.BOT
        kind = item.label if item.label in (BOT, MAIL_PROXY) else "browser"
        tally = figures.by_source.setdefault(f"{item.source} ({kind})", [0, 0])
        tally[1] += 1
        if item.label == BOT:
            tally[0] += is_bot
            if is_bot:
                figures.true_positive += 1
            else:
                figures.false_negative += 1
                figures.missed.append(item.user_agent)
            continue
        figures.false_positive += is_bot
        if item.label == MAIL_PROXY:
            figures.mail_proxies += 1
            counted = device.device_class is DeviceClass.UNKNOWN
            figures.mail_proxies_counted += counted
            tally[0] += counted
        else:
            figures.browsers += 1
            right = device.device_class.value == item.label
            figures.browsers_right += right
            tally[0] += right
            if not right:
                figures.wrong.append((item.user_agent, item.label, device.device_class.value))
    return figures
