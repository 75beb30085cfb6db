"""Machine opens and link scanners: hits that are not a person reading, kept out of the counts.

Pure rules, no IO, shared by every edge that counts an open or a click (the pixel and the
tracked links and share links), so each applies them alike:

- **Machine opens.** Apple Mail Privacy Protection fetches every image of a message through
  Apple's proxy when the message arrives, whether or not anyone reads it. The proxy sends
  the bare User-Agent ``Mozilla/5.0`` from Apple's network (17.0.0.0/8). Such a pixel hit
  is a *machine open*: shown apart from opens, never counted as one.
- **Known scanner networks.** Mail security gateways (Microsoft Defender for Office 365
  Safe Links, Proofpoint URL Defense) fetch links and images from their own address ranges
  before the recipient sees the message. A hit from one of the ranges below is *suspect*.
  The list is short and dated; operators add ranges with ``SCANNER_NETWORKS``.
- **Bursts.** A scanner follows every link of a message within seconds; a person does not
  open three different documents in ten. :func:`suspect_bursts` names the link hits of
  such a burst, unless the same client showed engagement (a dwell event) meanwhile.
- **Fetched as it was sent.** A share link opened within seconds of being made was fetched
  by the mail system or the chat that carried it (or previewed by the rep), not read by
  its recipient: :func:`fetched_too_soon` names it.

What these rules cannot see is in docs/tracking.md ("Machine opens and scanners").
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

__all__ = [
    "APPLE_NETWORK",
    "KNOWN_SCANNER_NETWORKS",
    "BurstRule",
    "SHARE_SCANNER_SECONDS",
    "LinkHit",
    "ScannerNetworks",
    "fetched_too_soon",
    "machine_open",
    "suspect_bursts",
]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Apple's own /8, from which Mail Privacy Protection's proxy fetches images.
APPLE_NETWORK = ipaddress.ip_network("17.0.0.0/8")
#: The User-Agent Mail Privacy Protection's proxy sends, and nothing else does.
_MPP_USER_AGENT = "Mozilla/5.0"

#: Address ranges of mail security scanners, as their vendors publish them (checked
#: 2026-12): Microsoft Exchange Online Protection (Microsoft 365 "URLs and IP address
#: ranges", Exchange Online), and Proofpoint's hosted service (Proofpoint support: the
#: networks its appliances and cloud run from).
KNOWN_SCANNER_NETWORKS: tuple[tuple[str, str], ...] = (
    ("40.92.0.0/15", "Microsoft Exchange Online Protection"),
    ("40.107.0.0/16", "Microsoft Exchange Online Protection"),
    ("52.100.0.0/14", "Microsoft Exchange Online Protection"),
    ("104.47.0.0/17", "Microsoft Exchange Online Protection"),
    ("2a01:111:f400::/48", "Microsoft Exchange Online Protection"),
    ("67.231.144.0/20", "Proofpoint"),
    ("148.163.128.0/19", "Proofpoint"),
    ("208.84.64.0/22", "Proofpoint"),
    ("208.86.200.0/22", "Proofpoint"),
)


def _address(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def machine_open(user_agent: str, ip: str) -> str | None:
    """Why a pixel hit is a machine open (Apple Mail Privacy Protection), if it is one."""
    if user_agent.strip() == _MPP_USER_AGENT:
        return "Apple Mail Privacy Protection: bare Mozilla/5.0 image fetch"
    address = _address(ip)
    if address is not None and address in APPLE_NETWORK and "AppleWebKit/" not in user_agent:
        return "Apple Mail Privacy Protection: image fetch from Apple's network"
    return None


#: A share link opened sooner than this after it was made is a scanner's fetch.
SHARE_SCANNER_SECONDS = 5.0


def fetched_too_soon(
    created_at: datetime, fetched_at: datetime, seconds: float = SHARE_SCANNER_SECONDS
) -> str | None:
    """Why an open of a link made at ``created_at`` is a scanner's, if it came too soon."""
    age = (fetched_at - created_at).total_seconds()
    if age >= seconds:
        return None
    return f"fetched {max(age, 0.0):.1f} s after the link was made"


class ScannerNetworks:
    """The known scanner ranges, built once; :meth:`owner` names the one an address is in."""

    def __init__(self, extra: Iterable[str] = ()) -> None:
        named = [(ipaddress.ip_network(cidr), name) for cidr, name in KNOWN_SCANNER_NETWORKS]
        named += [(ipaddress.ip_network(cidr.strip(), strict=False), "configured scanner network")
                  for cidr in extra if cidr.strip()]
        self._networks: tuple[tuple[IPNetwork, str], ...] = tuple(named)

    def owner(self, ip: str) -> str | None:
        address = _address(ip)
        if address is None:
            return None
        for network, name in self._networks:
            if address.version == network.version and address in network:
                return name
        return None


@dataclass(frozen=True)
class LinkHit:
    """What the burst rule needs of one tracked-link hit."""

    event_id: UUID
    client: str
    asset_id: str
    received_at: datetime


@dataclass(frozen=True)
class BurstRule:
    """``links`` distinct assets' links from one client within ``window``: a scanner."""

    window: timedelta = timedelta(seconds=10)
    links: int = 3

    def describe(self, assets: int, span: timedelta) -> str:
        seconds = span.total_seconds()
        within = f"{seconds:.1f} s" if seconds >= 0.1 else "under 0.1 s"
        return f"burst: {assets} different links in {within} from one client, no engagement"


def suspect_bursts(
    hits: Sequence[LinkHit], engaged_clients: Iterable[str], rule: BurstRule
) -> Mapping[UUID, str]:
    """The hits that belong to a burst, each with its reason.

    ``hits`` holds every link hit of the clients concerned around the ones being judged
    (a burst can straddle two decisions). A hit is suspect when, within ``rule.window``
    either side of it, its client opened links to at least ``rule.links`` distinct assets,
    and the client showed no engagement. The rest are absent from the result.
    """
    engaged = set(engaged_clients)
    by_client: dict[str, list[LinkHit]] = defaultdict(list)
    for hit in hits:
        if hit.client not in engaged:
            by_client[hit.client].append(hit)
    suspect: dict[UUID, str] = {}
    for client_hits in by_client.values():
        client_hits.sort(key=lambda h: h.received_at)
        for hit in client_hits:
            near = [h for h in client_hits
                    if abs(h.received_at - hit.received_at) <= rule.window]
            assets = {h.asset_id for h in near}
            if len(assets) >= rule.links:
                span = near[-1].received_at - near[0].received_at
                suspect[hit.event_id] = rule.describe(len(assets), span)
    return suspect
