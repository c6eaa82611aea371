"""Masking of names, ID numbers and phone numbers in responses (DESIGN §5).

Every function keeps the length of its input, only ever replaces characters by `*` (it never invents
or moves any), and is idempotent: masking a masked value changes nothing, so a value that passed through
masking twice (a cached response, a re-export) reads the same.

- Chinese names keep the first character, and the last when there are three or more:
  张三 → 张*, 张三明 → 张*明, 欧阳娜娜 → 欧**娜; one character is left as it is.
- Names without Chinese characters (foreigners) keep the first letter of each word: John Smith → J*** S****.
- Citizen ID numbers (18 characters) keep the region code and the last four: 340302********1234;
  old 15-digit numbers keep 6 and 3; other documents keep 2 and 2 (1 and 1 when shorter than 8).
- Mobile numbers keep 3 and 4: 138****5678. Landlines keep the area code and the last four:
  0552-***4567, 010-****5678 (with or without the dash). Anything else keeps only its last four digits.
"""

from __future__ import annotations

import re

MASK = "*"

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
# Shapes recognised whether or not already masked; the kept positions must be digits, so that the
# fallback's output (at most four digits) never takes one of these shapes on a second pass.
_AREA = r"0(?:[12][0-9]|[3-9][0-9]{2})"  # 010, 02x: 3 digits; elsewhere 4
_MOBILE = re.compile(r"1[0-9]{2}[0-9*]{4}[0-9]{4}")
_LANDLINE_DASHED = re.compile(rf"({_AREA})-([0-9*]{{3,4}}[0-9]{{4}})")
_LANDLINE_PLAIN = re.compile(rf"{_AREA}[0-9*]{{3,4}}[0-9]{{4}}")


def _keep(value: str, head: int, tail: int) -> str:
    """The first `head` and last `tail` characters, everything between masked."""
    if head + tail >= len(value):
        return value
    return value[:head] + MASK * (len(value) - head - tail) + value[len(value) - tail :]


def mask_name(name: str) -> str:
    if not name:
        return name
    # Chinese or not is decided on the first and last characters: masking keeps both, so a second pass
    # takes the same branch (idempotence).
    if _CJK.match(name[0]) or _CJK.match(name[-1]):
        if len(name) == 1:
            return name
        if len(name) == 2:
            return name[0] + MASK
        return _keep(name, 1, 1)
    # Latin and other scripts: the first character of each word; spaces stay where they are.
    out = []
    at_word_start = True
    for char in name:
        if char.isspace():
            out.append(char)
            at_word_start = True
        elif at_word_start:
            out.append(char)
            at_word_start = False
        else:
            out.append(MASK)
    return "".join(out)


def mask_id_number(value: str) -> str:
    if len(value) == 18:
        return _keep(value, 6, 4)
    if len(value) == 15:
        return _keep(value, 6, 3)
    if len(value) >= 8:
        return _keep(value, 2, 2)
    if len(value) >= 3:
        return _keep(value, 1, 1)
    return MASK * len(value)


def _landline_area_length(number: str) -> int:
    """Area codes are 3 digits for Beijing (010) and the 02x cities, 4 digits elsewhere."""
    return 3 if number[1] in "12" else 4


def mask_phone(value: str) -> str:
    if _MOBILE.fullmatch(value):
        return _keep(value, 3, 4)
    dashed = _LANDLINE_DASHED.fullmatch(value)
    if dashed:
        area, local = dashed.groups()
        return f"{area}-{_keep(local, 0, 4)}"
    if _LANDLINE_PLAIN.fullmatch(value):
        return _keep(value, _landline_area_length(value), 4)
    # Unknown shape: keep only the last four digits; separators stay, every other character is masked.
    digits_seen = 0
    out = []
    for char in reversed(value):
        if char.isdigit() and digits_seen < 4:
            digits_seen += 1
            out.append(char)
        elif char in " -()":
            out.append(char)
        else:
            out.append(MASK)
    return "".join(reversed(out))
