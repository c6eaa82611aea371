"""The make-up of the demo case history: how often each category is reported and when, by which channel,
at which rung it is closed, how long it takes, and the words of its description.

The figures are plausible, not measured: they follow the shape of published grid-platform statistics
(市容环境 and 民生服务 lead, then 矛盾纠纷 and 安全隐患; most cases closed within the grid — Ningbo reports
99.89 %, our mix ~85 % grid and ~10 % community so that the higher rungs have something to show).
"""

from __future__ import annotations

from typing import Final

# Leaf category → relative frequency (per mille of all reports, before seasons).
CATEGORY_WEIGHTS: Final[dict[str, float]] = {
    "0101": 62,
    "0102": 28,
    "0103": 18,
    "0104": 36,
    "0105": 5,
    "0201": 22,
    "0202": 5,
    "0203": 32,
    "0204": 12,
    "0301": 40,
    "0302": 14,
    "0303": 9,
    "0304": 38,
    "0305": 36,
    "0401": 58,
    "0402": 38,
    "0403": 28,
    "0404": 18,
    "0405": 46,
    "0501": 30,
    "0502": 125,
    "0503": 38,
    "0504": 80,
    "0505": 52,
    "0506": 30,
    "0601": 3,
    "0602": 1,
    "0603": 3,
    "0604": 2,
    "0701": 40,
    "0702": 30,
}

# Seasonal terms: (categories, kind, amplitude). "summer": 1 + a·cos(2π(day − 16 July)/year);
# "heating": ×(1 + a) in the heating season (15 Nov – 15 Mar); "months": ×(1 + a) in the months listed.
SEASONS: Final[tuple[tuple[tuple[str, ...], str, float, tuple[int, ...]], ...]] = (
    (("0501", "0502", "0504", "0506"), "summer", 0.45, ()),
    (("0503", "0505"), "summer", 0.2, ()),
    (("0301", "0302", "0305"), "heating", 0.6, ()),
    (("0303",), "months", 0.8, (6, 7, 8)),  # rain
    (("0401",), "months", 0.35, (1, 2, 7, 8, 12)),  # cold snaps and heat waves
    (("0603",), "months", 2.5, (6, 7, 8)),
    (("0404",), "months", 1.5, (8, 9)),
    (("0103",), "months", 1.2, (12, 1)),  # wages before the Spring Festival
    (("0102", "0101"), "months", 0.2, (1, 2)),
)
WEEKDAY_FACTORS: Final = (1.10, 1.08, 1.06, 1.05, 1.00, 0.78, 0.72)  # Monday … Sunday
HOLIDAY_FACTOR: Final = 0.65
YEARLY_GROWTH: Final = 0.08  # more reports as the platform is adopted

SOURCES: Final = ("grid_worker", "resident", "hotline_12345", "open311", "iot", "video", "volunteer", "sos", "centre")
# Class → channel weights, in the order of SOURCES.
SOURCE_MIX: Final[dict[str, tuple[float, ...]]] = {
    "01": (50, 15, 25, 2, 0, 0, 3, 0, 5),
    "02": (42, 12, 10, 1, 0, 15, 18, 1, 1),
    "03": (52, 12, 13, 2, 12, 4, 4, 0, 1),
    "04": (30, 22, 42, 4, 0, 0, 1, 0, 1),
    "05": (56, 17, 13, 3, 2, 7, 2, 0, 0),
    "06": (40, 5, 25, 0, 5, 10, 5, 10, 0),
    "07": (18, 30, 46, 6, 0, 0, 0, 0, 0),
}
RESIDENT_SOURCES: Final = ("resident", "hotline_12345", "open311")
# Hour-of-day weights (0–23) for people on patrol, for the public, and for machines.
HOURS_PATROL: Final = (0, 0, 0, 0, 0, 0, 1, 3, 9, 12, 12, 9, 4, 3, 9, 11, 10, 8, 3, 1, 1, 0, 0, 0)
HOURS_PUBLIC: Final = (1, 0.5, 0.3, 0.2, 0.3, 0.6, 2, 4, 7, 8, 8, 7, 6, 6, 7, 7, 7, 7, 8, 9, 9, 7, 4, 2)
HOURS_MACHINE: Final = (3, 3, 3, 3, 3, 3, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 4, 3)
PATROL_SOURCES: Final = ("grid_worker", "volunteer", "centre")
MACHINE_SOURCES: Final = ("iot", "video")

