"""The demo city: real Bengbu division codes and names inside the real outline, synthetic boundaries.

`build_city` writes 1 city, 9 districts, 87 streets and 1,157 communities from
`resources/bengbu/divisions.csv`, generated boundaries that tile the outline as nested partitions, grids
inside every community (one per ~300 households of the reference size, so ~4,000 at every scale),
households and population (1,222,000 and 3,441,000 at scale 1), and the organisation units
(综治中心 per city/district/street, ~63 city departments plus police and urban-management branches per
district, a committee per community).

Method: see docs/geo.md ("Demo city"). Deterministic for a seed.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import shapely
from rich.progress import Progress as RichProgress
from rich.progress import TaskID
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from civicgrid.authz.scope import Level
from civicgrid.demo import partition
from civicgrid.demo.org_units import org_unit_rows
from civicgrid.geo import service as geo_service
from civicgrid.geo.codes import grid_code, is_village
from civicgrid.geo.geometry import geometry_columns
from civicgrid.geo.gridding import grids_for_households, merge_pieces, partition_polygon, split_total
from civicgrid.org import service as org_service

TOTAL_HOUSEHOLDS = 1_222_000
TOTAL_POPULATION = 3_441_000
HOUSEHOLDS_PER_GRID = 300
# Relative ground area of an urban residents' committee and of a village.
URBAN_AREA, VILLAGE_AREA = 1.0, 5.0
FINE_CELLS_PER_COMMUNITY = 14

# Approximate seats of the district-level units (lon, lat), from resources/bengbu/SOURCE.md.
SEATS: dict[str, tuple[float, float]] = {
    "340302": (117.40, 32.94),
    "340303": (117.36, 32.93),
    "340304": (117.33, 32.93),
    "340311": (117.36, 32.98),
    "340321": (117.19, 32.97),
    "340322": (117.88, 33.13),
    "340323": (117.32, 33.32),
    "340371": (117.28, 32.91),
    "340372": (117.43, 32.89),
}
COUNTIES = ("340321", "340322", "340323")

Progress = Callable[[str, int, int], None]


def _reporter(progress: Progress | RichProgress | None) -> Progress | None:
    """A (stage, done, total) callback from a callback or a Rich progress display (one bar per stage)."""
    if progress is None or not isinstance(progress, RichProgress):
        return progress
    bar = progress
    tasks: dict[str, TaskID] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return report


@dataclass
class CityStats:
    scale: float
    seed: int
    counts: dict[str, int]
    households: int
    population: int
    org_units: int
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class _Node:
    code: str
    name: str
    level: Level
    parent: str | None
    children: list[str] = field(default_factory=list)
    geometry: BaseGeometry | None = None
    households: int = 0
    population: int = 0


def _resource(name: str) -> bytes:
    return resources.files("civicgrid.resources").joinpath("bengbu").joinpath(name).read_bytes()


def load_outline() -> BaseGeometry:
    document = json.loads(_resource("city_outline.geojson"))
    return shapely.from_geojson(json.dumps(document["features"][0]["geometry"]))


def load_tree() -> dict[str, _Node]:
    nodes: dict[str, _Node] = {}
    for row in csv.DictReader(io.StringIO(_resource("divisions.csv").decode("utf-8"))):
        level = Level(row["level"])
        parent = row["parent_code"] if level != Level.city else None
        nodes[row["code"]] = _Node(row["code"], row["name"], level, parent)
    for node in nodes.values():
        if node.parent:
            nodes[node.parent].children.append(node.code)
    for node in nodes.values():
        node.children.sort()
    return nodes


def short_name(name: str) -> str:
    """The place name of a committee: 勤俭里社区居委会 → 勤俭里社区, 张庄村民委员会 → 张庄村."""
    for suffix in ("居民委员会", "居委会", "村民委员会", "村委会"):
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            return stem if suffix.startswith("居") or stem.endswith("村") else stem + "村"
    return name


def _density(seats: dict[str, tuple[float, float]]) -> Callable[[np.ndarray[Any, Any], np.ndarray[Any, Any]], Any]:
    urban = np.array([xy for code, xy in seats.items() if code not in COUNTIES])
    county = np.array([xy for code, xy in seats.items() if code in COUNTIES])

    def density(x: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> Any:
        value = np.full(x.shape, 1.0)
        for bumps, amplitude, sigma in ((urban, 3.0, 0.04), (county, 5.0, 0.02)):
            for bx, by in bumps:
                value += amplitude * np.exp(-((x - bx) ** 2 + (y - by) ** 2) / (2 * sigma**2))
        return value

    return density


def _households(nodes: dict[str, _Node], scale: float, rng: np.random.Generator) -> None:
    communities = sorted(c for c, n in nodes.items() if n.level == Level.community)
    urban = np.array([not is_village(c) for c in communities])
    raw = np.where(urban, rng.uniform(2000, 4000, len(communities)), rng.uniform(400, 900, len(communities)))
    total_households = round(TOTAL_HOUSEHOLDS * scale)
    households = split_total(max(total_households, len(communities)), raw)
    persons = np.array(households) * rng.uniform(2.5, 3.1, len(communities))
    population = split_total(round(TOTAL_POPULATION * scale), persons)
    for code, h, p in zip(communities, households, population, strict=True):
        nodes[code].households = max(1, h)
        nodes[code].population = max(1, p)


def _area_weight(nodes: dict[str, _Node], code: str, memo: dict[str, float], jitter: dict[str, float]) -> float:
    if code in memo:
        return memo[code]
    node = nodes[code]
    if node.level == Level.community:
        value = (URBAN_AREA if not is_village(code) else VILLAGE_AREA) * jitter[code]
    else:
        value = sum(_area_weight(nodes, child, memo, jitter) for child in node.children)
    memo[code] = value
    return value


def _urban_share(nodes: dict[str, _Node], code: str) -> float:
    communities = _communities_under(nodes, code)
    return sum(not is_village(c) for c in communities) / max(1, len(communities))


def _communities_under(nodes: dict[str, _Node], code: str) -> list[str]:
    node = nodes[code]
    if node.level == Level.community:
        return [code]
    return [c for child in node.children for c in _communities_under(nodes, child)]


def build_geometry(
    nodes: dict[str, _Node], outline: BaseGeometry, rng: np.random.Generator, progress: Progress | None = None
) -> None:
    """Cut the outline into districts, each district into streets, each street into communities.

    Every parent gets its own fine cells (a number proportional to the communities below it, denser
    near the urban seats), so even the smallest child is made of several cells.
    """
    city_code = next(c for c, n in nodes.items() if n.level == Level.city)
    communities = [c for c, n in nodes.items() if n.level == Level.community]
    density = _density(SEATS)
    jitter = {c: float(rng.uniform(0.6, 1.4)) for c in sorted(communities)}
    weights: dict[str, float] = {}
    nodes[city_code].geometry = outline
    parents = [city_code]
    for level in (Level.district, Level.street, Level.community):
        next_parents: list[str] = []
        for done, parent_code in enumerate(parents):
            parent = nodes[parent_code]
            children = parent.children
            if not children:
                continue
            assert parent.geometry is not None
            if len(children) == 1:
                nodes[children[0]].geometry = parent.geometry
                next_parents.extend(children)
                continue
            n = FINE_CELLS_PER_COMMUNITY * max(len(_communities_under(nodes, parent_code)), len(children))
            points = partition.sample_weighted(parent.geometry, n, density, rng)
            fine = partition.fine_cells(parent.geometry, points)
            members = np.arange(len(points), dtype=np.int64)
            targets = np.array([_area_weight(nodes, c, weights, jitter) for c in children])
            if level == Level.district:
                scale = np.array([fine.factor, 1.0])
                seeds = np.array([np.array(SEATS[c]) * scale for c in children])
            else:
                centre = fine.xy[int(np.argmax(density(points[:, 0], points[:, 1])))]
                urbanness = [(-_urban_share(nodes, c), float(rng.uniform()), i) for i, c in enumerate(children)]
                order = [i for _, _, i in sorted(urbanness)]
                seeds = partition.ring_seeds(fine, members, centre, order, targets, rng)
            fixed = np.array([level == Level.district and c not in COUNTIES for c in children])
            groups = partition.split_cells(fine, members, seeds, targets, fixed=fixed)
            shapes = [partition.union_cells(fine, group) for group in groups]
            for child, shape in zip(children, _single_parts(shapes), strict=True):
                nodes[child].geometry = shape
            next_parents.extend(children)
            if progress:
                progress(f"{level.value} boundaries", done + 1, len(parents))
        if progress:
            progress(f"{level.value} boundaries", len(parents), len(parents))
        parents = next_parents


def _single_parts(shapes: list[BaseGeometry]) -> list[BaseGeometry]:
    """Hand stray fragments (a fine cell cut by a bend of the parent's edge) to the sibling they touch most."""
    mains: list[BaseGeometry] = []
    strays: list[BaseGeometry] = []
    for shape in shapes:
        parts = sorted(shapely.get_parts(shape), key=lambda p: -p.area)
        mains.append(parts[0])
        strays.extend(parts[1:])
    return merge_pieces(mains, strays) if strays else mains


def _grid_rows(
    nodes: dict[str, _Node], scale: float, rng: np.random.Generator, progress: Progress | None
) -> list[dict[str, Any]]:
    """Grids of every community: as many as the community's households at the reference size need.

    The grid layout is the city's, not the sample's: a smaller scale has fewer residents per grid, not
    fewer grids, so the demo always shows the ~4,000 grids of the reference city.
    """
    rows: list[dict[str, Any]] = []
    communities = sorted(c for c, n in nodes.items() if n.level == Level.community)
    for done, code in enumerate(communities):
        community = nodes[code]
        assert community.geometry is not None
        k = grids_for_households(round(community.households / scale), HOUSEHOLDS_PER_GRID)
        polygons = partition_polygon(community.geometry, k, rng=rng, samples_per_grid=40)
        areas = [p.area for p in polygons]
        households = split_total(community.households, areas)
        population = split_total(community.population, areas)
        place = short_name(community.name)
        for number, (polygon, h, p) in enumerate(zip(polygons, households, population, strict=True), start=1):
            code_ = grid_code(code, number)
            rows.append(
                {
                    "code": code_,
                    "name": f"{place}第{number}网格",
                    "level": Level.grid.value,
                    "parent_code": code,
                    "is_urban": not is_village(code),
                    "households": h,
                    "population": p,
                    **_ancestors(nodes, code_, Level.grid, code),
                    **geometry_columns(polygon),
                }
            )
        if progress and (done % 25 == 0 or done + 1 == len(communities)):
            progress("grids", done + 1, len(communities))
    return rows


def _ancestors(nodes: dict[str, _Node], code: str, level: Level, parent: str | None) -> dict[str, str | None]:
    columns: dict[str, str | None] = {
        "city_code": None,
        "district_code": None,
        "street_code": None,
        "community_code": None,
        "grid_code": None,
    }
    columns[f"{level.value}_code"] = code
    while parent:
        node = nodes[parent]
        columns[f"{node.level.value}_code"] = node.code
        parent = node.parent
    return columns


def _rollup(nodes: dict[str, _Node]) -> None:
    for level in (Level.street, Level.district, Level.city):
        for node in nodes.values():
            if node.level == level:
                node.households = sum(nodes[c].households for c in node.children)
                node.population = sum(nodes[c].population for c in node.children)


def build_city(
    session: Session,
    *,
    scale: float = 0.05,
    seed: int = 20261129,
    progress: Progress | RichProgress | None = None,
) -> CityStats:
    """Write the demo city's divisions, grids and organisation units (the caller commits).

    `progress` is a `(stage, done, total)` callback or a Rich `Progress` (one bar per stage).
    """
    report = _reporter(progress)
    if not 0 < scale <= 10:
        raise ValueError("scale must be in (0, 10]")
    timings: dict[str, float] = {}
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    nodes = load_tree()
    outline = load_outline()
    _households(nodes, scale, rng)
    _rollup(nodes)
    build_geometry(nodes, outline, rng, report)
    timings["boundaries"] = time.perf_counter() - started
    mark = time.perf_counter()
    grid_rows = _grid_rows(nodes, scale, rng, report)
    timings["grids"] = time.perf_counter() - mark
    mark = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for node in nodes.values():
        assert node.geometry is not None
        rows.append(
            {
                "code": node.code,
                "name": node.name,
                "level": node.level.value,
                "parent_code": node.parent,
                "is_urban": (not is_village(node.code)) if node.level == Level.community else None,
                "households": node.households,
                "population": node.population,
                **_ancestors(nodes, node.code, node.level, node.parent),
                **geometry_columns(node.geometry),
            }
        )
    geo_service.insert_divisions(session, rows + grid_rows)
    units = org_unit_rows({c: (n.name, n.level, _ancestors(nodes, c, n.level, n.parent)) for c, n in nodes.items()})
    org_service.insert_units(session, units)
    session.flush()
    timings["write"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    counts: dict[str, int] = defaultdict(int)
    for node in nodes.values():
        counts[node.level.value] += 1
    counts["grid"] = len(grid_rows)
    city = next(n for n in nodes.values() if n.level == Level.city)
    return CityStats(scale, seed, dict(counts), city.households, city.population, len(units), timings)


def city_area_km2() -> float:
    outline = load_outline()
    return float(outline.area) * 111.32**2 * math.cos(math.radians(outline.centroid.y))
