"""The demo city's police calls and recorded incidents (DESIGN.md §8, §10): about 400,000 calls a year at
scale 1 — 110 (85 %), 119 (5 %), 122 (10 %) — and recorded incidents (案事件) filed from a fifth as many, over
three years, with planted hotspots and surges so that the safety index, the warnings and the back-tests
have something to find out of the box.

`build_safety(database, scale=…, seed=…)` runs after the city, the reference data and (when there is one)
the case history; it writes the incidents with the bulk loader, then rebuilds their daily counts and counts
the platform's cases. Deterministic for a seed and `now`. The modules, one idea each:

- `mix`: the figures — category mix per line, rhythms (hour, weekday, holiday, season, trend), where,
  casualties, which calls are recorded, near-repeats, the surge ranges;
- `surges`: `planted_surges` — communities, classes, windows and factors, the same at every scale;
- `draw`: the incidents (time, category, grid, point), call hotspots, surges, near-repeats, records;
- `build`: `build_safety`.
"""

from civicgrid.demo.safety.build import IncidentsExist, SafetyStats, build_safety
from civicgrid.demo.safety.draw import CallHotspot, call_counts, call_hotspots, draw_incidents
from civicgrid.demo.safety.surges import PlantedSurge, planted_surges

__all__ = [
    "CallHotspot",
    "IncidentsExist",
    "PlantedSurge",
    "SafetyStats",
    "build_safety",
    "call_counts",
    "call_hotspots",
    "draw_incidents",
    "planted_surges",
]
