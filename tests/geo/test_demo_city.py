"""The demo city: real codes and counts, nested partitions that tile the outline, determinism."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.core.db import Database
from civicgrid.demo import city
from civicgrid.geo import lookup
from civicgrid.geo.geometry import from_wkb
from civicgrid.geo.models import Division
from civicgrid.org.models import OrgUnit

pytestmark = pytest.mark.slow


@pytest.fixture
def built(db: Database) -> city.CityStats:
    with db.unit_of_work() as session:
        return city.build_city(session, scale=0.01, seed=7)


def test_counts_codes_and_totals(db: Database, built: city.CityStats) -> None:
    assert {k: built.counts[k] for k in ("city", "district", "street", "community")} == {
        "city": 1,
        "district": 9,
        "street": 87,
        "community": 1157,
    }
    assert built.households == round(1_222_000 * 0.01)
    assert built.population == round(3_441_000 * 0.01)
    with db.unit_of_work(write=False) as session:
        rows = session.execute(select(Division.level, Division.code, Division.households)).all()
        levels = Counter(level for level, _, _ in rows)
        assert levels["grid"] == built.counts["grid"] >= 1157
        grid_households = sum(h for level, _, h in rows if level == "grid")
        assert grid_households == built.households
        kinds = Counter(session.scalars(select(OrgUnit.kind)))
        assert kinds["center"] == 1 + 9 + 87
        assert kinds["committee"] == 1157
        assert 63 <= kinds["department"] <= 63 + 2 * 9
        villages = session.scalars(select(Division).where(Division.code == "340302200201")).first()
        if villages is not None:
            assert villages.is_urban is False


def _geometries(session: Session, level: str) -> dict[str, tuple[str | None, shapely.Geometry]]:
    rows = session.execute(
        select(Division.code, Division.parent_code, Division.geometry).where(Division.level == level)
    ).all()
    return {code: (parent, from_wkb(blob)) for code, parent, blob in rows if blob is not None}


def test_every_level_tiles_its_parent(db: Database, built: city.CityStats) -> None:
    with db.unit_of_work(write=False) as session:
        outline = city.load_outline()
        parents = {"340300": (None, outline)}
        for level in ("district", "street", "community", "grid"):
            children = _geometries(session, level)
            by_parent: dict[str, list[shapely.Geometry]] = {}
            for _, (parent, geometry) in children.items():
                assert geometry.is_valid
                assert parent is not None
                by_parent.setdefault(parent, []).append(geometry)
            assert set(by_parent) == set(parents)
            for parent_code, shapes in by_parent.items():
                parent_shape = parents[parent_code][1]
                total = sum(s.area for s in shapes)
                assert total == pytest.approx(parent_shape.area, rel=1e-7), f"{level} under {parent_code}"
                union = shapely.union_all(shapes)
                assert union.symmetric_difference(parent_shape).area <= 1e-7 * parent_shape.area
            if level in ("district", "street"):
                assert all(g.geom_type == "Polygon" for _, g in children.values())
            parents = children


def test_lookup_batch_equals_single_and_outside_is_outside(db: Database, built: city.CityStats) -> None:
    rng = np.random.default_rng(3)
    with db.unit_of_work(write=False) as session:
        index = lookup.get_index(session)
        min_x, min_y, max_x, max_y = city.load_outline().bounds
        xs = rng.uniform(min_x, max_x, 400)
        ys = rng.uniform(min_y, max_y, 400)
        batch = index.locate_many(xs, ys)
        single = np.array([index.locate(x, y) for x, y in zip(xs, ys, strict=True)])
        assert (batch == single).all()
        inside = shapely.contains_xy(city.load_outline(), xs, ys)
        assert ((batch >= 0) == inside).all(), "the grids cover the city and nothing outside it"
        found = lookup.lookup_point(session, float(xs[inside][0]), float(ys[inside][0]))
        assert found.grid_code.startswith(found.ancestors[next(iter(found.ancestors))][0][:4])


def test_same_seed_same_city_other_seed_other_city() -> None:
    def geometry(seed: int) -> list[bytes]:
        nodes = city.load_tree()
        rng = np.random.default_rng(seed)
        city._households(nodes, 0.01, rng)
        city.build_geometry(nodes, city.load_outline(), rng)
        return [nodes[c].geometry.wkb for c in sorted(nodes) if nodes[c].level.value == "district"]  # type: ignore[union-attr]

    first = geometry(11)
    assert first == geometry(11)
    assert first != geometry(12)
