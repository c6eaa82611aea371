"""Names as text: the people's Chinese names from their surname and given-name columns, and random names
and mobile numbers for the contacts of organisations, places, schools and care records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from civicgrid.demo import vocab
from civicgrid.demo.population.model import IntArr, _City
from civicgrid.demo.population.people import _occupation_labels
from civicgrid.demo.population.sampling import _weights


@dataclass
class _Texts:
    surnames: list[str]
    given: list[tuple[str, str, str]]
    occupations: list[str]

    @classmethod
    def make(cls) -> _Texts:
        surnames = [s for s, _ in vocab.SURNAMES]
        surnames += [s for s, _ in vocab.HUI_SURNAMES if s not in surnames]
        given = [vocab.GIVEN[(g, s)] for g in range(4) for s in ("1", "2")]
        return cls(surnames, given, _occupation_labels())


def person_names(city: _City, index: IntArr, texts: _Texts) -> list[str]:
    """Chinese names of the people at `index` (foreigners get their Latin names elsewhere)."""
    out = []
    surnames, pools = texts.surnames, texts.given
    for s, (pool, a, b) in zip(city.p_surname[index].tolist(), city.p_given[index].tolist(), strict=True):
        chars = pools[pool]
        out.append(surnames[s] + (chars[2][a] if b < 0 else chars[0][a] + chars[1][b]))
    return out


def _random_names(rng: np.random.Generator, n: int, texts: _Texts) -> list[str]:
    surnames, weights = _weights(vocab.SURNAMES)
    s = rng.choice(len(surnames), size=n, p=weights)
    pool = rng.integers(2, 6, n)  # adults born 1960–1999
    one = rng.random(n) < 0.3
    out = []
    for si, pi, o, u1, u2 in zip(
        s.tolist(), pool.tolist(), one.tolist(), rng.random(n).tolist(), rng.random(n).tolist(), strict=True
    ):
        chars = texts.given[pi]
        given = (
            chars[2][int(u1 * len(chars[2]))]
            if o
            else chars[0][int(u1 * len(chars[0]))] + chars[1][int(u2 * len(chars[1]))]
        )
        out.append(texts.surnames[si] + given)
    return out


def _phones(rng: np.random.Generator, n: int) -> list[str]:
    prefixes = vocab.MOBILE_PREFIXES
    return [
        f"{prefixes[int(p)]}{int(s):08d}"
        for p, s in zip(
            rng.integers(0, len(prefixes), n).tolist(), rng.integers(0, 100_000_000, n).tolist(), strict=True
        )
    ]
