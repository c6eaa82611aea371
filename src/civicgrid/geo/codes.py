"""Division codes after the national statistical division scheme, and grid codes.

| level     | digits | example           | prefix rule                                   |
|-----------|--------|-------------------|-----------------------------------------------|
| city      | 6      | 340300            | province = first 2 digits + "0000"            |
| district  | 6      | 340302            | first 4 digits are the city's                 |
| street    | 9      | 340302001         | first 6 digits are the district's             |
| community | 12     | 340302001002      | first 9 digits are the street's               |
| grid      | 15     | 340302001002003   | first 12 digits are the community's           |
"""

from __future__ import annotations

from civicgrid.authz.scope import LEVEL_ORDER, Level

CODE_LENGTH: dict[Level, int] = {
    Level.city: 6,
    Level.district: 6,
    Level.street: 9,
    Level.community: 12,
    Level.grid: 15,
}

# How many leading digits a code shares with its parent's code.
PARENT_PREFIX: dict[Level, int] = {
    Level.district: 4,
    Level.street: 6,
    Level.community: 9,
    Level.grid: 12,
}

ANCESTOR_COLUMNS: dict[Level, str] = {
    Level.city: "city_code",
    Level.district: "district_code",
    Level.street: "street_code",
    Level.community: "community_code",
    Level.grid: "grid_code",
}


def parent_level(level: Level) -> Level | None:
    index = LEVEL_ORDER.index(level)
    return LEVEL_ORDER[index - 1] if index > 0 else None


def child_level(level: Level) -> Level | None:
    index = LEVEL_ORDER.index(level)
    return LEVEL_ORDER[index + 1] if index + 1 < len(LEVEL_ORDER) else None


def parse_level(value: str) -> Level | None:
    try:
        return Level(value.strip().lower())
    except ValueError:
        return None


def code_problem(code: str, level: Level) -> str | None:
    """Why `code` is not a well-formed code of `level`, or None."""
    expected = CODE_LENGTH[level]
    if not code:
        return "the code is empty"
    if not code.isascii() or not code.isdigit():
        return f"a {level.value} code has only digits, got {code!r}"
    if len(code) != expected:
        return f"a {level.value} code has {expected} digits, got {len(code)} ({code})"
    return None


def prefix_problem(code: str, level: Level, parent_code: str) -> str | None:
    """Why `code` cannot be a child of `parent_code` under the national scheme, or None."""
    if level == Level.city:
        province = code[:2] + "0000"
        if parent_code and parent_code != province:
            return f"a city's parent is its province {province}, got {parent_code}"
        return None
    n = PARENT_PREFIX[level]
    if code[:n] != parent_code[:n]:
        return f"{code} does not start with its parent's prefix {parent_code[:n]}"
    return None


def level_of_code(code: str) -> Level | None:
    """The level a code's length implies (6 digits: district unless it ends in 00)."""
    if not code.isdigit():
        return None
    if len(code) == 6:
        return Level.city if code.endswith("00") else Level.district
    return {9: Level.street, 12: Level.community, 15: Level.grid}.get(len(code))


def grid_code(community_code: str, number: int) -> str:
    if not 1 <= number <= 999:
        raise ValueError(f"grid number must be 1..999, got {number}")
    return f"{community_code}{number:03d}"


def is_village(community_code: str) -> bool:
    """Villagers' committees have 2xx as the last three digits of a 12-digit code (urban ones 0xx/1xx)."""
    return len(community_code) == 12 and community_code[9] == "2"
