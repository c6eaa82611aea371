"""Imports: the good paths, and every kind of bad input refused whole with every problem listed."""

from __future__ import annotations

from typing import Any

import pytest
from shapely.geometry import Polygon, box
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicgrid.audit.models import AuditRecord
from civicgrid.authz.permissions import Role
from civicgrid.authz.scope import Level, Principal
from civicgrid.core.errors import Forbidden, ImportRejected
from civicgrid.geo import imports
from civicgrid.geo.geometry import from_wkb
from civicgrid.geo.models import Division
from tests.geo.factories import (
    BASE_ROWS,
    BOXES,
    CITY,
    boundaries_file,
    collection,
    divisions_csv,
    feature,
    principal,
)


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Division)) or 0


def _rejected(call: Any) -> list[dict[str, Any]]:
    with pytest.raises(ImportRejected) as info:
        call()
    assert "nothing was written" in info.value.message
    details: list[dict[str, Any]] = info.value.details
    assert details
    assert all({"feature", "field", "problem"} <= set(d) for d in details)
    return details


@pytest.fixture
def loaded(session: Session, admin: Principal) -> Session:
    imports.import_divisions(session, admin, divisions_csv(BASE_ROWS))
    imports.import_boundaries(session, admin, boundaries_file())
    session.flush()
    return session


# --- divisions ---------------------------------------------------------------------------------


def test_divisions_good_path_sets_ancestors_and_audits(session: Session, admin: Principal) -> None:
    result = imports.import_divisions(session, admin, divisions_csv(BASE_ROWS))
    assert result.created == len(BASE_ROWS)
    assert result.by_level == {"city": 1, "district": 2, "street": 2, "community": 2}
    community = session.get(Division, "340303001001")
    assert community is not None
    assert (community.city_code, community.district_code, community.street_code, community.community_code) == (
        CITY,
        "340303",
        "340303001",
        "340303001001",
    )
    assert community.is_urban is True
    village = session.get(Division, "340303001201")
    assert village is not None
    assert village.is_urban is False
    city = session.get(Division, CITY)
    assert city is not None
    assert city.parent_code is None
    audits = session.scalars(select(AuditRecord).where(AuditRecord.action == "geo.import_divisions")).all()
    assert len(audits) == 1
    assert audits[0].details
    assert audits[0].details["created"] == len(BASE_ROWS)


def test_divisions_reimport_renames_and_counts_unchanged(session: Session, admin: Principal) -> None:
    imports.import_divisions(session, admin, divisions_csv(BASE_ROWS))
    renamed = [*BASE_ROWS[:-1], ("community", "340303001201", "张庄村民委员会", "340303001")]
    result = imports.import_divisions(session, admin, divisions_csv(renamed))
    assert (result.created, result.updated, result.unchanged) == (0, 1, len(BASE_ROWS) - 1)


def test_divisions_dry_run_writes_nothing(session: Session, admin: Principal) -> None:
    result = imports.import_divisions(session, admin, divisions_csv(BASE_ROWS), dry_run=True)
    assert result.created == len(BASE_ROWS)
    assert result.dry_run
    assert _count(session) == 0


def test_divisions_every_problem_is_listed_and_nothing_written(session: Session, admin: Principal) -> None:
    rows = [
        *BASE_ROWS,
        ("street", "34030300X", "坏编码", "340303"),  # bad code (not digits)
        ("street", "3403030011", "太长", "340303"),  # bad length
        ("community", "340303009001", "无父", "340303009"),  # missing parent
        ("community", "340303001002", "错层", "340303"),  # parent of the wrong level (and prefix)
        ("street", "340304001", "前缀", "340303"),  # code not under its parent's prefix
        ("district", "340303", "重复", CITY),  # duplicate code
        ("town", "340303003", "未知层级", "340303"),  # unknown level
        ("street", "340303004", "", "340303"),  # empty name
    ]
    details = _rejected(lambda: imports.import_divisions(session, admin, divisions_csv(rows)))
    by_feature = {(str(d["feature"]), d["field"]) for d in details}
    assert ("34030300X", "code") in by_feature
    assert ("3403030011", "code") in by_feature
    assert ("340303009001", "parent_code") in by_feature
    assert ("340303001002", "parent_code") in by_feature
    assert ("340304001", "parent_code") in by_feature
    assert ("340303", "code") in by_feature
    assert ("340303003", "level") in by_feature
    assert ("340303004", "name") in by_feature
    wrong_level = next(d for d in details if d["feature"] == "340303001002")
    assert "must be a street" in wrong_level["problem"] or "prefix" in wrong_level["problem"]
    assert _count(session) == 0


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ("level,code,name,parent_code\ncity,340300,蚌埠市,340000\n".encode("gbk"), "GBK"),
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"level,code,name,parent_code\n", "no rows"),
        ("code,name\n340300,蚌埠市\n".encode(), "level, parent_code"),
    ],
    ids=["gbk-encoding", "empty", "blank", "header-only", "missing-columns"],
)
def test_divisions_file_level_problems(session: Session, admin: Principal, data: bytes, needle: str) -> None:
    with pytest.raises(ImportRejected) as info:
        imports.import_divisions(session, admin, data)
    assert needle in info.value.message
    assert _count(session) == 0


