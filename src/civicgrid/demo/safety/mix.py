"""The make-up of the demo police calls and recorded incidents: which categories each line receives, when
(hour of day, weekday, holiday, season, trend), where (urban or village grids, call hotspots), who is hurt,
which calls become recorded incidents, and the planted surges.

The figures are plausible, not measured. They follow the shape of published 110 statistics: requests for
help and enquiries are the largest share, then disputes, public order and crime; fights, disturbances
and noise at night and at weekends, thefts and fraud in the daytime, accidents in the rush hours, fires
in the heating season, fights and drownings in summer, family disputes and wage arrears round the
Spring Festival; crime slowly falling, telecom fraud rising.
"""

from __future__ import annotations

from typing import Final

CALLS_PER_YEAR: Final = 400_000  # at scale 1: police (110), fire (119) and traffic (122) calls together
YEARS: Final = 3
SOURCES: Final = ("110", "119", "122", "records")
CALL_SOURCES: Final = ("110", "119", "122")
SOURCE_SHARES: Final = (0.85, 0.05, 0.10)  # of the calls, in the order of CALL_SOURCES
RECORDS_SHARE: Final = 0.20  # recorded incidents (案事件), as a share of the calls
RECORDS_DAY_PRECISION: Final = 0.4  # recorded incidents that give only the day

# Source → leaf category → per mille of that line's calls.
SOURCE_MIX: Final[dict[str, dict[str, float]]] = {
    "110": {
        "0101": 60, "0102": 35, "0103": 6, "0104": 15, "0105": 12, "0106": 22, "0199": 10,
        "0201": 45, "0202": 25, "0203": 10, "0204": 55, "0299": 25,
        "0301": 70, "0302": 60, "0303": 45, "0399": 35,
        "0401": 4, "0402": 3,
        "0501": 8, "0502": 35,
        "0601": 200, "0602": 20,
        "0901": 110, "0999": 90,
    },
    "119": {"0401": 520, "0402": 230, "0601": 200, "0999": 50},
    "122": {"0501": 160, "0502": 780, "0601": 30, "0901": 30},
}  # fmt: skip

# Recorded incidents are filed from 110 calls of the criminal and public-order classes, with these
# probabilities (relative; scaled so that the records make RECORDS_SHARE of the calls).
RECORDED: Final[dict[str, float]] = {
    "0101": 0.9, "0102": 0.95, "0103": 1.0, "0104": 0.9, "0105": 1.0, "0106": 0.85, "0199": 0.8,
    "0201": 0.8, "0202": 0.7, "0203": 0.7, "0204": 0.3, "0299": 0.6,
}  # fmt: skip

# Hour-of-day weights (0–23) of each rhythm, and the rhythm of each leaf.
HOURS: Final[dict[str, tuple[float, ...]]] = {
    # fights, disturbances, noise, assault, robbery: late evening and night
    "night": (8, 6, 4.5, 3, 2, 1.2, 1, 1.2, 1.5, 2, 2.3, 2.6, 3, 3, 3, 3.2, 3.5, 4, 4.8, 5.8, 7, 8.5, 9.5, 9.5),
    # thefts, fraud, economic disputes, enquiries: office hours
    "day": (1, 0.6, 0.4, 0.3, 0.3, 0.5, 1.5, 3.5, 6, 8, 8.5, 8.5, 7.5, 7.5, 8, 8.5, 8.5, 8, 6.5, 5, 4, 3, 2, 1.5),
    # family and neighbour disputes, gambling: after work
    "evening": (3, 2, 1.2, 0.8, 0.6, 0.6, 1, 2, 3, 3.5, 4, 4, 4, 4, 4.5, 5, 5.5, 6.5, 8, 9, 9, 8, 6, 4.5),
    # traffic accidents: the rush hours
    "rush": (1.2, 0.8, 0.6, 0.5, 0.6, 1.2, 3, 7.5, 9, 6, 5, 5, 5, 5, 5, 5.5, 6.5, 8.5, 9, 6.5, 4.5, 3.5, 2.5, 1.8),
    # fires: cooking and heating hours, fewer at night
    "fire": (2.5, 2, 1.8, 1.6, 1.5, 1.5, 2, 3, 4, 4.5, 5, 6, 6.5, 6, 6, 6.5, 7, 7.5, 7, 6, 5, 4.5, 4, 3),
    # burglary: homes empty by day, and the small hours
    "burglary": (5, 6, 6, 5, 3, 1.5, 1, 1.5, 3, 5, 6, 6, 5.5, 5.5, 6, 6, 5, 3.5, 2.5, 2, 2, 2.5, 3, 4),
    # help and other calls: the public's day, into the evening
    "public": (2, 1.2, 0.8, 0.6, 0.6, 1, 2, 4, 6, 7, 7.5, 7, 6.5, 6.5, 7, 7, 7, 7.5, 8, 8.5, 8, 6.5, 4.5, 3),
}
RHYTHM: Final[dict[str, str]] = {
    "0101": "day", "0102": "day", "0103": "night", "0104": "night", "0105": "burglary", "0106": "day",
    "0199": "public", "0201": "night", "0202": "night", "0203": "evening", "0204": "night", "0299": "evening",
    "0301": "evening", "0302": "evening", "0303": "day", "0399": "evening", "0401": "fire", "0402": "day",
    "0501": "rush", "0502": "rush", "0601": "public", "0602": "evening", "0901": "day", "0999": "public",
}  # fmt: skip
# Rhythm → weekday factors (Monday … Sunday) and the factor on public holidays.
WEEKDAYS: Final[dict[str, tuple[float, ...]]] = {
    "night": (0.88, 0.86, 0.9, 0.95, 1.15, 1.4, 1.2),
    "day": (1.05, 1.05, 1.05, 1.05, 1.05, 0.9, 0.85),
    "evening": (0.95, 0.95, 0.95, 0.97, 1.02, 1.12, 1.1),
    "rush": (1.06, 1.04, 1.04, 1.04, 1.1, 0.88, 0.84),
    "fire": (1, 1, 1, 1, 1, 1.02, 1.02),
    "burglary": (1, 1, 1, 1, 1, 1.05, 1.05),
    "public": (1, 1, 1, 1, 1.02, 1.02, 1),
}
HOLIDAYS: Final[dict[str, float]] = {
    "night": 1.25, "day": 0.8, "evening": 1.3, "rush": 1.1, "fire": 1.25, "burglary": 1.2, "public": 1.0,
}  # fmt: skip

