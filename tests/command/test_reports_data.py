"""The figures of an analysis report, gathered from data whose every count is known (reports_fixtures)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest

from civicgrid.authz.scope import Principal
from civicgrid.command import report_data
from civicgrid.command.report_model import ReportData
from civicgrid.core.clock import utcnow
from civicgrid.core.db import Database
from civicgrid.core.errors import Forbidden, InvalidInput, NotFound
from civicgrid.safety.counts import LOCAL_TZ
from tests.command.reports_fixtures import ReportCity, case_code
from tests.support.city import CITY, COMMUNITY_A, DISTRICT, GRID_A1, OTHER_DISTRICT, STREET_A, STREET_B


def _gather(db: Database, principal: Principal, area: str, period: str, day: date) -> ReportData:
    with db.unit_of_work(write=False) as session:
        return report_data.gather(session, principal, area, period, day, now=utcnow(), tz=LOCAL_TZ)


def test_the_weekly_report_of_a_district(
    db: Database, report_city: ReportCity, principal_of: Callable[[str], Principal]
) -> None:
    week = report_city.week
    data = _gather(db, principal_of("operator"), DISTRICT, "week", week.start + timedelta(days=3))
    iso = week.start.isocalendar()
    assert data.title == f"蚌埠市蚌山区 {iso.year}年第{iso.week}周 社会治安形势研判报告"
    assert (data.period.start, data.period.end, data.period.until) == (week.start, week.end, week.end)
    assert data.period.complete and data.notes == []

    # 1. the index: the area's own score with its components, the child streets worst first
    assert data.index is not None
    assert 0 <= data.index.score <= 100 and data.index.band in ("green", "yellow", "orange", "red")
    assert [c.indicator for c in data.index.components] == ["crime_order", "fire", "traffic"]
    crime = data.index.components[0]
    assert (crime.name, crime.observed) == ("刑事治安", 8)
    assert data.index.children_level == "street"
    assert {c.code for c in data.index.children} == {STREET_A, STREET_B}
    scores = [c.score for c in data.index.children]
    assert scores == sorted(scores)  # worst first
    assert data.index.previous_score is not None  # the recompute stored the week before

    # 2. trends: every day of the week, calls per indicator, cases reported and closed
    assert data.trend is not None
    days = {d.day: d for d in data.trend.days}
    assert list(days) == [week.start + timedelta(days=i) for i in range(7)]
    assert days[week.start + timedelta(days=1)].calls["crime_order"] == 6
    assert days[week.start + timedelta(days=2)].calls["crime_order"] == 2
    assert days[week.start + timedelta(days=3)].calls["disputes"] == 3
    assert sum(d.calls_total for d in data.trend.days) == 11
    assert (days[week.start + timedelta(days=1)].cases_reported, sum(d.cases_closed for d in days.values())) == (4, 4)
    assert [p.start for p in data.trend.index_points][-2:] == [report_city.previous.start, week.start]

    # 3. categories against the week before
    c = data.categories
    assert c is not None
    assert (c.previous_first, c.previous_last) == (report_city.previous.start, report_city.previous.end)
    calls = {r.code: (r.name, r.count, r.previous) for r in c.calls}
    assert calls == {"inc:01": ("刑事警情", 6, 4), "inc:02": ("治安警情", 2, 2), "inc:03": ("纠纷警情", 3, 1)}
    assert [r.code for r in c.calls] == ["inc:01", "inc:03", "inc:02"]  # most first
    assert (c.calls_total, c.calls_previous, c.crime_order, c.crime_order_previous) == (11, 7, 8, 6)
    assert c.cases is not None
    assert [(r.code, r.count, r.previous) for r in c.cases] == [("0501", 3, 2), ("0502", 1, 0)]
    assert c.cases[0].change == pytest.approx(0.5) and c.cases[1].change is None
    assert (c.cases_total, c.cases_previous) == (4, 2)

    # 4. hotspots: the grid of the thefts leads the forecast (flagged up to half the district's area, so one of
    # its four equal grids); the streets by calls per 10,000
    h = data.hotspots
    assert h is not None
    assert (h.target_start, h.training_events) == (week.next().start, 14)  # the crime_order calls with points
    assert [(u.rank, u.grid_code, u.name, u.recent_events) for u in h.units] == [(1, GRID_A1, "天桥社区第1网格", 10)]
    assert h.units[0].expected > 0 and h.units[0].density > 0
    assert [(a.code, a.calls) for a in h.areas] == [(STREET_A, 8), (STREET_B, 3)]
    assert h.areas[0].per_10k == pytest.approx(8 * 10_000 / h.areas[0].population)

    # 5. overdue now: the district's one, by code, category and unit; no personal data
    o = data.overdue
    assert o is not None and o.count == 1
    (case,) = o.cases
    assert case.code == case_code(db, report_city.case_ids["overdue"])
    assert (case.category, case.unit) == ("井盖缺失破损", "网格级处置")
    assert 38 <= case.days_overdue <= 40
    assert set(vars(case)) == {"code", "category", "unit", "due", "days_overdue"}

    # 6. warnings overlapping the week: A1's surge (closed, linked, noted) and street B's rule; not the other
    # district's, not last week's
    w = data.warnings
    assert w is not None
    assert (w.total, w.by_status, w.by_kind, w.with_case) == (2, {"closed": 1, "open": 1}, {"surge": 1, "rule": 1}, 1)
    first = w.rows[0]  # the serious one first
    assert (first.kind, first.area, first.status, first.severity) == ("surge", "天桥社区第1网格", "closed", "serious")
    assert first.case_code == case_code(db, report_city.case_ids["linked"])
    assert first.close_note == "已加强巡逻，警情回落"
    assert (w.rows[1].kind, w.rows[1].area, w.rows[1].case_code) == ("rule", "青年街道", None)

    # 7. the summary states the figures, nothing else
    assert data.summary.startswith(f"蚌埠市蚌山区{iso.year}年第{iso.week}周：平安指数 ")
    for fact in (
        "接报警情 11 起，环比 +57%",
        "其中刑事治安警情 8 起，环比 +33%",
        "新增事件 4 件，环比 +100%，其中已办结 4 件",
        "超期未办结事件 1 件",
        "本期预警 2 条，已关闭 1 条、已确认 0 条、待处理 1 条，转为事件 1 条",
        "下期预测热点网格：天桥社区第1网格",
    ):
        assert fact in data.summary, fact


def test_a_street_report_counts_only_the_street(
    db: Database, report_city: ReportCity, principal_of: Callable[[str], Principal]
) -> None:
    data = _gather(db, principal_of("district.operator"), STREET_A, "week", report_city.week.start)
    assert data.area.full_name == "蚌埠市蚌山区天桥街道"
    assert data.categories is not None
    assert (data.categories.calls_total, data.categories.crime_order) == (8, 8)
    assert data.index is not None and data.index.children_level == "community"
    assert data.hotspots is not None and [u.grid_code for u in data.hotspots.units] == [GRID_A1]
    assert data.warnings is not None and [r.kind for r in data.warnings.rows] == ["surge"]
    assert data.overdue is not None and data.overdue.count == 1


def test_a_monthly_report_of_the_city_while_the_month_runs(
    db: Database, report_city: ReportCity, principal_of: Callable[[str], Principal]
) -> None:
    today = report_city.today
    data = _gather(db, principal_of("operator"), CITY, "month", today)
    assert (data.period.start, data.period.until) == (today.replace(day=1), today)
    assert data.period.complete == (data.period.end == today)
    assert data.title.startswith(f"蚌埠市 {today.year}年{today.month}月 ")
    first, last = data.period.previous()
    assert last - first == today - today.replace(day=1) or data.period.complete  # as many days as so far
    assert data.overdue is not None and data.overdue.count == 2  # the other district's too
    assert data.index is not None and {c.code for c in data.index.children} == {DISTRICT, OTHER_DISTRICT}


def test_sections_the_requester_may_not_read_are_left_out_with_a_note(
    db: Database, report_city: ReportCity, principal_of: Callable[[str], Principal]
) -> None:
    from dataclasses import replace

    operator = principal_of("operator")
    no_cases = replace(operator, permissions=operator.permissions - {"case:read"})
    data = _gather(db, no_cases, DISTRICT, "week", report_city.week.start)
    assert data.overdue is None and data.categories is not None and data.categories.cases is None
    assert data.trend is not None and not data.trend.cases_shown
    assert any(n.startswith("超期事件：无权查看") for n in data.notes)
    assert "新增事件" not in data.summary

    no_safety = replace(operator, permissions=operator.permissions - {"safety:read"})
    data = _gather(db, no_safety, DISTRICT, "week", report_city.week.start)
    assert data.index is None and data.warnings is None
    assert data.hotspots is not None and data.hotspots.units == [] and data.hotspots.forecast_note
    assert data.categories is not None and data.categories.calls_total == 11  # counts need command:read only


def test_without_an_active_index_configuration_the_index_is_computed_not_read(
    db: Database, report_city: ReportCity, principal_of: Callable[[str], Principal]
) -> None:
    from sqlalchemy import update

    from civicgrid.safety.models import SafetyIndexConfig

    with db.unit_of_work() as s:
        s.execute(update(SafetyIndexConfig).values(active=False))
    data = _gather(db, principal_of("operator"), DISTRICT, "week", report_city.week.start)
    # The index falls back on the default definition with nothing stored: the score is computed on the spot,
    # there is no stored history, no previous score and no stored child scores.
    assert data.index is not None and not data.index.stored
    assert data.index.previous_score is None and data.index.children == []
    assert data.trend is not None and data.trend.index_points == [] and len(data.trend.days) == 7
    assert data.notes == []


def test_an_empty_area_and_period_still_make_a_report(
    db: Database, report_city: ReportCity, principal_of: Callable[[str], Principal]
) -> None:
    data = _gather(db, principal_of("operator"), OTHER_DISTRICT, "week", report_city.week.start - timedelta(days=70))
    assert data.categories is not None and data.categories.calls == [] and data.categories.calls_total == 0
    assert data.hotspots is not None and data.hotspots.areas == []  # no streets
    assert data.warnings is not None and data.warnings.total == 0
    assert "接报警情 0 起，环比 —" in data.summary


# -- bad input ----------------------------------------------------------------------------------------------


def test_bad_requests_are_refused(
    db: Database, report_city: ReportCity, principal_of: Callable[[str], Principal]
) -> None:
    operator = principal_of("operator")
    tomorrow = report_city.today + timedelta(days=1)
    with pytest.raises(InvalidInput) as future:
        _gather(db, operator, DISTRICT, "week", tomorrow)
    assert future.value.details == [{"field": "date", "problem": "must not be after today (Asia/Shanghai)"}]
    for period in ("day", "dekad", "year", ""):
        with pytest.raises(InvalidInput) as kind:
            _gather(db, operator, DISTRICT, period, report_city.today)
        assert kind.value.details == [{"field": "period", "problem": "must be week or month"}]
    with pytest.raises(InvalidInput) as grid:
        _gather(db, operator, GRID_A1, "week", report_city.today)
    assert grid.value.details[0]["field"] == "area_code"
    with pytest.raises(NotFound):
        _gather(db, operator, "999999", "week", report_city.today)
    # Outside the caller's scope: not found (its existence does not leak).
    with pytest.raises(NotFound):
        _gather(db, principal_of("district.operator"), OTHER_DISTRICT, "week", report_city.today)
    with pytest.raises(NotFound):
        _gather(db, principal_of("community.a"), STREET_A, "week", report_city.today)
    # Without command:read at all.
    with pytest.raises(Forbidden):
        _gather(db, principal_of("worker.a1"), COMMUNITY_A, "week", report_city.today)


def test_periods_on_the_local_calendar() -> None:
    period = report_data.report_period("week", date(2026, 11, 19), date(2026, 12, 1))
    assert (period.start, period.end, period.until, period.label) == (
        date(2026, 11, 16),
        date(2026, 11, 22),
        date(2026, 11, 22),
        "2026年第47周",
    )
    running = report_data.report_period("month", date(2026, 3, 2), date(2026, 3, 10))
    assert (running.start, running.end, running.until, running.days, running.complete) == (
        date(2026, 3, 1),
        date(2026, 3, 31),
        date(2026, 3, 10),
        10,
        False,
    )
    assert running.previous() == (date(2026, 2, 1), date(2026, 2, 10))
    assert report_data.report_period("month", date(2026, 3, 2), date(2026, 4, 1)).previous() == (
        date(2026, 2, 1),
        date(2026, 2, 28),
    )
    assert report_data.report_period("week", date(2021, 1, 3), date(2021, 2, 1)).label == "2020年第53周"


def test_a_section_that_cannot_be_computed_is_a_note_not_a_failure(
    db: Database,
    report_city: ReportCity,
    principal_of: Callable[[str], Principal],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from civicgrid.core.errors import Conflict
    from civicgrid.safety import forecast_service

    def refuse(*args: object, **kwargs: object) -> None:
        raise Conflict("the forecast is being rebuilt; try again in a minute")

    monkeypatch.setattr(forecast_service, "hotspots", refuse)
    data = _gather(db, principal_of("operator"), DISTRICT, "week", report_city.week.start)
    assert data.hotspots is None
    assert data.notes == ["热点：无法生成（the forecast is being rebuilt; try again in a minute）"]
    assert data.index is not None and data.warnings is not None  # the other sections stand
