"""Rating math: count, mean and the Bayesian average. Pure: no IO, no clock.

Why a Bayesian average: one 5-star vote must not outrank forty votes averaging 4.6.
Every asset starts with ``weight`` imaginary votes at the catalog-wide mean (the prior);
real votes pull it away from there, and the more votes, the less the prior matters.
With no ratings anywhere in the catalog the prior is 3.0, the midpoint of the 1-5 scale:
the neutral value that claims neither "good" nor "bad".

Arithmetic is exact (fractions) and rounded once at the end, so the properties below
hold for the floats too: the average stays in [1, 5], between the mean and the prior,
and never drops when a 5-star vote is added.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

__all__ = [
    "SCALE_MIDPOINT",
    "STARS",
    "Histogram",
    "Prior",
    "Score",
    "bayesian_average",
    "prior_from",
    "score",
]

STARS = (1, 2, 3, 4, 5)
#: The prior when nothing in the catalog is rated: the middle of the 1-5 scale.
SCALE_MIDPOINT = 3.0


@dataclass(frozen=True)
class Histogram:
    """How many current ratings of each star value, 1 to 5."""

    counts: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)

    def __post_init__(self) -> None:
        if len(self.counts) != len(STARS) or any(n < 0 for n in self.counts):
            raise ValueError(f"a histogram is five counts >= 0, got {self.counts!r}")

    @classmethod
    def of(cls, counts: Mapping[int, int]) -> Histogram:
        """From ``{stars: ratings}``; missing star values count zero."""
        unknown = set(counts) - set(STARS)
        if unknown:
            raise ValueError(f"stars go from 1 to 5, got {sorted(unknown)!r}")
        c = [int(counts.get(stars, 0)) for stars in STARS]
        return cls((c[0], c[1], c[2], c[3], c[4]))

    def plus(self, stars: int, ratings: int = 1) -> Histogram:
        """This histogram with ``ratings`` more votes of ``stars``."""
        return Histogram.of({s: n + (ratings if s == stars else 0) for s, n in self.items()})

    def items(self) -> list[tuple[int, int]]:
        return list(zip(STARS, self.counts))

    @property
    def count(self) -> int:
        return sum(self.counts)

    @property
    def total_stars(self) -> int:
        return sum(stars * n for stars, n in self.items())

    @property
    def mean(self) -> float | None:
        """Average stars, or None when nobody rated (0 would read as "terrible")."""
        return self.total_stars / self.count if self.count else None

    def as_json(self) -> dict[str, int]:
        return {str(stars): n for stars, n in self.items()}


@dataclass(frozen=True)
class Prior:
    """The imaginary votes every asset starts with: ``weight`` votes at ``mean`` stars."""

    mean: float
    weight: float

    def __post_init__(self) -> None:
        if not 1.0 <= self.mean <= 5.0:
            raise ValueError(f"a prior mean is between 1 and 5, got {self.mean!r}")
        if not (math.isfinite(self.weight) and self.weight >= 0):
            raise ValueError(f"a prior weight is a finite number >= 0, got {self.weight!r}")


@dataclass(frozen=True)
class Score:
    histogram: Histogram
    mean: float | None
    bayesian_average: float
    prior: Prior

    @property
    def count(self) -> int:
        return self.histogram.count


def prior_from(catalog: Histogram, weight: float) -> Prior:
    """The catalog-wide mean as the prior; the scale midpoint when nothing is rated."""
    mean = catalog.mean
    return Prior(SCALE_MIDPOINT if mean is None else mean, weight)


def bayesian_average(ratings: Histogram, prior: Prior) -> float:
    """(weight x prior mean + sum of stars) / (weight + number of ratings).

    With no ratings and a zero weight there is nothing to average: the prior mean is
    returned, as it is for no ratings and any weight.
    """
    if ratings.count == 0:
        return prior.mean  # (weight x mean + 0) / weight, or nothing to average at all
    weight = Fraction(prior.weight)
    votes = weight + ratings.count
    return float((weight * Fraction(prior.mean) + ratings.total_stars) / votes)


def score(ratings: Histogram, catalog: Histogram, weight: float) -> Score:
    """One asset's figures for one window, against the whole catalog in the same window."""
    prior = prior_from(catalog, weight)
    return Score(ratings, ratings.mean, bayesian_average(ratings, prior), prior)
