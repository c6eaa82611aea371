"""Citizen ID numbers (GB 11643-1999) and phone numbers: normalise, validate, explain what is wrong.

An ID number has 18 characters: a 6-digit division code (the county, city or province where it was
first issued), the birth date as YYYYMMDD, a 3-digit sequence whose last digit is odd for men and even
for women, and a check character (ISO 7064 MOD 11-2: a digit or X).

Each failure raises `InvalidIdNumber` with its own reason code and a message a person can act on; the
message quotes the part that is wrong, never the whole number.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache
from importlib import resources

from civicgrid.core.errors import InvalidInput

ID_NUMBER_LENGTH = 18
EARLIEST_BIRTH_YEAR = 1900
_WEIGHTS = tuple(2 ** (17 - i) % 11 for i in range(17))  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
_CHECK_CHARS = "10X98765432"
_SPACES = re.compile(r"\s+")


class Sex(StrEnum):
    """As in the sex code table (GB/T 2261.1)."""

    male = "1"
    female = "2"


class IdNumberProblem(StrEnum):
    """Why an ID number was refused (the `reason` of InvalidIdNumber)."""

    length = "length"
    characters = "characters"
    region = "region"
    birth_date = "birth_date"
    birth_date_future = "birth_date_future"
    birth_date_too_early = "birth_date_too_early"
    checksum = "checksum"


class InvalidIdNumber(InvalidInput):
    """The ID number is not valid; `reason` says why (an IdNumberProblem), the message what to do."""

    code = "invalid_id_number"

    def __init__(self, reason: IdNumberProblem, message: str) -> None:
        super().__init__(message, details={"reason": reason.value})
        self.reason = reason


class PhoneProblem(StrEnum):
    empty = "empty"
    characters = "characters"
    extension = "extension"
    mobile = "mobile"
    landline = "landline"
    unknown = "unknown"


class InvalidPhone(InvalidInput):
    code = "invalid_phone"

    def __init__(self, reason: PhoneProblem, message: str) -> None:
        super().__init__(message, details={"reason": reason.value})
        self.reason = reason


@dataclass(frozen=True)
class IdNumber:
    region_code: str
    birth_date: date
    sex: Sex
    sequence: int  # 0–999, the 15th–17th characters
    number: str  # the normalised 18 characters

    def __str__(self) -> str:
        return self.number


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str  # province, city, county


@lru_cache(maxsize=1)
def regions() -> dict[str, Region]:
    """Every current division code at province, city and county level (resources/regions/cn_regions.csv)."""
    text = resources.files("civicgrid.resources").joinpath("regions/cn_regions.csv").read_text(encoding="utf-8")
    return {row["code"]: Region(row["code"], row["name"], row["level"]) for row in csv.DictReader(io.StringIO(text))}


def region(code: str) -> Region | None:
    return regions().get(code)


def normalise_id_number(value: str) -> str:
    """Full-width characters made ASCII, spaces removed, a final x upper-cased; not validated."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", value)).upper()


def check_character(first17: str) -> str:
    """The check character of the first 17 digits."""
    return _CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def _birth_date(digits: str) -> date | None:
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def parse_id_number(value: str, *, today: date, allow_unknown_region: bool = False) -> IdNumber:
    """Validate an ID number and read its parts; InvalidIdNumber says what is wrong.

    `allow_unknown_region` accepts a first six digits that are not a current division code (numbers
    issued in a county since merged or renamed keep their old code); they must still be six digits.
    """
    number = normalise_id_number(value)
    if len(number) != ID_NUMBER_LENGTH:
        hint = (
            " — a 15-digit first-generation number must be converted to the 18-character form"
            if len(number) == 15
            else ""
        )
        raise InvalidIdNumber(
            IdNumberProblem.length,
            f"an ID number has 18 characters (17 digits, then a digit or X); this one has {len(number)}{hint}",
        )
    for position, char in enumerate(number, 1):
        allowed = char.isascii() and (char.isdigit() or (position == ID_NUMBER_LENGTH and char == "X"))
        if not allowed:
            where = "the last character must be a digit or X" if position == 18 else "the first 17 must be digits"
            raise InvalidIdNumber(
                IdNumberProblem.characters,
                f"character {position} of the ID number is {char!r}; {where}",
            )
    code = number[:6]
    if not allow_unknown_region and code not in regions():
        raise InvalidIdNumber(
            IdNumberProblem.region,
            f"the first six digits ({code}) are not the code of a Chinese province, city or county; "
            "check them against the ID card",
        )
    digits = number[6:14]
    birth = _birth_date(digits)
    shown = f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    if birth is None:
        raise InvalidIdNumber(
            IdNumberProblem.birth_date,
            f"characters 7–14 must be the birth date as YYYYMMDD, but {shown} is not a real date",
        )
    if birth > today:
        raise InvalidIdNumber(
            IdNumberProblem.birth_date_future,
            f"the birth date in the ID number ({shown}, characters 7–14) is after today ({today.isoformat()})",
        )
    if birth.year < EARLIEST_BIRTH_YEAR:
        raise InvalidIdNumber(
            IdNumberProblem.birth_date_too_early,
            f"the birth date in the ID number ({shown}, characters 7–14) is before {EARLIEST_BIRTH_YEAR}",
        )
    expected = check_character(number[:17])
    if number[17] != expected:
        raise InvalidIdNumber(
            IdNumberProblem.checksum,
            f"the check character (the 18th) is {number[17]} but the first 17 characters call for {expected}: "
            "a character was probably mistyped — compare the whole number with the ID card",
        )
    sequence = int(number[14:17])
    return IdNumber(
        region_code=code,
        birth_date=birth,
        sex=Sex.male if sequence % 2 else Sex.female,
        sequence=sequence,
        number=number,
    )


