"""The figures of an analysis report (研判报告) as plain dataclasses: what `report_data` gathers and the PDF
and XLSX renderers draw. Names of indicators, bands, levels and warning states in Chinese, as printed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from civicgrid.safety.models import INDICATOR_NAMES_ZH
from civicgrid.safety.periods import Period

OTHER = "other"
INDICATOR_NAMES = {**INDICATOR_NAMES_ZH, OTHER: "其他警情"}
BAND_NAMES = {"green": "绿", "yellow": "黄", "orange": "橙", "red": "红"}
LEVEL_NAMES = {"city": "市", "district": "区县", "street": "街道", "community": "社区", "grid": "网格"}
WARNING_KIND_NAMES = {"surge": "警情突增", "rule": "规则预警", "hotspot": "热点预测"}
WARNING_STATUS_NAMES = {"open": "待处理", "acknowledged": "已确认", "closed": "已关闭"}
SEVERITY_NAMES = {"notice": "提示", "serious": "严重", "interview": "约谈", "fatal": "亡人"}


@dataclass(frozen=True)
class ReportArea:
    code: str
    name: str
    full_name: str  # with its ancestors: 蚌埠市龙子湖区
    level: str


@dataclass(frozen=True)
class ReportPeriod:
    type: str  # week | month
    start: date
    end: date  # the period's last day
    until: date  # the last day the report covers (before `end` while the period runs)

    @property
    def complete(self) -> bool:
        return self.until >= self.end

    @property
    def days(self) -> int:
        return (self.until - self.start).days + 1

    @property
    def period(self) -> Period:
        return Period(self.type, self.start)

    @property
    def label(self) -> str:
        """2026年第47周 or 2026年11月."""
        if self.type == "week":
            iso = self.start.isocalendar()
            return f"{iso.year}年第{iso.week}周"
        return f"{self.start.year}年{self.start.month}月"

    @property
    def span(self) -> str:
        """The days covered: 2026-11-16 至 2026-11-22 (截至 … while the period runs)."""
        text = f"{self.start.isoformat()} 至 {self.until.isoformat()}"
        return text if self.complete else f"{text}（本期截至 {self.until.isoformat()}，未满 {self.end.isoformat()}）"

    def previous(self) -> tuple[date, date]:
        """The days the report compares with: the whole previous period, or its first days as many as this
        period has had so far (a running month against the same days of the month before)."""
        previous = self.period.previous()
        if self.complete:
            return previous.start, previous.end
        return previous.start, min(previous.end, previous.start + timedelta(days=self.days - 1))


@dataclass
class Component:
    indicator: str
    name: str
    weight: float
    observed: int
    rate: float | None
    expected_rate: float | None
    ratio: float
    score: float
    contribution: float


@dataclass
class ChildScore:
    code: str
    name: str
    score: float
    band: str
    events: int
    population: int


@dataclass
class IndexSection:
    score: float
    band: str
    previous_score: float | None
    previous_band: str | None
    stored: bool
    population: int
    per_residents: int
    deaths: int
    deduction: float
    config_name: str
    components: list[Component]
    children: list[ChildScore]
    children_level: str | None

    @property
    def change(self) -> float | None:
        return None if self.previous_score is None else round(self.score - self.previous_score, 1)


@dataclass
class IndexPoint:
    start: date
    label: str
    score: float
    band: str


@dataclass
class DayRow:
    day: date
    calls: dict[str, int]
    calls_total: int
    cases_reported: int
    cases_closed: int


@dataclass
class TrendSection:
    index_points: list[IndexPoint]
    indicators: list[str]
    days: list[DayRow]
    cases_shown: bool


@dataclass
class CategoryRow:
    code: str
    name: str
    count: int
    previous: int

    @property
    def change(self) -> float | None:
        """Relative change against the previous period (None when it had none)."""
        return (self.count - self.previous) / self.previous if self.previous else None


@dataclass
class CategoriesSection:
    previous_first: date
    previous_last: date
    calls: list[CategoryRow]
    calls_total: int
    calls_previous: int
    crime_order: int
    crime_order_previous: int
    cases: list[CategoryRow] | None  # None when the requester may not read cases
    cases_total: int
    cases_previous: int


@dataclass
class HotspotUnit:
    rank: int
    name: str
    grid_code: str | None
    expected: float  # events expected in the unit over the next period
    density: float  # the same per km² (what units are ranked by)
    recent_events: int  # events of the training window (the year before the next period)


@dataclass
class AreaCalls:
    code: str
    name: str
    population: int
    calls: int
    per_10k: float | None


@dataclass
class HotspotsSection:
    method: str
    target_start: date | None
    target_end: date | None
    units: list[HotspotUnit]
    areas: list[AreaCalls]
    training_events: int | None
    forecast_note: str | None = None


@dataclass
class OverdueCase:
    code: str
    category: str
    unit: str
    due: datetime
    days_overdue: float


@dataclass
class OverdueSection:
    as_of: datetime
    count: int
    cases: list[OverdueCase]


@dataclass
class WarningRow:
    id: int
    kind: str
    area: str
    subject: str
    title: str
    severity: str
    status: str
    first_day: date
    last_day: date
    case_code: str | None
    close_note: str | None


@dataclass
class WarningsSection:
    total: int
    by_status: dict[str, int]
    by_kind: dict[str, int]
    with_case: int
    rows: list[WarningRow]


@dataclass
class ReportData:
    area: ReportArea
    period: ReportPeriod
    title: str
    generated_at: datetime
    tz: str
    index: IndexSection | None = None
    trend: TrendSection | None = None
    categories: CategoriesSection | None = None
    hotspots: HotspotsSection | None = None
    overdue: OverdueSection | None = None
    warnings: WarningsSection | None = None
    summary: str = ""
    notes: list[str] = field(default_factory=list)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(ZoneInfo(self.tz))


def number(n: float) -> str:
    return f"{n:,.0f}"


def percent(change: float | None) -> str:
    return "—" if change is None else f"{change * 100:+.0f}%"


# -- the tables both renderers print --------------------------------------------------------------------------

Cell = str | int | float | date | None
# Column formats: text, int, float1 (one decimal), float2, ratio (relative change), date, datetime.
Format = str


@dataclass
class Table:
    """One table of the report: the PDF prints it, the XLSX writes it with native number formats."""

    title: str
    headers: list[str]
    formats: list[Format]
    widths: list[float]  # relative column widths on the page
    rows: list[list[Cell]] = field(default_factory=list)
    band_column: int | None = None  # a column holding a band (green … red), coloured in both files
    note: str | None = None


def _ratio(count: int, previous: int) -> float | None:
    return (count - previous) / previous if previous else None


def component_table(ix: IndexSection) -> Table:
    per = f"每{ix.per_residents // 10_000}万人" if ix.per_residents >= 10_000 else f"每{ix.per_residents}人"
    table = Table(
        "分项构成",
        ["指标", "权重", "本期数（起）", f"发生率（{per}）", f"期望发生率（{per}）", "实际/期望", "分项得分", "贡献"],
        ["text", "float2", "int", "float2", "float2", "float2", "float1", "float1"],
        [1.4, 0.8, 1.1, 1.3, 1.5, 1.0, 1.0, 0.9],
    )
    for c in ix.components:
        table.rows.append([c.name, c.weight, c.observed, c.rate, c.expected_rate, c.ratio, c.score, c.contribution])
    return table


def children_table(ix: IndexSection) -> Table:
    level = LEVEL_NAMES.get(ix.children_level or "", "下辖区域")
    table = Table(
        f"下辖{level}得分排名（由低到高）",
        ["排名", "区域", "得分", "等级", "计入警情（起）", "常住人口"],
        ["int", "text", "float1", "text", "int", "int"],
        [0.6, 2.6, 0.9, 0.8, 1.3, 1.2],
        band_column=3,
    )
    for rank, c in enumerate(ix.children, start=1):
        table.rows.append([rank, c.name, c.score, c.band, c.events, c.population])
    if not ix.children:
        table.note = "本期下辖区域尚无已计算的指数。"
    return table


def index_trend_table(trend: TrendSection) -> Table:
    table = Table(
        "平安指数近 12 期",
        ["期", "起始日", "得分", "等级"],
        ["text", "date", "float1", "text"],
        [1, 1.2, 1, 1],
        band_column=3,
    )
    for p in trend.index_points:
        table.rows.append([p.label, p.start, p.score, p.band])
    if not trend.index_points:
        table.note = "尚无已计算的指数。"
    return table


def daily_table(trend: TrendSection) -> Table:
    names = [INDICATOR_NAMES.get(i, i) for i in trend.indicators]
    headers = ["日期", *names, "警情合计"]
    formats = ["date", *(["int"] * len(names)), "int"]
    widths = [1.3, *([1.0] * len(names)), 1.0]
    if trend.cases_shown:
        headers += ["新增事件", "其中已办结"]
        formats += ["int", "int"]
        widths += [1.0, 1.0]
    table = Table("每日警情与事件", headers, formats, widths)
    for d in trend.days:
        row: list[Cell] = [d.day, *(d.calls.get(i, 0) for i in trend.indicators), d.calls_total]
        if trend.cases_shown:
            row += [d.cases_reported, d.cases_closed]
        table.rows.append(row)
    return table


def calls_table(c: CategoriesSection) -> Table:
    table = Table(
        "警情类别",
        ["类别", "本期（起）", "上期（起）", "环比"],
        ["text", "int", "int", "ratio"],
        [2.4, 1.2, 1.2, 1.0],
    )
    for row in c.calls:
        table.rows.append([row.name, row.count, row.previous, row.change])
    table.rows.append(["合计", c.calls_total, c.calls_previous, _ratio(c.calls_total, c.calls_previous)])
    return table


def cases_table(c: CategoriesSection) -> Table:
    table = Table(
        "事件类别（前 10）",
        ["类别代码", "类别", "本期（件）", "上期（件）", "环比"],
        ["text", "text", "int", "int", "ratio"],
        [1.0, 2.4, 1.1, 1.1, 1.0],
    )
    for row in c.cases or []:
        table.rows.append([row.code, row.name, row.count, row.previous, row.change])
    table.rows.append(["", "全部事件", c.cases_total, c.cases_previous, _ratio(c.cases_total, c.cases_previous)])
    return table


def hotspot_units_table(h: HotspotsSection) -> Table:
    span = f"{h.target_start} 至 {h.target_end}" if h.target_start else "下期"
    table = Table(
        f"下期（{span}）预测热点网格",
        ["排名", "网格", "网格代码", "预计警情（起）", "每平方公里预计", "近一年警情（起）"],
        ["int", "text", "text", "float2", "float2", "int"],
        [0.6, 2.4, 1.8, 1.1, 1.2, 1.2],
    )
    for u in h.units:
        table.rows.append([u.rank, u.name, u.grid_code, u.expected, u.density, u.recent_events])
    if h.forecast_note:
        table.note = h.forecast_note
    elif not h.units:
        table.note = "训练期内没有带坐标的警情，无法预测。"
    return table


def hotspot_areas_table(h: HotspotsSection) -> Table:
    table = Table(
        "每万人警情最多的下辖区域",
        ["排名", "区域", "常住人口", "警情（起）", "每万人警情"],
        ["int", "text", "int", "int", "float1"],
        [0.6, 2.6, 1.2, 1.1, 1.2],
    )
    for rank, a in enumerate(h.areas, start=1):
        table.rows.append([rank, a.name, a.population, a.calls, a.per_10k])
    if not h.areas:
        table.note = "没有下辖区域。"
    return table


def overdue_table(o: OverdueSection) -> Table:
    table = Table(
        "超期时间最长的事件",
        ["事件编号", "类别", "处置单位", "应办结时间", "超期（天）"],
        ["text", "text", "text", "datetime", "float1"],
        [1.9, 1.8, 2.0, 1.6, 0.9],
    )
    for c in o.cases:
        table.rows.append([c.code, c.category, c.unit, c.due, c.days_overdue])
    if not o.cases:
        table.note = "没有超期未办结的事件。"
    return table


def warnings_table(w: WarningsSection, limit: int | None = None) -> Table:
    table = Table(
        "预警明细",
        ["类型", "区域", "预警内容", "级别", "状态", "起", "止", "关联事件", "处置说明"],
        ["text", "text", "text", "text", "text", "date", "date", "text", "text"],
        [0.8, 1.3, 2.9, 0.6, 0.8, 1.1, 1.1, 1.5, 1.9],
    )
    rows = w.rows if limit is None else w.rows[:limit]
    for r in rows:
        table.rows.append(
            [
                WARNING_KIND_NAMES.get(r.kind, r.kind),
                r.area,
                r.title,
                SEVERITY_NAMES.get(r.severity, r.severity),
                WARNING_STATUS_NAMES.get(r.status, r.status),
                r.first_day,
                r.last_day,
                r.case_code,
                r.close_note,
            ]
        )
    if not w.rows:
        table.note = "本期没有预警。"
    elif len(rows) < w.total:
        table.note = f"共 {w.total} 条，此处列出最严重的 {len(rows)} 条（按级别、日期）。"
    return table
