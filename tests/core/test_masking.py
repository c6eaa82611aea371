"""Masking rules, and properties every masking function keeps: length, no invented characters, idempotence."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicgrid.core.masking import MASK, mask_id_number, mask_name, mask_phone


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三明", "张*明"),
        ("张三", "张*"),
        ("张", "张"),
        ("欧阳娜娜", "欧**娜"),
        ("司马相如子", "司***子"),
        ("阿卜杜拉·艾买提", "阿******提"),
        ("John Smith", "J*** S****"),
        ("Madonna", "M******"),
        ("Jean-Luc  Picard", "J*******  P*****"),
        ("José María", "J*** M****"),
        ("", ""),
        ("A", "A"),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("340302199001011234", "340302********1234"),
        ("34030219900101123X", "340302********123X"),
        ("340302900101123", "340302******123"),  # first-generation 15 digits
        ("E12345678", "E1*****78"),  # passport
        ("AB1234", "A****4"),
        ("AB", "**"),
        ("", ""),
    ],
)
def test_mask_id_number(value: str, masked: str) -> None:
    assert mask_id_number(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13812345678", "138****5678"),
        ("0552-1234567", "0552-***4567"),
        ("010-12345678", "010-****5678"),
        ("021-1234567", "021-***4567"),
        ("05521234567", "0552***4567"),
        ("01012345678", "010****5678"),
        ("+86 138 1234 5678", "*** *** **** 5678"),
        ("12345", "*2345"),
        ("", ""),
    ],
)
def test_mask_phone(value: str, masked: str) -> None:
    assert mask_phone(value) == masked


CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
LATIN = st.characters(codec="ascii", categories=("Lu", "Ll"))
any_text = st.text(alphabet=st.one_of(CJK, LATIN, st.sampled_from(" *-0123456789·()+")), max_size=24)


def _never_invents(original: str, masked: str) -> None:
    assert len(masked) == len(original)
    for before, after in zip(original, masked, strict=True):
        assert after in (before, MASK)


@pytest.mark.parametrize("mask", [mask_name, mask_id_number, mask_phone])
@given(value=any_text)
def test_masking_keeps_length_invents_nothing_and_is_idempotent(mask: Callable[[str], str], value: str) -> None:
    masked = mask(value)
    _never_invents(value, masked)
    assert mask(masked) == masked


@given(name=st.text(alphabet=CJK, min_size=1, max_size=8))
def test_chinese_names_reveal_at_most_the_first_and_last_character(name: str) -> None:
    masked = mask_name(name)
    assert masked[0] == name[0]
    if len(name) == 2:
        assert masked[1] == MASK
    elif len(name) > 2:
        assert masked[1:-1] == MASK * (len(name) - 2)
        assert masked[-1] == name[-1]


@given(words=st.lists(st.text(alphabet=LATIN, min_size=1, max_size=10), min_size=1, max_size=4))
def test_latin_names_reveal_only_initials(words: list[str]) -> None:
    name = " ".join(words)
    assert mask_name(name) == " ".join(w[0] + MASK * (len(w) - 1) for w in words)


digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


@given(number=st.text(alphabet="0123456789", min_size=17, max_size=17), check=st.sampled_from("0123456789X"))
def test_id_numbers_hide_birth_date_and_sequence(number: str, check: str) -> None:
    masked = mask_id_number(number + check)
    assert masked[6:14] == MASK * 8
    assert masked[:6] == number[:6]
    assert masked[14:] == number[14:] + check


@given(middle=st.text(alphabet="0123456789", min_size=8, max_size=8), prefix=st.sampled_from("3456789"))
def test_mobiles_hide_the_middle_four(middle: str, prefix: str) -> None:
    number = "1" + prefix + middle + "0"
    masked = mask_phone(number)
    assert masked[3:7] == MASK * 4
    assert masked[:3] == number[:3] and masked[7:] == number[7:]


@given(
    area=st.sampled_from(["010", "021", "0552", "0755"]),
    local=st.text(alphabet="0123456789", min_size=7, max_size=8),
    dashed=st.booleans(),
)
def test_landlines_keep_area_code_and_last_four(area: str, local: str, dashed: bool) -> None:
    number = f"{area}-{local}" if dashed else area + local
    masked = mask_phone(number)
    assert masked.startswith(area)
    assert masked.endswith(local[-4:])
    assert masked.count(MASK) == len(local) - 4


@given(value=st.text(max_size=30))
def test_phone_fallback_reveals_at_most_four_digits(value: str) -> None:
    masked = mask_phone(value)
    if not masked.startswith(("1", "0")):
        assert sum(c.isdigit() for c in masked) <= 4
