"""The analysis report as a PDF (ReportLab platypus, A4 portrait).

Chinese text uses Adobe's built-in CID font STSong-Light (`UnicodeCIDFont`): PDF readers supply the glyphs,
so no font file is shipped or embedded. Charts are ReportLab drawings (vector): a bar chart of the index's
components and of the child areas' scores, line charts of the index over 12 periods and of daily police
calls and cases. Tables come from `report_model` (the XLSX writes the same ones).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
)
from reportlab.platypus import (
    Table as PdfTable,
)
from reportlab.platypus import (
    TableStyle as PdfTableStyle,
)
from reportlab.platypus.flowables import Flowable

from civicgrid.command.report_model import (
    BAND_NAMES,
    INDICATOR_NAMES,
    Cell,
    ReportData,
    Table,
    calls_table,
    cases_table,
    children_table,
    component_table,
    hotspot_areas_table,
    hotspot_units_table,
    overdue_table,
    percent,
    warnings_table,
)

FONT = "STSong-Light"
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN
WARNINGS_PRINTED = 40
CHILDREN_CHARTED = 20
BAND_COLOURS = {
    "green": colors.HexColor("#2e7d32"),
    "yellow": colors.HexColor("#f9a825"),
    "orange": colors.HexColor("#ef6c00"),
    "red": colors.HexColor("#c62828"),
}
BAND_TINTS = {
    "green": colors.HexColor("#e8f5e9"),
    "yellow": colors.HexColor("#fff8e1"),
    "orange": colors.HexColor("#fff3e0"),
    "red": colors.HexColor("#ffebee"),
}
SERIES = [
    colors.HexColor("#1565c0"),
    colors.HexColor("#c62828"),
    colors.HexColor("#2e7d32"),
    colors.HexColor("#ef6c00"),
    colors.HexColor("#6a1b9a"),
    colors.HexColor("#757575"),
    colors.HexColor("#00838f"),
]
PREVIOUS = colors.HexColor("#90a4ae")
HEADER_FILL = colors.HexColor("#eceff1")
RULE = colors.HexColor("#b0bec5")


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=15, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", base, fontSize=17, leading=24, alignment=TA_CENTER, spaceAfter=4),
        "meta": ParagraphStyle("meta", base, fontSize=9, leading=13, alignment=TA_CENTER, textColor=colors.grey),
        "h1": ParagraphStyle("h1", base, fontSize=13, leading=19, spaceBefore=10, spaceAfter=5),
        "h2": ParagraphStyle("h2", base, fontSize=10.5, leading=15, spaceBefore=6, spaceAfter=3),
        "body": base,
        "summary": ParagraphStyle(
            "summary", base, fontSize=10.5, leading=17, backColor=colors.HexColor("#f5f7fa"), borderPadding=6
        ),
        "cell": ParagraphStyle("cell", base, fontSize=8, leading=10),
        "note": ParagraphStyle("note", base, fontSize=8, leading=11, textColor=colors.HexColor("#546e7a")),
    }


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cell_text(value: Cell, fmt: str) -> str:
    """A cell as printed: thousands separators, one or two decimals, a signed percentage, local dates."""
    if value is None:
        return "—"
    if fmt == "int" and isinstance(value, int | float):
        return f"{value:,.0f}"
    if fmt == "float1" and isinstance(value, int | float):
        return f"{value:,.1f}"
    if fmt == "float2" and isinstance(value, int | float):
        return f"{value:,.2f}"
    if fmt == "ratio" and isinstance(value, int | float):
        return percent(float(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if fmt == "text" and value in BAND_NAMES:
        return BAND_NAMES[str(value)]
    return str(value)


def _table(table: Table, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    """A table with a repeated header row, numbers right-aligned and the band column coloured."""
    flow: list[Flowable] = [Paragraph(_escape(table.title), styles["h2"])]
    if table.rows:
        total = sum(table.widths)
        widths = [FRAME_WIDTH * w / total for w in table.widths]
        header = [Paragraph(_escape(h), styles["cell"]) for h in table.headers]
        body: list[list[Any]] = [header]
        for row in table.rows:
            cells: list[Any] = []
            for i, (value, fmt) in enumerate(zip(row, table.formats, strict=True)):
                text = cell_text(value, fmt)
                if i == table.band_column and isinstance(value, str):
                    text = BAND_NAMES.get(value, value)
                cells.append(Paragraph(_escape(text), styles["cell"]) if fmt == "text" else text)
            body.append(cells)
        style = [
            ("FONT", (0, 0), (-1, -1), FONT, 8),
            ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
            ("LINEBELOW", (0, 0), (-1, 0), 0.6, RULE),
            ("LINEBELOW", (0, -1), (-1, -1), 0.6, RULE),
            ("INNERGRID", (0, 1), (-1, -1), 0.25, colors.HexColor("#e0e0e0")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]
        for i, fmt in enumerate(table.formats):
            if fmt in ("int", "float1", "float2", "ratio"):
                style.append(("ALIGN", (i, 1), (i, -1), "RIGHT"))
        if table.band_column is not None:
            for r, row in enumerate(table.rows, start=1):
                band = row[table.band_column]
                if isinstance(band, str) and band in BAND_COLOURS:
                    style.append(("BACKGROUND", (table.band_column, r), (table.band_column, r), BAND_TINTS[band]))
                    style.append(("TEXTCOLOR", (table.band_column, r), (table.band_column, r), BAND_COLOURS[band]))
        pdf_table = PdfTable(body, colWidths=widths, repeatRows=1, hAlign="LEFT")
        pdf_table.setStyle(PdfTableStyle(style))
        flow.append(pdf_table)
    if table.note:
        flow.append(Paragraph(_escape(table.note), styles["note"]))
    flow.append(Spacer(1, 4))
    return flow


# -- charts -------------------------------------------------------------------------------------------------


def _title(drawing: Drawing, text: str) -> None:
    drawing.add(String(0, drawing.height - 11, text, fontName=FONT, fontSize=9, fillColor=colors.HexColor("#37474f")))


def _legend(drawing: Drawing, names: Sequence[str], x: float, y: float, fills: Sequence[Any] = SERIES) -> None:
    legend = Legend()
    legend.x, legend.y = x, y
    legend.fontName = FONT
    legend.fontSize = 7.5
    legend.alignment = "right"  # the swatch left of its name
    legend.columnMaximum = 1  # one row: the names side by side
    legend.deltax = 66
    legend.dxTextSpace = 3
    legend.dx = 7
    legend.dy = 7
    legend.colorNamePairs = [(fills[i % len(fills)], name) for i, name in enumerate(names)]
    drawing.add(legend)


def components_chart(data: ReportData) -> Drawing | None:
    """The component scores (0–100) of the index, one bar per indicator."""
    if data.index is None or not data.index.components:
        return None
    components = data.index.components
    height = 40 + 22 * len(components)
    drawing = Drawing(FRAME_WIDTH, height)
    _title(drawing, "分项得分（0–100）")
    chart = HorizontalBarChart()
    chart.x, chart.y = 70, 18
    chart.width, chart.height = FRAME_WIDTH - 110, height - 40
    chart.data = [[c.score for c in reversed(components)]]
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 20
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.categoryAxis.categoryNames = [c.name for c in reversed(components)]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 8
    chart.bars[0].fillColor = SERIES[0]
    chart.bars[0].strokeColor = None
    chart.barLabelFormat = "%.1f"
    chart.barLabels.fontName = FONT
    chart.barLabels.fontSize = 7
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    drawing.add(chart)
    return drawing


def children_chart(data: ReportData) -> Drawing | None:
    """The child areas' scores, worst first, each bar in its band's colour."""
    if data.index is None or len(data.index.children) < 2:
        return None
    children = data.index.children[:CHILDREN_CHARTED]
    height = 40 + 15 * len(children)
    drawing = Drawing(FRAME_WIDTH, height)
    _title(
        drawing, "下辖区域得分（由低到高）" + (f"，前 {CHILDREN_CHARTED} 个" if len(data.index.children) > 20 else "")
    )
    chart = HorizontalBarChart()
    chart.x, chart.y = 110, 18
    chart.width, chart.height = FRAME_WIDTH - 150, height - 40
    shown = list(reversed(children))
    chart.data = [[c.score for c in shown]]
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 20
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.categoryAxis.categoryNames = [c.name[:12] for c in shown]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7
    chart.bars.strokeColor = None
    for i, c in enumerate(shown):
        chart.bars[(0, i)].fillColor = BAND_COLOURS.get(c.band, SERIES[0])
    chart.barLabelFormat = "%.1f"
    chart.barLabels.fontName = FONT
    chart.barLabels.fontSize = 6.5
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    drawing.add(chart)
    return drawing


def _line_chart(
    title: str, labels: list[str], series: list[tuple[str, list[float]]], *, value_max: float | None = None
) -> Drawing:
    height = 190
    drawing = Drawing(FRAME_WIDTH, height)
    _title(drawing, title)
    chart = HorizontalLineChart()
    chart.x, chart.y = 40, 40
    chart.width, chart.height = FRAME_WIDTH - 60, height - 80
    chart.data = [values for _, values in series]
    top = max((max(values) for _, values in series if values), default=0.0)
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = value_max if value_max is not None else max(1.0, top * 1.15)
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#eeeeee")
    step = max(1, len(labels) // 12)
    chart.categoryAxis.categoryNames = [label if i % step == 0 else "" for i, label in enumerate(labels)]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 6.5
    chart.categoryAxis.labels.angle = 30 if len(labels) > 8 else 0
    chart.categoryAxis.labels.boxAnchor = "ne" if len(labels) > 8 else "n"
    for i in range(len(series)):
        chart.lines[i].strokeColor = SERIES[i % len(SERIES)]
        chart.lines[i].strokeWidth = 1.4
    drawing.add(chart)
    if len(series) > 1:
        _legend(drawing, [name for name, _ in series], 40, height - 20)
    return drawing


def index_trend_chart(data: ReportData) -> Drawing | None:
    if data.trend is None or len(data.trend.index_points) < 2:
        return None
    points = data.trend.index_points
    return _line_chart(
        "平安指数近 12 期走势", [p.label for p in points], [("平安指数", [p.score for p in points])], value_max=100
    )


def calls_trend_chart(data: ReportData) -> Drawing | None:
    if data.trend is None or not data.trend.days:
        return None
    t = data.trend
    labels = [d.day.strftime("%m-%d") for d in t.days]
    series = [(INDICATOR_NAMES.get(i, i), [float(d.calls.get(i, 0)) for d in t.days]) for i in t.indicators]
    return _line_chart("每日警情（按指标）", labels, series)


def cases_trend_chart(data: ReportData) -> Drawing | None:
    if data.trend is None or not data.trend.days or not data.trend.cases_shown:
        return None
    t = data.trend
    labels = [d.day.strftime("%m-%d") for d in t.days]
    series = [
        ("新增事件", [float(d.cases_reported) for d in t.days]),
        ("其中已办结", [float(d.cases_closed) for d in t.days]),
    ]
    return _line_chart("每日新增与办结事件", labels, series)


def categories_chart(data: ReportData) -> Drawing | None:
    """Police calls per class, this period beside the previous one."""
    if data.categories is None or not data.categories.calls:
        return None
    rows = data.categories.calls[:8]
    height = 190
    drawing = Drawing(FRAME_WIDTH, height)
    _title(drawing, "警情类别：本期与上期")
    chart = VerticalBarChart()
    chart.x, chart.y = 40, 36
    chart.width, chart.height = FRAME_WIDTH - 60, height - 76
    chart.data = [[float(r.count) for r in rows], [float(r.previous) for r in rows]]
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.categoryAxis.categoryNames = [r.name for r in rows]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7.5
    chart.bars[0].fillColor = SERIES[0]
    chart.bars[1].fillColor = PREVIOUS
    chart.bars.strokeColor = None
    chart.groupSpacing = 8
    drawing.add(chart)
    _legend(drawing, ["本期", "上期"], 40, height - 20, [SERIES[0], PREVIOUS])
    return drawing


# -- the document -------------------------------------------------------------------------------------------


class _NumberedCanvas(Canvas):  # type: ignore[misc]  # ReportLab ships no type hints
    """Every page gets the report's title at the top and 第 n 页 / 共 N 页 at the bottom."""

    report_title = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 - ReportLab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._decorate(total)
            super().showPage()
        super().save()

    def _decorate(self, total: int) -> None:
        self.saveState()
        self.setFont(FONT, 7.5)
        self.setFillColor(colors.grey)
        self.drawString(MARGIN, PAGE_HEIGHT - 11 * mm, self.report_title)
        self.drawRightString(PAGE_WIDTH - MARGIN, 10 * mm, f"第 {self._pageNumber} 页 / 共 {total} 页")
        self.setStrokeColor(RULE)
        self.setLineWidth(0.4)
        self.line(MARGIN, PAGE_HEIGHT - 12.5 * mm, PAGE_WIDTH - MARGIN, PAGE_HEIGHT - 12.5 * mm)
        self.restoreState()