def test_divisions_need_the_import_permission(session: Session) -> None:
    with pytest.raises(Forbidden):
        imports.import_divisions(session, principal(Role.center_operator), divisions_csv(BASE_ROWS))


def test_divisions_outside_the_scope_are_refused(session: Session, admin: Principal) -> None:
    imports.import_divisions(session, admin, divisions_csv(BASE_ROWS))
    district_admin = principal(Role.admin, "340304", Level.district)
    details = _rejected(
        lambda: imports.import_divisions(
            session, district_admin, divisions_csv([("street", "340303003", "外区街道", "340303")])
        )
    )
    assert "outside your scope" in details[0]["problem"]


# --- boundaries --------------------------------------------------------------------------------


def test_boundaries_good_path(loaded: Session) -> None:
    district = loaded.get(Division, "340303")
    assert district is not None
    assert district.geometry is not None
    assert from_wkb(district.geometry).equals(box(*BOXES["340303"]))
    assert district.min_lon == 117.0
    assert district.max_lat == 33.0
    assert district.area_km2
    assert 2000 < district.area_km2 < 6000


def test_boundaries_every_problem_listed(session: Session, admin: Principal) -> None:
    imports.import_divisions(session, admin, divisions_csv(BASE_ROWS))
    imports.import_boundaries(session, admin, boundaries_file([CITY, "340303"]))
    session.flush()
    bowtie = Polygon([(117.0, 32.0), (117.5, 32.5), (117.5, 32.0), (117.0, 32.5)])
    features = [
        feature("340303001", bowtie),  # self-intersection
        feature("340303002", box(117.0, 32.5, 117.9, 33.0)),  # sticks out of its district
        feature("340304", box(117.4, 32.0, 118.0, 33.0)),  # overlaps its sibling 340303 (stored)
        feature("340399", box(117.0, 32.0, 117.1, 32.1)),  # unknown division
        feature("340303001001", {"type": "Point", "coordinates": [117.1, 32.1]}),  # not a polygon
        feature("340303001201", box(300.0, 32.0, 301.0, 33.0)),  # not WGS84
        feature("340303001201", box(117.25, 32.0, 117.5, 32.5)),  # duplicate code
        {"type": "Feature", "properties": {}, "geometry": None},  # no code, no geometry
    ]
    details = _rejected(lambda: imports.import_boundaries(session, admin, collection(features)))
    problems = {(str(d["feature"]), d["field"]): d["problem"] for d in details}
    assert "Self-intersection" in problems[("340303001", "geometry")]
    assert "outside its parent 340303" in problems[("340303002", "geometry")]
    assert "overlaps its sibling 340303" in problems[("340304", "geometry")]
    assert "does not exist" in problems[("340399", "code")]
    assert "Polygon or MultiPolygon" in problems[("340303001001", "geometry")]
    assert "WGS84" in problems[("340303001201", "geometry")]
    assert any("duplicate" in d["problem"] for d in details)
    assert ("7", "code") in problems
    stored = session.get(Division, "340303001")
    assert stored is not None
    assert stored.geometry is None


