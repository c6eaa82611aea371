"""One list convention for every endpoint.

`?page=1&page_size=50&sort=-created_at,name` plus per-endpoint filters; the answer is
`{"items": [...], "total": n, "page": p, "page_size": s}`. Sort keys must be in the endpoint's allow-list.
Map lists take `bbox=min_lon,min_lat,max_lon,max_lat` (`parse_bbox`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Self, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from civicgrid.core.db import AnySelect
from civicgrid.core.errors import InvalidInput

T = TypeVar("T")
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class ListParams:
    page: int
    page_size: int
    sort: str | None


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int

    @classmethod
    def of(cls, items: list[T], total: int, params: ListParams) -> Self:
        return cls(items=items, total=total, page=params.page, page_size=params.page_size)


def list_params(
    page: Annotated[int, Query(ge=1, description="1-based page number")] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="rows per page")] = 50,
    sort: Annotated[
        str | None, Query(description="comma-separated fields, `-` for descending, e.g. `-created_at,name`")
    ] = None,
) -> ListParams:
    return ListParams(page=page, page_size=page_size, sort=sort)


def apply_sort(
    query: AnySelect,
    sort: str | None,
    allowed: Mapping[str, ColumnElement[Any] | QueryableAttribute[Any]],
    default: Sequence[ColumnElement[Any] | QueryableAttribute[Any]],
) -> AnySelect:
    if not sort:
        return query.order_by(*default)
    clauses = []
    for raw in sort.split(","):
        key = raw.strip()
        descending = key.startswith("-")
        name = key.lstrip("-+")
        if name not in allowed:
            raise InvalidInput(
                f"cannot sort by {name!r}",
                details={"field": "sort", "allowed": sorted(allowed)},
            )
        column = allowed[name]
        clauses.append(column.desc() if descending else column.asc())
    return query.order_by(*clauses, *default)


def paginate(session: Session, query: AnySelect, params: ListParams, *, scalars: bool = True) -> tuple[list[Any], int]:
    """Rows of one page (entities, or tuples with `scalars=False`) and the total of the filtered query."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = query.limit(params.page_size).offset((params.page - 1) * params.page_size)
    rows = session.scalars(page).all() if scalars else session.execute(page).all()
    return list(rows), total


def parse_bbox(value: str) -> tuple[float, float, float, float]:
    """`min_lon,min_lat,max_lon,max_lat` as four finite WGS84 numbers with min < max."""
    try:
        box = tuple(float(v) for v in value.split(","))
    except ValueError:
        box = ()
    if len(box) != 4 or not all(math.isfinite(v) for v in box):
        raise InvalidInput(
            "bbox is four numbers: min_lon,min_lat,max_lon,max_lat",
            details=[{"field": "bbox", "problem": "not four numbers"}],
        )
    min_lon, min_lat, max_lon, max_lat = box
    if not (-180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90):
        raise InvalidInput(
            "bbox is min_lon,min_lat,max_lon,max_lat with min < max, longitudes within ±180 and latitudes within ±90",
            details=[{"field": "bbox", "problem": "empty, inverted or out of range"}],
        )
    return min_lon, min_lat, max_lon, max_lat
