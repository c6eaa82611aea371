"""Placing any object in a grid: the ancestor-code columns that scope filters and summaries use.

A model that lives in a grid inherits `InGrid`; its four code columns are copied from the grid when
the object is placed (`area_values(grid)`), so "everything in street X" is one indexed equality and
`authz.restrict` works on it unchanged.
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from civicgrid.authz.scope import Level
from civicgrid.geo.models import Division


class InGrid:
    __scope_columns__: ClassVar[dict[Level, str]] = {
        Level.district: "district_code",
        Level.street: "street_code",
        Level.community: "community_code",
        Level.grid: "grid_code",
    }

    district_code: Mapped[str] = mapped_column(String(15), index=True)
    street_code: Mapped[str] = mapped_column(String(15), index=True)
    community_code: Mapped[str] = mapped_column(String(15), index=True)
    grid_code: Mapped[str] = mapped_column(String(15), index=True)


def area_values(grid: Division) -> dict[str, str]:
    """The code columns of an object placed in `grid`."""
    if grid.level != Level.grid.value:
        raise ValueError(f"{grid.code} is a {grid.level}, not a grid")
    assert grid.district_code and grid.street_code and grid.community_code
    return {
        "district_code": grid.district_code,
        "street_code": grid.street_code,
        "community_code": grid.community_code,
        "grid_code": grid.code,
    }
