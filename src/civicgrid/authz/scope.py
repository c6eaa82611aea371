"""Who is acting, and over which part of the city.

A scope is a node of the administrative tree (city, district, street, community or grid) and, for
department staff, a department; a higher node sees everything below it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    city = "city"
    district = "district"
    street = "street"
    community = "community"
    grid = "grid"


LEVEL_ORDER: tuple[Level, ...] = (Level.city, Level.district, Level.street, Level.community, Level.grid)


def level_rank(level: Level | str) -> int:
    return LEVEL_ORDER.index(Level(level))


@dataclass(frozen=True)
class Scope:
    division_code: str
    level: Level
    department_id: int | None = None


@dataclass(frozen=True)
class Principal:
    """The authenticated actor of a request: a person's account or a machine's API key."""

    user_id: int | None
    username: str
    role: str
    permissions: frozenset[str]
    scope: Scope
    api_key_id: int | None = None
    unit_id: int | None = None

    @property
    def actor_label(self) -> str:
        if self.api_key_id is not None:
            return f"apikey:{self.api_key_id}"
        if self.user_id is not None:
            return f"user:{self.user_id}"
        return f"system:{self.username}"  # a local operator at the command line

    def can(self, permission: str) -> bool:
        return permission in self.permissions
