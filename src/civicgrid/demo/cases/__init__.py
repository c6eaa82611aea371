"""The demo city's case history (DESIGN.md §10): about 1,039,000 cases over three years at scale 1.

`build_cases(database, scale=…, seed=…)` runs after the city, its accounts and the reference data. It draws
the reports — days by weekday, public holidays, season and a slow growth; hours by channel (patrols in
working hours, residents into the evening, sensors round the clock); the category mix by season (市容环境
in summer, fire, gas and e-bike charging in the heating season, …); the grid by households, urban grids
more, and planted hotspots (`hotspot_communities`: 22 urban communities whose first grid reports 3–5× as
often, half of it round one spot; listed in docs/cases.md) — then each case's path through the workflow
(`timeline`), its deadlines on the work calendar (`workdays`, vectorised) and the cards the SLA scan would
have raised, and writes everything with the bulk loader (`demo.bulk`: COPY on PostgreSQL).

Deterministic for a seed and `now`. The modules, one idea each:

- `mix`: the figures — category weights and seasons, channels, hours, closure levels, durations, texts;
- `workdays`: `VectorCalendar.add_working_days` over arrays;
- `draw`: the reports (time, category, channel, grid, point) and the hotspots;
- `timeline`: each case's steps, deadlines, cards and rating;
- `rows`: the rows of cases, timeline entries, cards and assignments;
- `build`: `build_cases`.
"""

from civicgrid.demo.cases.build import TABLES, TOTAL_CASES, CasesExist, CaseStats, build_cases, case_count
from civicgrid.demo.cases.draw import hotspot_communities

__all__ = ["TABLES", "TOTAL_CASES", "CaseStats", "CasesExist", "build_cases", "case_count", "hotspot_communities"]
