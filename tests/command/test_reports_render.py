"""The PDF and XLSX renderers: whole, valid files with the sections, tables and charts, for full and for empty
reports (the figures come from reports_fixtures)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from openpyxl import load_workbook
from openpyxl.chart import BarChart, LineChart

from civicgrid.authz.scope import Principal
from civicgrid.command import report_data
from civicgrid.command.report_model import ReportArea, ReportData, ReportPeriod
from civicgrid.command.report_pdf import cell_text, render_pdf
from civicgrid.command.report_xlsx import render_xlsx
from civicgrid.core.clock import utcnow
from civicgrid.core.db import Database
from civicgrid.safety.counts import LOCAL_TZ
from tests.command.reports_fixtures import ReportCity
from tests.support.city import DISTRICT
from tests.support.pdf import all_text, is_pdf, page_count

SHEETS = ["摘要", "1 平安指数", "2 趋势", "3 主要类别", "4 热点", "5 超期事件", "6 预警处置"]


def _district_week(db: Database, report_city: ReportCity, principal: Principal) -> ReportData:
    with db.unit_of_work(write=False) as session:
        return report_data.gather(
            session, principal, DISTRICT, "week", report_city.week.start, now=utcnow(), tz=LOCAL_TZ
        )


def _charts(sheet: object) -> list[object]:
    return list(sheet._charts)


def test_the_pdf_of_a_district_week(
    db: Database, report_city: ReportCity, principal_of: Callable[[str], Principal]
) -> None:
    data = _district_week(db, report_city, principal_of("operator"))
    pdf, pages = render_pdf(data)
    assert is_pdf(pdf) and pages >= 3 and page_count(pdf) == pages
    text = all_text(pdf)
    assert data.title in text
    for heading in ("一、平安指数", "二、趋势", "三、主要类别", "四、热点", "五、超期事件", "六、预警及处置", "说明"):
        assert heading in text, heading
    for shown in (
        "天桥街道",
        "刑事警情",
        "井盖缺失破损",
        "网格级处置",
        "已加强巡逻",
        f"第 1 页 / 共 {pages} 页",
    ):
        assert shown in text, shown
    assert "+50%" in text  # thefts 6 against 4
    assert b"/STSong-Light" in pdf and b"/FontFile" not in pdf  # the built-in CID font: nothing embedded


def test_the_xlsx_of_a_district_week(
    db: Database, report_city: ReportCity, principal_of: Callable[[str], Principal]
) -> None:
    data = _district_week(db, report_city, principal_of("operator"))
    book = load_workbook(io.BytesIO(render_xlsx(data)))
    assert book.sheetnames == SHEETS
    assert book["摘要"]["A1"].value == data.title
    assert book["摘要"]["B6"].value == data.summary
    index = book["1 平安指数"]
    assert [type(c) for c in _charts(index)] == [BarChart, BarChart]  # components, child areas
    trend = book["2 趋势"]
    assert [type(c) for c in _charts(trend)] == [LineChart, LineChart, LineChart]  # index, calls, cases
    categories = book["3 主要类别"]
    assert [type(c) for c in _charts(categories)] == [BarChart]
    rows = {row[0]: row[1:4] for row in categories.iter_rows(min_row=5, max_col=4, values_only=True) if row[0]}
    assert rows["刑事警情"] == (6, 4, 0.5)
    assert rows["合计"] == (11, 7, 4 / 7)
    assert categories.cell(row=5, column=4).number_format == "+0%;-0%;0%"
    # Dates are real dates, the overdue case's deadline a local wall-clock time.
    daily = [row for row in trend.iter_rows(values_only=True) if isinstance(row[0], datetime)]
    assert len(daily) == 7 and daily[0][0].date() == report_city.week.start
    overdue = book["5 超期事件"]
    assert overdue["A1"].value.endswith("超期未办结事件 1 件")
    warnings = [r for r in book["6 预警处置"].iter_rows(min_row=5, values_only=True) if r[0]]
    assert [(r[0], r[4], r[8]) for r in warnings] == [
        ("警情突增", "已关闭", "已加强巡逻，警情回落"),
        ("规则预警", "待处理", None),
    ]


def _bare(notes: list[str]) -> ReportData:
    period = ReportPeriod("month", date(2026, 2, 1), date(2026, 2, 28), date(2026, 2, 10))
    area = ReportArea("340304", "禹会区", "蚌埠市禹会区", "district")
    data = ReportData(
        area,
        period,
        "蚌埠市禹会区 2026年2月 社会治安形势研判报告",
        datetime(2026, 2, 10, 1, tzinfo=UTC),
        "Asia/Shanghai",
    )
    data.notes = notes
    data.summary = report_data.summary_text(data)
    return data


def test_a_report_without_any_section_still_renders() -> None:
    data = _bare(["平安指数：无权查看（safety:read）", "超期事件：无权查看（case:read）"])
    assert data.summary == "蚌埠市禹会区2026年2月：暂无可用数据。"
    pdf, pages = render_pdf(data)
    assert is_pdf(pdf) and pages >= 1
    text = all_text(pdf)
    assert "本部分暂无数据（见文末说明）。" in text and "无权查看（case:read）" in text
    assert "（本期截至 2026-02-10，未满 2026-02-28）" in text
    book = load_workbook(io.BytesIO(render_xlsx(data)))
    assert book.sheetnames == SHEETS
    assert book["4 热点"]["A1"].value == "本部分暂无数据（见摘要页说明）"
    assert sum(len(_charts(sheet)) for sheet in book) == 0


def test_long_reports_print_the_worst_warnings_and_list_them_all_in_the_workbook(
    db: Database, report_city: ReportCity, principal_of: Callable[[str], Principal]
) -> None:
    from dataclasses import replace

    data = _district_week(db, report_city, principal_of("operator"))
    assert data.warnings is not None
    first = data.warnings.rows[0]
    many = [replace(first, id=i, title=f"第{i}条预警") for i in range(120)]
    data.warnings = replace(data.warnings, rows=many, total=120)
    pdf, _pages = render_pdf(data)
    text = all_text(pdf)
    assert "第39条预警" in text and "第40条预警" not in text
    assert "共 120 条，此处列出最严重的 40 条（按级别、日期）。" in text
    book = load_workbook(io.BytesIO(render_xlsx(data)))
    titles = [r[2] for r in book["6 预警处置"].iter_rows(min_row=5, values_only=True) if r[0]]
    assert len(titles) == 120


def test_cells_as_printed() -> None:
    assert cell_text(1234567, "int") == "1,234,567"
    assert cell_text(3.14159, "float1") == "3.1"
    assert cell_text(0.125, "ratio") == "+12%" or cell_text(0.125, "ratio") == "+13%"
    assert cell_text(-0.5, "ratio") == "-50%"
    assert cell_text(None, "ratio") == "—"
    assert cell_text(date(2026, 1, 2), "date") == "2026-01-02"
    assert cell_text(datetime(2026, 1, 2, 3, 4), "datetime") == "2026-01-02 03:04"
    assert cell_text("天桥", "text") == "天桥"
    assert cell_text(timedelta(days=1).days, "int") == "1"