def test_boundary_that_would_leave_children_outside_is_refused(loaded: Session, admin: Principal) -> None:
    shrunk = collection([feature("340303", box(117.0, 32.0, 117.5, 32.4))])
    details = _rejected(lambda: imports.import_boundaries(loaded, admin, shrunk))
    assert any("leaves" in d["problem"] and "340303001" in d["problem"] for d in details)


def test_small_float_slivers_are_tolerated(loaded: Session, admin: Principal) -> None:
    # 1e-7 degrees of overlap with the sibling and of overhang: float noise, accepted.
    nudged = collection([feature("340303001201", box(117.25 - 1e-7, 32.0, 117.5 + 1e-7, 32.5))])
    assert imports.import_boundaries(loaded, admin, nudged).updated == 1


def test_bad_json_and_wrong_document(session: Session, admin: Principal) -> None:
    for data, needle in [
        (b"{not json", "not valid JSON"),
        (b'{"type": "Point", "coordinates": [1, 2]}', "FeatureCollection"),
        (b'{"type": "FeatureCollection", "features": []}', "no features"),
        ('{"type": "FeatureCollection"}'.encode("utf-16"), "not UTF-8"),
    ]:
        with pytest.raises(ImportRejected) as info:
            imports.import_boundaries(session, admin, data)
        assert needle in info.value.message


# --- grids -------------------------------------------------------------------------------------


def _grid_features() -> list[dict[str, Any]]:
    return [
        feature("340303001001001", box(117.0, 32.0, 117.25, 32.25), households=120, population=300),
        feature("340303001001002", box(117.0, 32.25, 117.25, 32.5), name="天桥社区北网格", households=80),
    ]


def test_grids_good_path_names_ancestors_and_rollup(loaded: Session, admin: Principal) -> None:
    result = imports.import_grids(loaded, admin, collection(_grid_features()))
    assert (result.created, result.updated) == (2, 0)
    first = loaded.get(Division, "340303001001001")
    second = loaded.get(Division, "340303001001002")
    assert first is not None
    assert second is not None
    assert first.name == "天桥社区居委会第1网格"
    assert second.name == "天桥社区北网格"
    assert first.grid_code == first.code
    assert first.community_code == "340303001001"
    community = loaded.get(Division, "340303001001")
    assert community is not None
    assert community.households == 200
    city = loaded.get(Division, CITY)
    assert city is not None
    assert city.households == 200
    again = imports.import_grids(loaded, admin, collection(_grid_features()))
    assert (again.created, again.updated) == (0, 2)


def test_grids_every_problem_listed(loaded: Session, admin: Principal) -> None:
    features = [
        *_grid_features(),
        feature("340303001001003", box(117.2, 32.2, 117.3, 32.3)),  # overlaps 001 and sticks out
        feature("340303001009001", box(117.0, 32.0, 117.1, 32.1)),  # community does not exist
        feature("340303001001", box(117.0, 32.0, 117.1, 32.1)),  # not a grid code
        feature("340303001001004", box(117.0, 32.0, 117.1, 32.1), households=-3),  # bad count
        feature("340303001001001", box(117.0, 32.0, 117.1, 32.1)),  # duplicate
    ]
    before = _count(loaded)
    details = _rejected(lambda: imports.import_grids(loaded, admin, collection(features)))
    text = [(str(d["feature"]), d["problem"]) for d in details]
    assert any(f == "340303001001003" and "overlaps its sibling" in p for f, p in text)
    assert any(f == "340303001001003" and "outside its parent" in p for f, p in text)
    assert any(f == "340303001009001" and "does not exist" in p for f, p in text)
    assert any(f == "340303001001" and "15 digits" in p for f, p in text)
    assert any(f == "340303001001004" and "households" in p for f, p in text)
    assert any("duplicate" in p for _, p in text)
    assert _count(loaded) == before


def test_grids_overlapping_stored_grids_are_refused(loaded: Session, admin: Principal) -> None:
    imports.import_grids(loaded, admin, collection(_grid_features()))
    clash = collection([feature("340303001001003", box(117.0, 32.1, 117.25, 32.4))])
    details = _rejected(lambda: imports.import_grids(loaded, admin, clash))
    assert {d["feature"] for d in details} == {"340303001001003"}
