"""The 28 dispute categories are reference data, loaded with the rest and idempotently."""

from __future__ import annotations

from civicgrid.core.db import Database
from civicgrid.disputes.categories import DEFAULT_DISPUTE_CATEGORIES, list_dispute_categories
from civicgrid.seeds import load_reference_data


def test_the_28_categories_are_seeded_once(db: Database) -> None:
    assert len(DEFAULT_DISPUTE_CATEGORIES) == 28
    with db.unit_of_work() as session:
        assert load_reference_data(session)["dispute categories"] == 28
    with db.unit_of_work() as session:
        assert load_reference_data(session)["dispute categories"] == 0
        rows = list_dispute_categories(session)
    assert [r.code for r in rows][:3] == ["01", "02", "03"] and rows[-1].name_zh == "其他"
    assert {r.code: r.case_category_code for r in rows}["04"] == "0101"