def _section(title: str, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    return [CondPageBreak(60 * mm), Paragraph(_escape(title), styles["h1"])]


def _missing(styles: dict[str, ParagraphStyle]) -> Paragraph:
    return Paragraph("本部分暂无数据（见文末说明）。", styles["note"])


def _index_story(data: ReportData, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    story = _section("一、平安指数", styles)
    ix = data.index
    if ix is None:
        return [*story, _missing(styles)]
    change = ""
    if ix.change is not None:
        before = BAND_NAMES.get(ix.previous_band or "", "")
        change = f"；上期 {ix.previous_score:.1f}（{before}），变化 {ix.change:+.1f}"
    text = (
        f"本期平安指数 <b>{ix.score:.1f}</b>（{BAND_NAMES.get(ix.band, ix.band)}色）{change}。"
        f"常住人口 {ix.population:,}；死亡 {ix.deaths} 人，扣分 {ix.deduction:.1f}。"
        f"配置：{_escape(ix.config_name)}{'' if ix.stored else '（本期指数尚未入库，为即时计算值）'}。"
    )
    story.append(Paragraph(text, styles["body"]))
    chart = components_chart(data)
    story += _table(component_table(ix), styles)
    if chart is not None:
        story.append(chart)
    if ix.children_level is not None:
        story += _table(children_table(ix), styles)
        chart = children_chart(data)
        if chart is not None:
            story.append(chart)
    return story


def _trend_story(data: ReportData, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    story = _section("二、趋势", styles)
    if data.trend is None:
        return [*story, _missing(styles)]
    for chart in (index_trend_chart(data), calls_trend_chart(data), cases_trend_chart(data)):
        if chart is not None:
            story.append(KeepTogether([chart, Spacer(1, 4)]))
    if not data.trend.index_points:
        story.append(Paragraph("尚无已计算的历史指数。", styles["note"]))
    return story


def _categories_story(data: ReportData, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    story = _section("三、主要类别", styles)
    c = data.categories
    if c is None:
        return [*story, _missing(styles)]
    story.append(Paragraph(f"对比期：{c.previous_first} 至 {c.previous_last}。", styles["note"]))
    story += _table(calls_table(c), styles)
    chart = categories_chart(data)
    if chart is not None:
        story.append(chart)
    if c.cases is not None:
        story += _table(cases_table(c), styles)
    return story


def _hotspots_story(data: ReportData, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    story = _section("四、热点", styles)
    h = data.hotspots
    if h is None:
        return [*story, _missing(styles)]
    story += _table(hotspot_units_table(h), styles)
    story.append(
        Paragraph(
            f"预测方法：核密度估计（{h.method}），对象为刑事治安警情，按网格汇总、按每平方公里预计警情排序；"
            "训练期为下期开始前 365 天"
            + (f"（{h.training_events:,} 起带坐标的警情）" if h.training_events is not None else "")
            + "。预测的是地点，不针对任何个人。",
            styles["note"],
        )
    )
    story += _table(hotspot_areas_table(h), styles)
    return story


def _overdue_story(data: ReportData, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    story = _section("五、超期事件", styles)
    o = data.overdue
    if o is None:
        return [*story, _missing(styles)]
    as_of = data.local(o.as_of).strftime("%Y-%m-%d %H:%M")
    story.append(Paragraph(f"截至 {as_of}，本区域超期未办结事件 <b>{o.count:,}</b> 件。", styles["body"]))
    story += _table(overdue_table(o), styles)
    return story


def _warnings_story(data: ReportData, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    story = _section("六、预警及处置", styles)
    w = data.warnings
    if w is None:
        return [*story, _missing(styles)]
    kinds = "、".join(
        f"{n} {w.by_kind[k]} 条"
        for k, n in (("surge", "警情突增"), ("rule", "规则预警"), ("hotspot", "热点预测"))
        if w.by_kind.get(k)
    )
    done, seen, waiting = (w.by_status.get(s, 0) for s in ("closed", "acknowledged", "open"))
    story.append(
        Paragraph(
            f"本期预警 {w.total:,} 条{('（' + kinds + '）') if kinds else ''}；已关闭 {done:,} 条，"
            f"已确认 {seen:,} 条，待处理 {waiting:,} 条；转为事件 {w.with_case:,} 条。",
            styles["body"],
        )
    )
    story += _table(warnings_table(w, WARNINGS_PRINTED), styles)
    return story


def _notes_story(data: ReportData, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    story = _section("说明", styles)
    lines = [
        "统计口径：警情按接警日（北京时间）计入其发生地所在的最小区划；事件按上报时间计入其所在网格。",
        "平安指数按当前启用的指数配置计算（各指标万人发案率与基线比较，加权后扣除死亡分）；等级：绿、黄、橙、红。",
        "环比：与上一周期比较；本期未结束时与上一周期相同天数比较。超期事件为报告生成时的状态。",
        "本报告不含任何个人信息（不含报告人姓名、电话、身份证号）。",
        *data.notes,
    ]
    story += [Paragraph(_escape(f"（{i}）{line}"), styles["note"]) for i, line in enumerate(lines, start=1)]
    return story


def render_pdf(data: ReportData) -> tuple[bytes, int]:
    """The report as PDF bytes and its number of pages."""
    _register_font()
    styles = _styles()
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=data.title,
        author="civicgrid",
        subject=f"{data.area.full_name} {data.period.label}",
        creator="civicgrid 研判报告",
    )
    generated = data.local(data.generated_at).strftime("%Y-%m-%d %H:%M")
    story: list[Flowable] = [
        Paragraph(_escape(data.title), styles["title"]),
        Paragraph(_escape(f"统计时段：{data.period.span}　生成时间：{generated}（北京时间）"), styles["meta"]),
        Spacer(1, 8),
        Paragraph(_escape(data.summary), styles["summary"]),
        Spacer(1, 6),
    ]
    for part in (_index_story, _trend_story, _categories_story, _hotspots_story, _overdue_story, _warnings_story):
        story += part(data, styles)
    story += _notes_story(data, styles)

    class Numbered(_NumberedCanvas):
        report_title = data.title

    document.build(story, canvasmaker=Numbered)
    return out.getvalue(), int(document.page)
