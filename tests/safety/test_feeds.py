"""Reading feed records: every accepted time format and precision, times refused with the formats named,
categories through the mapping's table under each unknown-label policy, casualties, and placing records —
a point in its grid, an address code at its division, outside the city, swapped, in no grid, out of scope."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civicgrid.authz.permissions import ROLE_PERMISSIONS, Role
from civicgrid.authz.scope import Level, Principal, Scope
from civicgrid.core.db import Database
from civicgrid.safety.feeds import NO_LOCATION, CategoryTable, Record, parse_time, place, read_record
from tests.safety.conftest import FEED_IN_A1, FEED_IN_B2, FEED_NO_GRID, FEED_OUTSIDE
from tests.support.city import (
    CITY,
    COMMUNITY_A,
    DISTRICT,
    GRID_A1,
    GRID_B2,
    OTHER_DISTRICT,
    STREET_A,
    STREET_B,
    TinyCity,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 6, 15, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
LEAVES = frozenset({"0101", "0104", "0401", "0501", "0999"})
TABLE = CategoryTable({"盗窃": "0101", "殴打他人": "0104", "火灾": "0401"}, LEAVES, "report")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)  # type: ignore[misc]


# -- times -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "moment", "day", "precision"),
    [
        ("2025-03-01T09:30:00+08:00", utc(2025, 3, 1, 9, 30), date(2025, 3, 1), "second"),
        ("2025-03-01T01:30:00Z", utc(2025, 3, 1, 9, 30), date(2025, 3, 1), "second"),
        ("2025-03-01T09:30:00", utc(2025, 3, 1, 9, 30), date(2025, 3, 1), "second"),  # no offset: Beijing time
        ("2025-02-28T23:30:00+00:00", utc(2025, 3, 1, 7, 30), date(2025, 3, 1), "second"),  # the local day counts
        ("2025-03-01 09:30:15", utc(2025, 3, 1, 9, 30, 15), date(2025, 3, 1), "second"),
        ("2025-03-01 09:30", utc(2025, 3, 1, 9, 30), date(2025, 3, 1), "second"),
        ("2025-3-1 9:30", utc(2025, 3, 1, 9, 30), date(2025, 3, 1), "second"),
        ("2025/03/01 09:30:15", utc(2025, 3, 1, 9, 30, 15), date(2025, 3, 1), "second"),
        ("2025/3/1 23:05", utc(2025, 3, 1, 23, 5), date(2025, 3, 1), "second"),
        ("20250301093015", utc(2025, 3, 1, 9, 30, 15), date(2025, 3, 1), "second"),
        ("2025-03-01", utc(2025, 3, 1), date(2025, 3, 1), "day"),
        ("2025/03/01", utc(2025, 3, 1), date(2025, 3, 1), "day"),
        ("20250301", utc(2025, 3, 1), date(2025, 3, 1), "day"),
        ("2025-03", utc(2025, 3, 1), date(2025, 3, 1), "month"),
        ("202503", utc(2025, 3, 1), date(2025, 3, 1), "month"),
        ("2025年3月", utc(2025, 3, 1), date(2025, 3, 1), "month"),
        (" 2024年12月 ", utc(2024, 12, 1), date(2024, 12, 1), "month"),
    ],
)
def test_every_accepted_time_format(text: str, moment: datetime, day: date, precision: str) -> None:
    assert parse_time(text, NOW) == (moment, day, precision)


def test_numbers_and_datetimes_are_read_too() -> None:
    assert parse_time(20250301, NOW) == (utc(2025, 3, 1), date(2025, 3, 1), "day")
    assert parse_time(20250301093015, NOW) == (utc(2025, 3, 1, 9, 30, 15), date(2025, 3, 1), "second")
    assert parse_time(datetime(2025, 3, 1, 9, 30), NOW) == (utc(2025, 3, 1, 9, 30), date(2025, 3, 1), "second")


@pytest.mark.parametrize(
    "text",
    [
        "昨天下午",
        "2025.03.01",
        "01/03/2025 09:30",
        "2025-03-01 9",
        "09:30",
        "2025",
        "2025301",
        "2025/03-01",
        "1741000000",  # a Unix timestamp: ambiguous, refused
        "2025-03-01T09:30:00+25:00",
    ],
)
def test_times_in_a_wrong_format_name_the_accepted_formats(text: str) -> None:
    problem = parse_time(text, NOW)
    assert isinstance(problem, str)
    assert "not a time in an accepted format" in problem
    for example in ("ISO 8601", "2025/03/01 09:30", "20250301093000", "20250301", "2025年3月"):
        assert example in problem


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("2025-02-30", "day is out of range"),
        ("2025-13-01 10:00", "month must be in 1..12"),
        ("20251301", "month must be in 1..12"),
        ("2025年13月", "month must be in 1..12"),
        ("2025-03-01 24:10", "hour must be in 0..23"),
    ],
)
def test_impossible_dates_say_why(text: str, words: str) -> None:
    problem = parse_time(text, NOW)
    assert isinstance(problem, str) and words in problem and "accepted format" in problem


def test_times_in_the_future_or_long_past_are_refused() -> None:
    assert parse_time("2025-06-15 12:59", NOW)[2] == "second"  # type: ignore[index]  # within the clock's drift
    assert "future" in str(parse_time("2025-06-15 13:30", NOW))
    assert parse_time("2025-06-15", NOW)[2] == "day"  # type: ignore[index]
    assert "future" in str(parse_time("2025-06-16", NOW))
    assert parse_time("2025-06", NOW)[2] == "month"  # type: ignore[index]
    assert "future" in str(parse_time("2025-07", NOW))
    assert "1949" in str(parse_time("1900-01-01", NOW))
    assert parse_time("", NOW) == "required; the cell is empty"
    assert parse_time(None, NOW) == "required; the cell is empty"


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(1950, 1, 1), max_value=datetime(2025, 6, 14)),
    st.sampled_from(["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y%m%d%H%M%S", "%Y-%m-%dT%H:%M:%S"]),
)
def test_second_formats_round_trip(moment: datetime, pattern: str) -> None:
    local = moment.replace(microsecond=0, tzinfo=SHANGHAI)
    assert parse_time(local.strftime(pattern), NOW) == (local.astimezone(UTC), local.date(), "second")


@settings(max_examples=200, deadline=None)
@given(
    st.dates(min_value=date(1950, 1, 1), max_value=date(2025, 5, 31)),
    st.sampled_from(
        [("%Y-%m-%d", "day"), ("%Y/%m/%d", "day"), ("%Y%m%d", "day"), ("%Y-%m", "month"), ("%Y%m", "month")]
    ),
)
def test_day_and_month_formats_round_trip(day: date, pattern: tuple[str, str]) -> None:
    text, precision = day.strftime(pattern[0]), pattern[1]
    first = day if precision == "day" else day.replace(day=1)
    assert parse_time(text, NOW) == (
        datetime(first.year, first.month, first.day, tzinfo=SHANGHAI).astimezone(UTC),
        first,
        precision,
    )


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_no_text_breaks_the_parser(text: str) -> None:
    result = parse_time(text, NOW)
    assert isinstance(result, str) or (isinstance(result, tuple) and result[0].tzinfo is UTC)


# -- one record ------------------------------------------------------------------------------------------


def row(**values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "record_id": "J001",
        "occurred_at": "2025-03-01 09:30:00",
        "category": "盗窃",
        "lon": FEED_IN_A1[0],
        "lat": FEED_IN_A1[1],
    }
    return {**base, **values}


def test_a_good_row_becomes_a_record() -> None:
    record, problems, unknown = read_record(
        row(address="天桥路1号", severity="一般", deaths="1", injuries=2.0), "110", TABLE, NOW
    )
    assert problems == [] and unknown is None and record is not None
    assert (record.source, record.record_id, record.category_code, record.raw_category) == (
        "110",
        "J001",
        "0101",
        "盗窃",
    )
    assert (record.occurred_at, record.day, record.time_precision) == (
        utc(2025, 3, 1, 9, 30),
        date(2025, 3, 1),
        "second",
    )
    assert (record.lon, record.lat, record.address, record.severity) == (117.1, 32.2, "天桥路1号", "一般")
    assert (record.deaths, record.injuries) == (1, 2)
    assert record.division_code is None  # placed later


def test_a_label_that_is_a_leaf_code_is_taken_as_it_is_and_a_class_is_not() -> None:
    record, problems, _ = read_record(row(category="0501"), "122", TABLE, NOW)
    assert record is not None and record.category_code == "0501" and not problems
    record, problems, unknown = read_record(row(category="05"), "122", TABLE, NOW)
    assert record is None and unknown == "05" and problems[0][0] == "category"


def test_unknown_labels_under_each_policy() -> None:
    for policy in ("report", "reject"):
        table = CategoryTable(TABLE.labels, LEAVES, policy)
        record, problems, unknown = read_record(row(category="宠物扰民"), "110", table, NOW)
        assert record is None and unknown == "宠物扰民"
        assert problems == [
            (
                "category",
                "'宠物扰民' is not in the mapping's category table; add it there (or give a "
                "category code such as 0101)",
            )
        ]
    fallback = CategoryTable(TABLE.labels, LEAVES, "fallback", "0999")
    record, problems, unknown = read_record(row(category="宠物扰民"), "110", fallback, NOW)
    assert record is not None and not problems and unknown == "宠物扰民"
    assert (record.category_code, record.raw_category) == ("0999", "宠物扰民")


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"record_id": ""}, "record_id", "required"),
        ({"record_id": "x" * 65}, "record_id", "longer than 64"),
        ({"occurred_at": "昨天"}, "occurred_at", "accepted format"),
        ({"category": None}, "category", "required"),
        ({"lon": "east"}, "lon", "not a number"),
        ({"lat": "nan"}, "lat", "not a number"),
        ({"lat": None}, "lat", "give both lon and lat"),
        ({"lon": None, "lat": None}, "location", "no location"),
        ({"lon": None, "lat": None, "address_code": "天桥社区"}, "address_code", "not a division code"),
        ({"deaths": "-1"}, "deaths", "0 or more"),
        ({"deaths": "1.5"}, "deaths", "whole number"),
        ({"injuries": "两人"}, "injuries", "whole number"),
        ({"injuries": True}, "injuries", "not a number of people"),
        ({"deaths": "1000000"}, "deaths", "more people than any one record"),
        ({"address": "路" * 301}, "address", "longer than 300"),
        ({"severity": "特" * 17}, "severity", "longer than 16"),
    ],
)
def test_each_bad_cell_is_a_problem_of_its_field(values: dict[str, Any], field: str, words: str) -> None:
    record, problems, _ = read_record(row(**values), "110", TABLE, NOW)
    assert record is None
    assert [p[0] for p in problems] == [field], problems
    assert words in problems[0][1]


def test_every_problem_of_a_row_is_listed() -> None:
    _, problems, unknown = read_record(
        row(record_id=None, occurred_at="later", category="未知", lon=None, lat=None, deaths="-2"), "110", TABLE, NOW
    )
    assert [p[0] for p in problems] == ["record_id", "occurred_at", "category", "location", "deaths"]
    assert unknown == "未知"
    assert problems[3][1] == NO_LOCATION


def test_no_free_text_is_read() -> None:
    record, problems, _ = read_record(row(summary="张三报警称其手机被盗", caller="张三"), "110", TABLE, NOW)
    assert record is not None and not problems
    assert "张三" not in repr(record)


# -- placing ---------------------------------------------------------------------------------------------


def _record(point: tuple[float, float] | None = None, code: str | None = None, rid: str = "R") -> Record:
    lon, lat = point if point is not None else (None, None)
    return Record(
        "110", rid, utc(2025, 3, 1, 9), "second", date(2025, 3, 1), "0101", lon=lon, lat=lat, address_code=code
    )


def _operator(code: str, level: Level) -> Principal:
    role = Role.center_operator
    return Principal(None, "op", role.value, ROLE_PERMISSIONS[role], Scope(code, level))


def test_points_land_in_their_grid_and_codes_stay_at_their_division(db: Database, feeds_city: TinyCity) -> None:
    records = [
        _record(FEED_IN_A1, rid="a"),
        _record(FEED_IN_B2, code=COMMUNITY_A, rid="b"),  # the point wins over the code
        _record(code=COMMUNITY_A, rid="c"),
        _record(code=STREET_B, rid="d"),
        _record(code=OTHER_DISTRICT, rid="e"),
        _record(code=CITY, rid="f"),
    ]
    with db.sessions() as session:
        assert place(session, records) == []
    placed = [(r.division_code, r.district_code, r.street_code, r.community_code, r.grid_code) for r in records]
    assert placed == [
        (GRID_A1, DISTRICT, STREET_A, COMMUNITY_A, GRID_A1),
        (GRID_B2, DISTRICT, STREET_B, "340303002001", GRID_B2),
        (COMMUNITY_A, DISTRICT, STREET_A, COMMUNITY_A, None),
        (STREET_B, DISTRICT, STREET_B, None, None),
        (OTHER_DISTRICT, OTHER_DISTRICT, None, None, None),
        (CITY, None, None, None, None),
    ]


def test_points_that_cannot_be_placed_say_why(db: Database, feeds_city: TinyCity) -> None:
    records = [
        _record(FEED_OUTSIDE, rid="outside"),
        _record((FEED_IN_A1[1], FEED_IN_A1[0]), rid="swapped"),  # (32.2, 117.1): latitude first
        _record(FEED_NO_GRID, rid="no grid"),
        _record((200.0, 100.0), rid="not wgs84"),
        _record(code="340303009", rid="unknown code"),
        _record(FEED_IN_A1, rid="good"),
    ]
    with db.sessions() as session:
        problems = place(session, records)
    assert [(i, field) for i, field, _ in problems] == [
        (0, "location"),
        (1, "location"),
        (2, "location"),
        (3, "location"),
        (4, "address_code"),
    ]
    reasons = [reason for _, _, reason in problems]
    assert reasons[0] == "(119.0, 30.0) lies outside the city"
    assert reasons[1].startswith("coordinates look swapped: (32.2, 117.1) lies outside the city but (117.1, 32.2)")
    assert "inside the city but no grid covers it" in reasons[2]
    assert "not a WGS 84 position" in reasons[3]
    assert "'340303009' is not a division of the map" in reasons[4]
    assert [r.division_code for r in records] == [None, None, None, None, None, GRID_A1]


def test_records_outside_the_importers_area_are_refused(db: Database, feeds_city: TinyCity) -> None:
    records = [
        _record(FEED_IN_A1, rid="mine"),
        _record(code=OTHER_DISTRICT, rid="theirs"),
        _record(code=CITY, rid="city"),
    ]
    with db.sessions() as session:
        problems = place(session, records, _operator(DISTRICT, Level.district))
    assert [(i, field) for i, field, _ in problems] == [(1, "address_code"), (2, "address_code")]
    assert all("outside your area (340303)" in reason for _, _, reason in problems)
    assert records[0].division_code == GRID_A1 and records[1].division_code is None