# Class → shares closed at grid, community, street, district, city (leaf overrides below).
CLOSURE_MIX: Final[dict[str, tuple[float, ...]]] = {
    "01": (0.80, 0.145, 0.042, 0.011, 0.002),
    "02": (0.83, 0.11, 0.045, 0.012, 0.003),
    "03": (0.84, 0.105, 0.042, 0.011, 0.002),
    "04": (0.86, 0.105, 0.028, 0.006, 0.001),
    "05": (0.89, 0.08, 0.024, 0.005, 0.001),
    "06": (0.55, 0.22, 0.15, 0.06, 0.02),
    "07": (0.93, 0.055, 0.012, 0.002, 0.001),
}
CLOSURE_OVERRIDES: Final[dict[str, tuple[float, ...]]] = {
    "0105": (0.40, 0.30, 0.20, 0.08, 0.02),
    "0303": (0.55, 0.25, 0.15, 0.04, 0.01),
    "0503": (0.60, 0.22, 0.14, 0.03, 0.01),
}
# Handling time (accepted or dispatched → handled): leaf → (median hours at the grid, log-normal sigma).
HANDLING: Final[dict[str, tuple[float, float]]] = {
    "0101": (20, 0.9),
    "0102": (26, 0.9),
    "0103": (30, 0.8),
    "0104": (30, 0.9),
    "0105": (90, 0.9),
    "0201": (5, 0.8),
    "0202": (10, 0.8),
    "0203": (24, 0.9),
    "0204": (24, 0.9),
    "0301": (10, 0.8),
    "0302": (2.5, 0.7),
    "0303": (30, 0.9),
    "0304": (20, 0.9),
    "0305": (8, 0.8),
    "0401": (5, 0.8),
    "0402": (36, 0.8),
    "0403": (26, 0.9),
    "0404": (36, 0.9),
    "0405": (36, 0.9),
    "0501": (5, 0.7),
    "0502": (9, 0.8),
    "0503": (90, 0.9),
    "0504": (8, 0.9),
    "0505": (24, 0.8),
    "0506": (30, 0.9),
    "0601": (2, 0.6),
    "0602": (4, 0.7),
    "0603": (12, 0.8),
    "0604": (12, 0.8),
    "0701": (18, 0.9),
    "0702": (36, 0.9),
}
# Handling takes longer the higher the rung that handles it (grid … city).
LEVEL_SLOWDOWN: Final = (1.0, 1.7, 2.3, 2.8, 3.2)
# Other steps: (median hours, sigma).
ACCEPT_DELAY: Final = (1.2, 1.0)  # at most ACCEPT_SHARE of the acceptance limit (urgent cases go faster)
ACCEPT_SHARE: Final = 0.12
ESCALATE_DELAY: Final = (3.0, 0.8)
SIGN_DELAY: Final = (1.5, 0.8)
START_DELAY: Final = (0.4, 1.0)
VERIFY_DELAY: Final = (3.0, 0.9)
RATE_DELAY: Final = (14.0, 0.9)
REJECT_SHARE: Final = {"resident": 0.07, "hotline_12345": 0.06, "open311": 0.08}  # others: DEFAULT_REJECT
DEFAULT_REJECT: Final = 0.02
STUCK_SHARE: Final = 0.022  # cases whose handling never finishes (the long open tail)
RATED_SHARE: Final = 0.5  # of the closed reports of residents
SATISFACTION_ON_TIME: Final = (0.02, 0.03, 0.09, 0.27, 0.59)  # 1 … 5
SATISFACTION_LATE: Final = (0.09, 0.11, 0.22, 0.31, 0.27)
URBAN_FACTOR: Final = 1.6  # reports per household in urban grids, relative to villages
URBAN_CLASS_FACTOR: Final[dict[str, float]] = {"05": 1.5, "02": 1.2}
RURAL_CLASS_FACTOR: Final[dict[str, float]] = {"01": 1.3, "0105": 3.0}
HOTSPOTS: Final = 22
HOTSPOT_FACTORS: Final = (3.0, 5.0)

# What the reporter wrote, per class ({p}: the place).
DESCRIPTIONS: Final[dict[str, tuple[str, ...]]] = {
    "01": ("{p}居民反映{c}，双方情绪激动，需上门调解。", "{p}发生{c}，当事人请求网格员协助协调。"),
    "02": ("巡查发现{p}存在{c}，请核查处置。", "群众反映{p}有{c}情况，请尽快核实。"),
    "03": ("巡查发现{p}存在{c}，存在安全风险，请及时整改。", "{p}{c}，已现场提醒，需督促整改。"),
    "04": ("{p}居民来电反映{c}问题，请协调解决。", "{p}群众咨询并反映{c}，需相关部门答复。"),
    "05": ("{p}发现{c}，影响市容和居民出行。", "{p}{c}，请安排清理整治。"),
    "06": ("{p}发生{c}，请立即处置并报告。",),
    "07": ("{p}群众{c}，请研究答复。",),
}
NOTES: Final[dict[str, str]] = {
    "reject": "经核实不属于受理范围，已向反映人解释。",
    "escalate": "网格内无法解决，需上级协调处置。",
    "handle": "已到现场处置完毕，问题已解决。",
    "pass": "现场核查，处置到位。",
    "rate": "",
}
