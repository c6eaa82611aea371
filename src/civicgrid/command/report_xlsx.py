"""The analysis report as an Excel workbook (openpyxl): a summary sheet and one sheet per section, the same
tables as the PDF with native number formats, and native Excel charts (line: the index over 12 periods and
daily calls and cases; bar: the index's components, the child areas' scores and the call classes), which
stay live when someone edits the figures."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from civicgrid.command.report_model import (
    BAND_NAMES,
    Cell,
    ReportData,
    Table,
    calls_table,
    cases_table,
    children_table,
    component_table,
    daily_table,
    hotspot_areas_table,
    hotspot_units_table,
    index_trend_table,
    overdue_table,
    warnings_table,
)

FORMATS = {
    "int": "#,##0",
    "float1": "#,##0.0",
    "float2": "#,##0.00",
    "ratio": "+0%;-0%;0%",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}
BAND_FILLS = {"green": "E8F5E9", "yellow": "FFF8E1", "orange": "FFF3E0", "red": "FFEBEE"}
BAND_FONTS = {"green": "2E7D32", "yellow": "B26A00", "orange": "EF6C00", "red": "C62828"}
HEADER_FILL = PatternFill("solid", fgColor="ECEFF1")
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HEADING = Font(bold=True, size=11)
NOTE = Font(italic=True, size=9, color="546E7A")
THIN = Border(bottom=Side(style="thin", color="B0BEC5"))
COLUMN_UNIT = 9.0  # characters per relative width unit


def _value(value: Cell, fmt: str, band: bool, tz: str) -> Cell:
    if band and isinstance(value, str):
        return BAND_NAMES.get(value, value)
    if isinstance(value, datetime):
        # Excel has no time zones: the local wall-clock time, as printed in the PDF.
        return value.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    return value


def write_table(sheet: Worksheet, table: Table, row: int, tz: str) -> tuple[int, int]:
    """Write `table` from `row` (title, header, rows, note); (first data row, next free row)."""
    sheet.cell(row=row, column=1, value=table.title).font = HEADING
    row += 1
    for col, header in enumerate(table.headers, start=1):
        cell = sheet.cell(row=row, column=col, value=header)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.border = THIN
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    first = row + 1
    for values in table.rows:
        row += 1
        for col, (value, fmt) in enumerate(zip(values, table.formats, strict=True), start=1):
            is_band = col - 1 == table.band_column
            cell = sheet.cell(row=row, column=col, value=_value(value, fmt, is_band, tz))
            if fmt in FORMATS:
                cell.number_format = FORMATS[fmt]
            if is_band and isinstance(value, str) and value in BAND_FILLS:
                cell.fill = PatternFill("solid", fgColor=BAND_FILLS[value])
                cell.font = Font(color=BAND_FONTS[value], bold=True)
    row += 1
    if table.note:
        sheet.cell(row=row, column=1, value=table.note).font = NOTE
        row += 1
    return first, row + 1


def _widths(sheet: Worksheet, tables: list[Table]) -> None:
    for table in tables:
        for col, width in enumerate(table.widths, start=1):
            letter = get_column_letter(col)
            current = sheet.column_dimensions[letter].width or 0
            sheet.column_dimensions[letter].width = max(current, 6 + width * COLUMN_UNIT)


def _line(title: str, y_title: str, width: int = 22, height: int = 9) -> LineChart:
    chart = LineChart()
    chart.title = title
    chart.y_axis.title = y_title
    chart.width, chart.height = width, height
    chart.y_axis.majorGridlines = None
    return chart


def _summary_sheet(sheet: Worksheet, data: ReportData) -> None:
    sheet.title = "摘要"
    sheet["A1"] = data.title
    sheet["A1"].font = TITLE
    generated = data.local(data.generated_at).strftime("%Y-%m-%d %H:%M")
    rows: list[tuple[str, object]] = [
        ("区域", f"{data.area.full_name}（{data.area.code}）"),
        ("统计时段", data.period.span),
        ("生成时间（北京时间）", generated),
        ("摘要", data.summary),
    ]
    for i, (key, value) in enumerate(rows, start=3):
        sheet.cell(row=i, column=1, value=key).font = BOLD
        cell = sheet.cell(row=i, column=2, value=str(value))
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.row_dimensions[6].height = 15 * max(2, len(data.summary) // 45 + 1)
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 100
    row = 8
    if data.notes:
        sheet.cell(row=row, column=1, value="说明").font = BOLD
        for note in data.notes:
            sheet.cell(row=row, column=2, value=note).font = NOTE
            row += 1


def _index_sheet(book: Workbook, data: ReportData) -> None:
    sheet = book.create_sheet("1 平安指数")
    ix = data.index
    if ix is None:
        sheet["A1"] = "本部分暂无数据（见摘要页说明）"
        return
    sheet["A1"] = f"平安指数 {ix.score:.1f}（{BAND_NAMES.get(ix.band, ix.band)}）"
    sheet["A1"].font = TITLE
    sheet["A2"] = (
        f"上期 {ix.previous_score:.1f}，变化 {ix.change:+.1f}" if ix.change is not None else "上期无已计算的指数"
    )
    components = component_table(ix)
    first, row = write_table(sheet, components, 4, data.tz)
    tables = [components]
    if ix.components:
        chart = BarChart()
        chart.type = "bar"
        chart.title = "分项得分（0–100）"
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 100
        chart.width, chart.height = 16, 6
        last = first + len(ix.components) - 1
        chart.add_data(Reference(sheet, min_col=7, min_row=first - 1, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=1, min_row=first, max_row=last))
        chart.legend = None
        sheet.add_chart(chart, f"K{4}")
    if ix.children_level is not None:
        children = children_table(ix)
        first, row = write_table(sheet, children, max(row, 18), data.tz)
        tables.append(children)
        if ix.children:
            chart = BarChart()
            chart.type = "bar"
            chart.title = "下辖区域得分（由低到高）"
            chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 100
            chart.width, chart.height = 16, max(6, (len(ix.children) + 1) // 2)
            last = first + len(ix.children) - 1
            chart.add_data(Reference(sheet, min_col=3, min_row=first - 1, max_row=last), titles_from_data=True)
            chart.set_categories(Reference(sheet, min_col=2, min_row=first, max_row=last))
            chart.x_axis.scaling.orientation = "maxMin"  # the worst at the top, as in the table
            chart.legend = None
            sheet.add_chart(chart, f"K{first - 2}")
    _widths(sheet, tables)


def _trend_sheet(book: Workbook, data: ReportData) -> None:
    sheet = book.create_sheet("2 趋势")
    t = data.trend
    if t is None:
        sheet["A1"] = "本部分暂无数据（见摘要页说明）"
        return
    points = index_trend_table(t)
    first, row = write_table(sheet, points, 1, data.tz)
    if t.index_points:
        chart = _line("平安指数近 12 期走势", "得分")
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 100
        last = first + len(t.index_points) - 1
        chart.add_data(Reference(sheet, min_col=3, min_row=first - 1, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=1, min_row=first, max_row=last))
        sheet.add_chart(chart, "H1")
    daily = daily_table(t)
    start = max(row, 22)  # below the index chart (H1, about 18 rows high)
    first, row = write_table(sheet, daily, start, data.tz)
    if t.days:
        last = first + len(t.days) - 1
        calls = _line("每日警情（按指标）", "起")
        calls.add_data(
            Reference(sheet, min_col=2, max_col=1 + len(t.indicators), min_row=first - 1, max_row=last),
            titles_from_data=True,
        )
        calls.set_categories(Reference(sheet, min_col=1, min_row=first, max_row=last))
        calls.x_axis.number_format = "mm-dd"
        sheet.add_chart(calls, f"L{start}")
        if t.cases_shown:
            cases = _line("每日新增与办结事件", "件")
            column = 2 + len(t.indicators) + 1
            cases.add_data(
                Reference(sheet, min_col=column, max_col=column + 1, min_row=first - 1, max_row=last),
                titles_from_data=True,
            )
            cases.set_categories(Reference(sheet, min_col=1, min_row=first, max_row=last))
            cases.x_axis.number_format = "mm-dd"
            sheet.add_chart(cases, f"L{start + 20}")
    _widths(sheet, [points, daily])


def _categories_sheet(book: Workbook, data: ReportData) -> None:
    sheet = book.create_sheet("3 主要类别")
    c = data.categories
    if c is None:
        sheet["A1"] = "本部分暂无数据（见摘要页说明）"
        return
    sheet["A1"] = f"对比期：{c.previous_first} 至 {c.previous_last}"
    calls = calls_table(c)
    first, row = write_table(sheet, calls, 3, data.tz)
    tables = [calls]
    if c.calls:
        chart = BarChart()
        chart.type = "col"
        chart.title = "警情类别：本期与上期"
        chart.width, chart.height = 18, 8
        last = first + len(c.calls) - 1
        chart.add_data(Reference(sheet, min_col=2, max_col=3, min_row=first - 1, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=1, min_row=first, max_row=last))
        sheet.add_chart(chart, "G3")
    if c.cases is not None:
        cases = cases_table(c)
        write_table(sheet, cases, max(row, 20), data.tz)
        tables.append(cases)
    _widths(sheet, tables)


def _simple_sheet(book: Workbook, name: str, tables: list[Table] | None, data: ReportData, lead: str = "") -> None:
    sheet = book.create_sheet(name)
    if tables is None:
        sheet["A1"] = "本部分暂无数据（见摘要页说明）"
        return
    row = 1
    if lead:
        sheet["A1"] = lead
        row = 3
    for table in tables:
        _first, row = write_table(sheet, table, row, data.tz)
    _widths(sheet, tables)


def render_xlsx(data: ReportData) -> bytes:
    """The report as XLSX bytes."""
    book = Workbook()
    first = book.active
    assert first is not None
    _summary_sheet(first, data)
    _index_sheet(book, data)
    _trend_sheet(book, data)
    _categories_sheet(book, data)
    h = data.hotspots
    _simple_sheet(book, "4 热点", [hotspot_units_table(h), hotspot_areas_table(h)] if h else None, data)
    o = data.overdue
    as_of = data.local(o.as_of).strftime("%Y-%m-%d %H:%M") if o else ""
    _simple_sheet(
        book,
        "5 超期事件",
        [overdue_table(o)] if o else None,
        data,
        f"截至 {as_of}，超期未办结事件 {o.count} 件" if o else "",
    )
    w = data.warnings
    lead = ""
    if w is not None:
        done, seen, waiting = (w.by_status.get(s, 0) for s in ("closed", "acknowledged", "open"))
        lead = f"本期预警 {w.total} 条；已关闭 {done}，已确认 {seen}，待处理 {waiting}；转为事件 {w.with_case}"
    _simple_sheet(book, "6 预警处置", [warnings_table(w)] if w else None, data, lead)
    book.properties.title = data.title
    book.properties.creator = "civicgrid"
    book.properties.created = data.generated_at.replace(tzinfo=None)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
