"""95% intervals the alert rules compare, each checkable with a pocket calculator. Pure.

- the share of 4-5 star ratings: the Wilson score interval (as the score's ranking uses);
- a count of views: Byar's approximation of the exact (Garwood) Poisson interval, within
  a few percent of it even at a count of 0 (upper 3.67 against the exact 3.69);
- a mean of stars between 1 and 5 without its spread: a normal interval with the largest
  variance any ratings of that mean can have, (mean - 1)(5 - mean) (Bhatia-Davis), so it
  is never narrower than the true one.
"""

from __future__ import annotations

import math

from shared.scoring import wilson_interval as shared_wilson_interval

__all__ = ["Z95", "mean_stars_upper", "poisson_interval", "wilson_interval"]

#: Two-sided 95%: each bound is a 97.5% one-sided bound.
Z95 = 1.959963984540054


def wilson_interval(positive: int, total: int, z: float = Z95) -> tuple[float, float]:
    """Interval of the true positive share after ``positive`` of ``total``; (0, 1) at 0.
    The same Wilson interval the score's ranking uses, at the exact 95% z."""
    return shared_wilson_interval(positive, total, z)


def poisson_interval(count: int, z: float = Z95) -> tuple[float, float]:
    """Interval of the true rate behind an observed ``count`` (Byar)."""
    if count < 0:
        raise ValueError("count must not be negative")
    lower = 0.0
    if count > 0:
        lower = count * (1 - 1 / (9 * count) - z / (3 * math.sqrt(count))) ** 3
    upper = (count + 1) * (1 - 1 / (9 * (count + 1)) + z / (3 * math.sqrt(count + 1))) ** 3
    return max(0.0, lower), upper


def mean_stars_upper(mean: float, count: int, z: float = Z95) -> float:
    """Upper bound of the true mean behind ``count`` ratings averaging ``mean`` stars."""
    if count <= 0:
        return 5.0
    spread = max(0.0, (mean - 1.0) * (5.0 - mean))
    return min(5.0, mean + z * math.sqrt(spread / count))
