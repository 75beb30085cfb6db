"""Bot rules beside Device Detector: two maintained public lists and a no-browser-engine rule.

Device Detector alone let ~29% of a public crawler list through as people with device
"unknown": HTTP libraries, monitors and link previewers that name no bot it knows. These
rules run after it, on the raw User-Agent, and only ever turn a hit into a bot:

1. COUNTER-Robots (PyPI ``counter-robots``): the robot and machine lists of the COUNTER
   Code of Practice, which library and repository usage statistics are audited against.
2. crawler-user-agents (PyPI ``crawler-user-agents``): monperrus' list of ~1,500 crawler
   patterns, each with example instances.

   Both lists hold short substrings ("bot", "motor", "core", "baidu"), so on a User-Agent
   Device Detector parsed as a browser they see only what the browser does not explain
   (:func:`listed_bot`): otherwise a "motorola edge 30" would be a bot.
3. No browser engine: a hit whose device is unknown and whose User-Agent names no browser
   engine (AppleWebKit, Gecko, Trident, Presto, MSIE, ...) is a program, not a person
   (okhttp, Apache-HttpClient, Zabbix, LoomlyBot). Mail clients (Device Detector's "pim")
   are exempt: Outlook fetching a pixel is a person opening an email.

Mail image proxies (Gmail's GoogleImageProxy, Yahoo's YahooMailProxy) are on the lists, but
each fetch is a person opening an email: :func:`mail_image_proxy` names them, and the
caller counts them as opens before any bot rule runs. Both lists are MIT-licensed.
"""

from __future__ import annotations

import re

import counter_robots
import crawleruseragents

__all__ = ["BotRule", "has_browser_engine", "listed_bot", "mail_image_proxy", "warm_up"]


class BotRule:
    """Why a User-Agent is a bot, as kept in the rejected event's detail."""

    COUNTER = "COUNTER-Robots"
    CRAWLER_USER_AGENTS = "crawler-user-agents"
    NO_ENGINE = "no browser engine"


#: Mail services that fetch an email's images when a person opens it, by the token they
#: put in their User-Agent, and the name Glassboard reports (Device Detector's, where it has
#: one). Device Detector knows Gmail's and Yahoo's; the public lists file both as crawlers.
_MAIL_IMAGE_PROXIES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"GoogleImageProxy"), "Gmail Image Proxy"),
    (re.compile(r"YahooMailProxy"), "Yahoo! Mail Proxy"),
)

#: A token every real browser's User-Agent carries: its rendering engine, or for old
#: Internet Explorer and Opera, the browser itself. Matched case-sensitively.
_ENGINE = re.compile(
    r"AppleWebKit/|Gecko[/) ]|Gecko$|Trident/|Presto/|KHTML|MSIE \d|EdgeHTML|Goanna/|Servo/"
    r"|NetFront|Opera[/ ]|UCBrowser|UCWEB|Dillo/|Lynx/|Links \(|w3m/"
)


def mail_image_proxy(user_agent: str) -> str | None:
    """The mail image proxy this User-Agent is, if it is one."""
    for pattern, name in _MAIL_IMAGE_PROXIES:
        if pattern.search(user_agent):
            return name
    return None


#: What of a browser's User-Agent the lists do not see: product tokens named "...Browser/"
#: (SailfishBrowser/, SogouMobileBrowser/: "[^a]fish", "Sogou"), and its first comment,
#: which names the platform and, on phones and tablets, the device model ("motorola edge
#: 30" has "motor", "M bot 51" has "bot", "Quad core" has "core", "O+ Sonic" has "Sonic").
#: A desktop's comment is only checked against crawler-user-agents, whose patterns are
#: whole names ("cludo.com bot", "TSMbot"), never against COUNTER's short substrings
#: ("Banca Caboto" has "bot"). Each is replaced by a neutral token, as COUNTER lists the
#: empty agent.
_FIRST_COMMENT = re.compile(r"\([^)]*\)")
_BROWSER_TOKEN = re.compile(r"[\w.,-]*[Bb]rowser/[\w.]+")


def listed_bot(user_agent: str, *, browser: bool = False, mobile: bool = False) -> str | None:
    """The public list that names this User-Agent a robot, if one does.

    ``browser``: Device Detector parsed it as a browser (``mobile``: on a phone or tablet).
    Then the lists see only what such a browser adds to its User-Agent (HeadlessChrome,
    Selenium, a crawler's token, see :data:`_FIRST_COMMENT`), and COUNTER's list of
    machines (scripts and HTTP libraries: "PHP/", "python") is skipped.
    """
    if browser:
        rest = _BROWSER_TOKEN.sub("-", user_agent)
        comment = _FIRST_COMMENT.search(rest)
        if comment is not None:
            rest = f"{rest[:comment.start()]}(-){rest[comment.end():]}"
            if not mobile and crawleruseragents.is_crawler(comment.group()):
                return BotRule.CRAWLER_USER_AGENTS
        if counter_robots.is_robot(rest):
            return BotRule.COUNTER
        return BotRule.CRAWLER_USER_AGENTS if crawleruseragents.is_crawler(rest) else None
    if counter_robots.is_robot_or_machine(user_agent):
        return BotRule.COUNTER
    if crawleruseragents.is_crawler(user_agent):
        return BotRule.CRAWLER_USER_AGENTS
    return None


def has_browser_engine(user_agent: str) -> bool:
    return _ENGINE.search(user_agent) is not None


def warm_up() -> None:
    """Compile both lists now (~0.3 s), not on the first hit."""
    listed_bot("Mozilla/5.0")
