"""The pieces every file import shares (registry.imports.pipeline and the mapping checks of
registry.imports.fields), apart from any one importer."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from civicgrid.core.errors import InvalidInput
from civicgrid.core.masking import mask_phone
from civicgrid.registry.imports import fields, pipeline
from civicgrid.registry.imports.fields import FieldSpec

SPECS = {
    "phone": FieldSpec("phone", "identifier", "phone", mask=mask_phone),
    "lon": FieldSpec("lon", "float", "longitude"),
    "lat": FieldSpec("lat", "float", "latitude"),
}


def test_the_error_report_shows_a_location_as_lon_and_lat_and_masks_what_the_specs_mask(tmp_path: Path) -> None:
    columns = pipeline.location_columns({"phone": "电话", "lon": "经度", "lat": "纬度"})
    report = pipeline.report_for(str(tmp_path), 7, SPECS, columns)
    raw = {"phone": "13800138000", "lon": 117.38, "lat": 32.92}
    report.add_row(2, raw, [("location", "outside the city"), ("phone", "not a phone")])
    report.close()
    outcome = report.outcome()
    assert outcome["problems"] == 2 and outcome["error_report"] == str(tmp_path / "job-7-errors.csv")
    with (tmp_path / "job-7-errors.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(pipeline.REPORT_HEADER)
    assert rows[1] == ["2", "经度, 纬度", "location", "117.38, 32.92", "outside the city"]
    assert rows[2][:3] == ["2", "电话", "phone"] and rows[2][3] == mask_phone("13800138000")


def test_a_location_without_coordinate_columns_names_the_fallback_column_and_no_value(tmp_path: Path) -> None:
    columns = pipeline.location_columns({"address_code": "行政区划"}, "行政区划")
    report = pipeline.report_for(str(tmp_path), 8, SPECS, columns)
    report.add_row(3, {"address_code": "999999"}, [("location", "unknown division")])
    report.close()
    assert report.first == [
        {"row": 3, "column": "行政区划", "field": "location", "value": "", "reason": "unknown division"}
    ]


def test_an_error_report_without_problems_is_removed(tmp_path: Path) -> None:
    report = pipeline.report_for(str(tmp_path), 9, SPECS, {})
    report.close()
    assert report.outcome() == {"problems": 0, "first_problems": [], "error_report": None}
    assert not (tmp_path / "job-9-errors.csv").exists()


def test_read_batches_reads_the_file_again_in_batches(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("a,b\n" + "".join(f"{i},{i}\n" for i in range(5)), encoding="utf-8")
    source = pipeline.file_header(path, "csv", count=True)
    assert source.header == ["a", "b"] and source.total == 5
    sizes = [len(batch) for batch in pipeline.read_batches(path, "csv", 2, encoding=source.encoding)]
    assert sizes == [2, 2, 1]


def test_a_column_mapping_is_refused_with_every_problem() -> None:
    with pytest.raises(InvalidInput) as refused:
        fields.check_columns(
            {" ": "phone", "电话": "phone", "手机": "phone", "备注": "note"},
            SPECS,
            lambda name: f"{name!r} is not a field",
        )
    assert refused.value.details == [
        {"field": "columns", "problem": "a column name is empty"},
        {"field": "columns.手机", "problem": "phone is already mapped from column '电话'"},
        {"field": "columns.备注", "problem": "'note' is not a field"},
    ]
    assert fields.check_columns({" 电话 ": "phone"}, SPECS, str) == {"电话": "phone"}


def test_a_category_table_is_refused_with_every_problem() -> None:
    def not_usable(code: str) -> str | None:
        return None if code == "0101" else f"{code} is not a category"

    with pytest.raises(InvalidInput) as refused:
        fields.check_categories({"": "0101", "盗窃": "0199", "x" * 11: "0101"}, 10, "label", not_usable)
    assert refused.value.details == [
        {"field": "categories", "problem": "a category label is empty or over 10"},
        {"field": "categories.盗窃", "problem": "0199 is not a category"},
        {"field": "categories", "problem": "a category label is empty or over 10"},
    ]
    assert fields.check_categories({"盗窃 ": "0101"}, 10, "label", not_usable) == {"盗窃": "0101"}