def make_id_number(region_code: str, birth_date: date, sequence3: int, sex: Sex | None = None) -> str:
    """A valid ID number (for generators and tests); the sequence's parity must agree with `sex` if given."""
    if not (len(region_code) == 6 and region_code.isascii() and region_code.isdigit()):
        raise ValueError(f"region code must be 6 digits, not {region_code!r}")
    if not 0 <= sequence3 <= 999:
        raise ValueError(f"sequence must be 0–999, not {sequence3}")
    if sex is not None and (sequence3 % 2 == 1) != (sex == Sex.male):
        raise ValueError("the sequence's last digit is odd for men and even for women")
    if not 0 < birth_date.year <= 9999:  # pragma: no cover - date enforces it
        raise ValueError("birth year out of range")
    first17 = f"{region_code}{birth_date:%Y%m%d}{sequence3:03d}"
    return first17 + check_character(first17)


# -- phone numbers ---------------------------------------------------------------------------------------

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_AREA_3 = re.compile(r"0[12][0-9]")  # 010 Beijing, 02x the largest cities
_SEPARATORS = re.compile(r"[\s\-()（）.]")
_EXTENSION = re.compile(r"(转|ext\.?|x|#)", re.IGNORECASE)


def normalise_phone(value: str) -> str:
    """A Chinese mobile number as 11 digits, or a landline as `area-local` (e.g. 0552-1234567).

    Spaces, dashes, brackets and a +86 / 0086 prefix are removed; anything else raises InvalidPhone.
    """
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        raise InvalidPhone(PhoneProblem.empty, "the phone number is empty")
    if _EXTENSION.search(text):
        raise InvalidPhone(PhoneProblem.extension, "extensions are not stored; give the number without its extension")
    area_given = None
    dashed = re.fullmatch(r"\(?(0[0-9]{2,3})\)?[\s-]+([0-9][0-9\s-]*)", text)
    if dashed:
        area_given = dashed.group(1)
    digits = _SEPARATORS.sub("", text)
    international = False
    if digits.startswith("+86"):
        digits, international = digits[3:], True
    elif digits.startswith("0086"):
        digits, international = digits[4:], True
    elif len(digits) == 13 and digits.startswith("86") and _MOBILE.fullmatch(digits[2:]):
        digits = digits[2:]
    if not digits.isascii() or not digits.isdigit():
        raise InvalidPhone(
            PhoneProblem.characters,
            "a phone number may contain only digits, spaces, dashes, brackets and a leading +86",
        )
    if international and not digits.startswith("0") and not _MOBILE.fullmatch(digits):
        digits = "0" + digits  # +86 552 1234567 → 0552 1234567; +86 10 … → 010 …
    if digits.startswith("1"):
        if _MOBILE.fullmatch(digits):
            return digits
        raise InvalidPhone(
            PhoneProblem.mobile,
            f"a mobile number has 11 digits starting with 13–19; this one has {len(digits)} digits"
            if len(digits) != 11
            else "a mobile number starts with 13–19",
        )
    if digits.startswith("0"):
        area_length = len(area_given) if area_given else (3 if _AREA_3.match(digits) else 4)
        area, local = digits[:area_length], digits[area_length:]
        if area_length == 3 and not _AREA_3.fullmatch(area):
            raise InvalidPhone(PhoneProblem.landline, f"{area} is not an area code; 3-digit codes are 010 and 02x")
        if not 7 <= len(local) <= 8:
            raise InvalidPhone(
                PhoneProblem.landline,
                f"after the area code {area}, a landline number has 7 or 8 digits; found {len(local)}",
            )
        return f"{area}-{local}"
    raise InvalidPhone(
        PhoneProblem.unknown,
        "not a Chinese phone number: mobiles have 11 digits starting with 13–19, landlines start with the "
        "area code (e.g. 0552-1234567)",
    )
