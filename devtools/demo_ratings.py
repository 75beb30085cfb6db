"""Demo ratings: a dozen sales reps rate the sample catalog over 120 days. Pure: ``now``
and the seed go in, the ratings come out; no IO and no clock."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["DEMO_RATERS", "DemoRating", "generate_ratings"]

#: Sales reps who rate (the first six are the reps in the traffic history).
DEMO_RATERS: tuple[tuple[str, str], ...] = tuple(
    (f"{handle}@northwind.example.com", name)
    for handle, name in (
        ("ana.lopez", "Ana Lopez"), ("ben.carter", "Ben Carter"),
        ("chloe.martin", "Chloe Martin"), ("david.kim", "David Kim"),
        ("emma.novak", "Emma Novak"), ("farid.haddad", "Farid Haddad"),
        ("grace.oduya", "Grace Oduya"), ("hiro.tanaka", "Hiro Tanaka"),
        ("ines.moreau", "Ines Moreau"), ("jonas.berg", "Jonas Berg"),
        ("kira.patel", "Kira Patel"), ("liam.walsh", "Liam Walsh"),
    )
)

#: What sales thinks of each asset, as a mean star value: the story the demo tells.
_QUALITY: dict[str, float] = {
    "platform-overview-2026": 4.3, "pricing-sheet-2026": 4.5,
    "security-compliance-brief": 4.0, "contoso-logistics-case-study": 4.6,
    "tailspin-retail-case-study": 3.4, "fabrikam-finance-case-study": 2.6,
    "blog-zero-etl-explained": 3.6, "blog-2025-data-team-benchmark": 2.9,
    "video-five-minute-tour": 4.1, "webinar-live-forecasting-replay": 2.2,
    "enterprise-pitch-deck": 3.8, "partner-program-deck": 2.4, "roi-calculator": 4.4,
}

_WHY = {
    1: ("Outdated numbers; I had to apologise for it.", "Nobody reads this far."),
    2: ("Too long for a first call.", "Prospects asked questions it doesn't answer.",
        "Wrong audience: this is for engineers, not buyers."),
    3: ("OK, but the pricing slide is confusing.", "Useful background, not a closer."),
    4: ("Good for follow-ups after discovery.", "Clear and short."),
    5: ("Closed two deals with this.", "My go-to after every demo.",
        "Prospects forward it to their CFO."),
}


@dataclass(frozen=True)
class DemoRating:
    rater_email: str
    asset_id: str
    stars: int
    comment: str | None
    rated_at: datetime


def generate_ratings(now: datetime, seed: int = 7, days: int = 120) -> list[DemoRating]:
    rng = random.Random(seed)
    ratings: list[DemoRating] = []
    for email, _ in DEMO_RATERS:
        for asset_id, quality in _QUALITY.items():
            if rng.random() > 0.7:
                continue
            stars = min(5, max(1, round(rng.gauss(quality, 0.8))))
            comment = rng.choice(_WHY[stars]) if rng.random() < 0.35 else None
            rated_at = now - timedelta(days=rng.uniform(0.5, days - 1))
            ratings.append(DemoRating(email, asset_id, stars, comment, rated_at))
    return ratings
