"""GB 11643 ID numbers and phone numbers: each failure has its reason and a message a person can act on."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from civicgrid.core.errors import InvalidInput
from civicgrid.core.idnumber import (
    IdNumberProblem,
    InvalidIdNumber,
    InvalidPhone,
    PhoneProblem,
    Sex,
    check_character,
    make_id_number,
    normalise_id_number,
    normalise_phone,
    parse_id_number,
    region,
    regions,
)

TODAY = date(2026, 11, 29)
VALID = "11010519491231002X"  # the example of GB 11643-1999, appendix: Beijing 朝阳区, born 1949-12-31, female


def _refused(value: str, **kwargs: bool) -> InvalidIdNumber:
    with pytest.raises(InvalidIdNumber) as excinfo:
        parse_id_number(value, today=TODAY, **kwargs)
    return excinfo.value


def test_standard_example_parses() -> None:
    parsed = parse_id_number(VALID, today=TODAY)
    assert parsed.region_code == "110105"
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sequence == 2
    assert parsed.sex == Sex.female
    assert parsed.number == VALID
    assert str(parsed) == VALID


def test_lower_case_x_full_width_and_spaces_are_normalised() -> None:
    assert parse_id_number("11010519491231002x", today=TODAY).number == VALID
    assert parse_id_number(" 110105 19491231 002x ", today=TODAY).number == VALID
    assert parse_id_number("１１０１０５１９４９１２３１００２ｘ", today=TODAY).number == VALID
    assert normalise_id_number("11010519491231002x") == VALID


def test_check_character() -> None:
    assert check_character("11010519491231002") == "X"
    assert check_character("34030219900101123") == "7"


@pytest.mark.parametrize(
    ("value", "reason", "says"),
    [
        ("1101051949123100", IdNumberProblem.length, "has 16"),
        ("11010519491231002X1", IdNumberProblem.length, "has 19"),
        ("", IdNumberProblem.length, "has 0"),
        ("110105491231002", IdNumberProblem.length, "15-digit first-generation number must be converted"),
        ("1101051949123100A2", IdNumberProblem.characters, "character 17 of the ID number is 'A'"),
        ("X10105194912310022", IdNumberProblem.characters, "the first 17 must be digits"),
        ("11010519491231002Y", IdNumberProblem.characters, "the last character must be a digit or X"),
        ("110105194912310٢2X", IdNumberProblem.characters, "character 16"),  # an Arabic-Indic digit
        ("999999194912310021", IdNumberProblem.region, "(999999) are not the code of a Chinese province"),
        ("110199194912310021", IdNumberProblem.region, "check them against the ID card"),
        ("110105194902300021", IdNumberProblem.birth_date, "1949-02-30 is not a real date"),
        ("110105194913010021", IdNumberProblem.birth_date, "1949-13-01 is not a real date"),
        ("110105194900010021", IdNumberProblem.birth_date, "is not a real date"),
        ("110105000001010021", IdNumberProblem.birth_date, "0000-01-01 is not a real date"),
        ("110105202612010021", IdNumberProblem.birth_date_future, "(2026-12-01, characters 7–14) is after today"),
        ("110105189912310021", IdNumberProblem.birth_date_too_early, "before 1900"),
        ("110105194912310021", IdNumberProblem.checksum, "is 1 but the first 17 characters call for X"),
        ("11010519491231002X".replace("002X", "0020"), IdNumberProblem.checksum, "probably mistyped"),
    ],
)
def test_every_failure_has_its_reason(value: str, reason: IdNumberProblem, says: str) -> None:
    error = _refused(value)
    assert error.reason == reason
    assert says in error.message
    assert isinstance(error, InvalidInput)  # a 422 with code invalid_id_number if it reaches the API
    assert error.status_code == 422
    assert error.body()["error"]["code"] == "invalid_id_number"
    assert error.body()["error"]["details"] == {"reason": reason.value}
    if len(value) == 18:
        assert value not in error.message  # the message quotes the wrong part, never the whole number


def test_province_and_city_level_codes_are_accepted() -> None:
    for code in ("110000", "340300", "340302", "441900", "810000", "710000"):
        number = make_id_number(code, date(1990, 1, 1), 11)
        assert parse_id_number(number, today=TODAY).region_code == code


def test_unknown_regions_can_be_allowed_for_historical_codes() -> None:
    number = make_id_number("342101", date(1970, 5, 6), 13)  # an old county code, not in today's list
    assert _refused(number).reason == IdNumberProblem.region
    assert parse_id_number(number, today=TODAY, allow_unknown_region=True).region_code == "342101"


def test_born_today_is_accepted_and_tomorrow_is_not() -> None:
    assert parse_id_number(make_id_number("340302", TODAY, 1), today=TODAY).birth_date == TODAY
    assert _refused(make_id_number("340302", TODAY + timedelta(days=1), 1)).reason == IdNumberProblem.birth_date_future
    assert parse_id_number(make_id_number("340302", date(1900, 1, 1), 1), today=TODAY).birth_date.year == 1900


def test_regions_load_the_shipped_list() -> None:
    table = regions()
    assert len(table) > 3300
    assert region("340300") is not None and region("340300").name == "蚌埠市"  # type: ignore[union-attr]
    assert region("340302").level == "county"  # type: ignore[union-attr]
    assert region("340000").level == "province"  # type: ignore[union-attr]
    assert region("000000") is None
    assert regions() is table  # loaded once
    assert all(len(code) == 6 and code.isdigit() for code in table)
    assert {r.level for r in table.values()} == {"province", "city", "county"}


def test_make_id_number_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="6 digits"):
        make_id_number("34030", date(1990, 1, 1), 1)
    with pytest.raises(ValueError, match="0–999"):
        make_id_number("340302", date(1990, 1, 1), 1000)
    with pytest.raises(ValueError, match="odd for men"):
        make_id_number("340302", date(1990, 1, 1), 2, Sex.male)
    assert make_id_number("340302", date(1990, 1, 1), 3, Sex.male)[14:17] == "003"


codes = st.sampled_from(sorted(regions()))
births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
sequences = st.integers(0, 999)


@given(code=codes, birth=births, sequence=sequences)
def test_every_made_number_parses_back_to_its_parts(code: str, birth: date, sequence: int) -> None:
    sex = Sex.male if sequence % 2 else Sex.female
    number = make_id_number(code, birth, sequence, sex)
    parsed = parse_id_number(number, today=TODAY)
    assert (parsed.region_code, parsed.birth_date, parsed.sequence, parsed.sex) == (code, birth, sequence, sex)
    assert parse_id_number(number.lower(), today=TODAY) == parsed


@given(code=codes, birth=births, sequence=sequences, position=st.integers(0, 17), data=st.data())
def test_any_single_character_change_is_refused(
    code: str, birth: date, sequence: int, position: int, data: st.DataObject
) -> None:
    number = make_id_number(code, birth, sequence)
    alphabet = "0123456789X" if position == 17 else "0123456789"
    replacement = data.draw(st.sampled_from(alphabet).filter(lambda c: c != number[position]))
    changed = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(InvalidIdNumber) as excinfo:
        parse_id_number(changed, today=TODAY, allow_unknown_region=True)
    if position >= 14:  # sequence and check character: only the checksum can tell
        assert excinfo.value.reason == IdNumberProblem.checksum


@given(code=codes, birth=births, sequence=sequences, i=st.integers(0, 16))
def test_swapping_two_adjacent_digits_is_refused(code: str, birth: date, sequence: int, i: int) -> None:
    number = make_id_number(code, birth, sequence)
    assume(number[i] != number[i + 1])
    swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
    with pytest.raises(InvalidIdNumber):
        parse_id_number(swapped, today=TODAY, allow_unknown_region=True)


@given(code=codes, days=st.integers(1, 365 * 50), sequence=sequences)
def test_future_birth_dates_are_refused(code: str, days: int, sequence: int) -> None:
    birth = TODAY + timedelta(days=days)
    number = make_id_number(code, birth, sequence)
    assert _refused(number).reason == IdNumberProblem.birth_date_future


# -- phone numbers -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("0552-1234567", "0552-1234567"),
        ("0552 1234567", "0552-1234567"),
        ("(0552) 1234567", "0552-1234567"),
        ("（0552）1234567", "0552-1234567"),
        ("05521234567", "0552-1234567"),
        ("010-12345678", "010-12345678"),
        ("01012345678", "010-12345678"),
        ("021 1234 5678", "021-12345678"),
        ("+86 552 1234567", "0552-1234567"),
        ("+86 10 12345678", "010-12345678"),
    ],
)
def test_normalise_phone(value: str, normalised: str) -> None:
    assert normalise_phone(value) == normalised
    assert normalise_phone(normalised) == normalised


@pytest.mark.parametrize(
    ("value", "reason", "says"),
    [
        ("", PhoneProblem.empty, "empty"),
        ("   ", PhoneProblem.empty, "empty"),
        ("1381234567", PhoneProblem.mobile, "this one has 10 digits"),
        ("138123456789", PhoneProblem.mobile, "this one has 12 digits"),
        ("12812345678", PhoneProblem.mobile, "starts with 13–19"),
        ("0552-123456", PhoneProblem.landline, "7 or 8 digits; found 6"),
        ("0552-123456789", PhoneProblem.landline, "found 9"),
        ("0552-1234567 转 801", PhoneProblem.extension, "extension"),
        ("0552-1234567 ext. 801", PhoneProblem.extension, "extension"),
        ("138abc45678", PhoneProblem.characters, "only digits"),
        ("+1 555 123 4567", PhoneProblem.characters, "only digits"),
        ("5551234567", PhoneProblem.unknown, "not a Chinese phone number"),
    ],
)
def test_bad_phones_are_refused(value: str, reason: PhoneProblem, says: str) -> None:
    with pytest.raises(InvalidPhone) as excinfo:
        normalise_phone(value)
    assert excinfo.value.reason == reason
    assert says in excinfo.value.message
    assert excinfo.value.body()["error"]["code"] == "invalid_phone"


@given(rest=st.text(alphabet="0123456789", min_size=9, max_size=9), second=st.sampled_from("3456789"))
def test_every_mobile_number_normalises_to_itself(rest: str, second: str) -> None:
    number = "1" + second + rest
    assert normalise_phone(number) == number
    assert normalise_phone(f"+86 {number[:3]} {number[3:7]} {number[7:]}") == number