# Seasonal terms: (leaves, kind, amplitude, months). "summer": 1 + a·cos(2π(day − 16 July)/year);
# "winter": 1 − a·cos(…) (peak in mid-January); "months": ×(1 + a) in the months listed.
SEASONS: Final[tuple[tuple[tuple[str, ...], str, float, tuple[int, ...]], ...]] = (
    (("0201", "0204"), "summer", 0.4, ()),  # fights and noise on summer nights
    (("0202", "0104"), "summer", 0.2, ()),
    (("0106",), "summer", 0.25, ()),
    (("0101",), "summer", 0.1, ()),
    (("0601", "0602"), "summer", 0.3, ()),  # drownings, people lost
    (("0401", "0402"), "winter", 0.35, ()),  # heating, electric blankets, e-bike charging indoors
    (("0301",), "months", 0.5, (1, 2)),  # the Spring Festival at home
    (("0303",), "months", 0.6, (12, 1)),  # wages owed before the New Year
    (("0103",), "months", 0.3, (12, 1)),
    (("0102",), "months", 0.15, (11, 12, 1)),  # online shopping festivals
    (("0501", "0502"), "months", 0.15, (12, 1, 2)),  # fog, the Spring Festival travel
)
# Change per year, by class (leaf overrides).
TRENDS: Final[dict[str, float]] = {"01": -0.05, "0102": 0.10, "02": -0.03, "04": -0.02, "05": 0.03, "06": 0.02}

# Where: every call by the grid's households (plus a floor), urban grids more, by class and leaf.
URBAN_FACTOR: Final = 1.5
URBAN_CLASS_FACTOR: Final[dict[str, float]] = {"01": 1.3, "02": 1.5, "05": 1.2}
RURAL_CLASS_FACTOR: Final[dict[str, float]] = {"0203": 2.0, "0105": 1.5, "04": 1.3, "0501": 1.4}
# The planted case hotspots of demo.cases raise the calls of these classes in their grids as well.
CASE_HOTSPOT_CLASSES: Final = ("01", "02", "03")
# Call hotspots: name → (leaves, how many communities, urban only, factor range). The first grid of each
# chosen community calls this much more often for these leaves; half of those calls crowd round one spot.
CALL_HOTSPOTS: Final[dict[str, tuple[tuple[str, ...], int, bool, tuple[float, float]]]] = {
    "nightlife": (("0201", "0202", "0104", "0204", "0103"), 12, True, (5.0, 9.0)),
    "market": (("0101", "0106"), 10, True, (4.0, 7.0)),
    "blackspot": (("0501", "0502"), 10, False, (4.0, 8.0)),
}
CROWD_SHARE: Final = 0.5  # of a hotspot's calls (for its leaves), round its spot

# Near-repeat: after a theft or burglary, each call brings on average this many follow-ups nearby (in the
# same grid, within NEAR_METRES), after an exponential delay with mean NEAR_DAYS (at most NEAR_MAX_DAYS);
# follow-ups may have follow-ups of their own (NEAR_GENERATIONS deep).
NEAR_REPEAT: Final[dict[str, float]] = {"0105": 0.25, "0106": 0.12, "0101": 0.06}
NEAR_METRES: Final = 60.0
NEAR_DAYS: Final = 6.0
NEAR_MAX_DAYS: Final = 42.0
NEAR_GENERATIONS: Final = 3

# Casualties: leaf → (P(anyone hurt), mean of further injured, P(deaths), mean of further deaths).
# Accidents with casualties (0501) always have an injured person.
CASUALTIES: Final[dict[str, tuple[float, float, float, float]]] = {
    "0401": (0.02, 0.5, 0.001, 0.2),
    "0501": (1.0, 0.5, 0.02, 0.1),
    "0104": (0.7, 0.2, 0.002, 0.0),
    "0201": (0.25, 0.4, 0.0005, 0.0),
    "0103": (0.1, 0.0, 0.0, 0.0),
}

# Planted surges: how many, how many of them in the last RECENT_DAYS, length in days and factor ranges,
# and the class mix. A surge adds (factor − 1) × the community's usual daily count of the class, but at
# least SURGE_MIN_EXTRA a day, so that surges stand out at small scales too.
SURGES: Final = 24
RECENT_SURGES: Final = 6
RECENT_DAYS: Final = 60
SURGE_DAYS: Final = (3, 10)
SURGE_FACTORS: Final = (3.0, 6.0)
SURGE_MIN_EXTRA: Final = 1.5
SURGE_URBAN_SHARE: Final = 0.75
SURGE_CLASSES: Final[dict[str, float]] = {"01": 0.3, "02": 0.35, "03": 0.2, "05": 0.1, "04": 0.05}
SURGE_SOURCE: Final[dict[str, str]] = {"01": "110", "02": "110", "03": "110", "04": "119", "05": "122"}
