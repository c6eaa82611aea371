"""Registry imports through the API: formats and encodings, mappings, both modes, idempotency, scope,
the error report and its masking, the size limit, permissions and the audit record."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.support.api import assert_error, auth_headers
from tests.support.city import GRID_A1, GRID_A2, GRID_B1, TinyCity
from tests.support.imports import (
    API,
    csv_bytes,
    make_client,
    person_id,
    report_rows,
    run_import,
    start_import,
)
from tests.support.registry import B_ID_NUMBER, TinyRegistry

from civicgrid.audit.models import AuditRecord
from civicgrid.config import Settings, random_secret
from civicgrid.core.crypto import Keyring
from civicgrid.core.db import Database
from civicgrid.core.idnumber import Sex
from civicgrid.core.uploads import PayloadTooLarge, receive_upload
from civicgrid.registry.models import House, Person, Residence

HEADER = ["person_type", "name", "sex", "birth_date", "id_number", "phone", "grid_code"]
ID1 = person_id(1980, 11)
ID2 = person_id(1991, 24, Sex.female)
ID3 = person_id(2001, 35)
ID_BAD_CHECKSUM = ID1[:-1] + ("1" if ID1[-1] != "1" else "2")
ID4 = person_id(1975, 47)


def run_isolated(coroutine: Any) -> Any:
    """Run a coroutine on a fresh event loop in its own thread (a test in the same process — Playwright's
    sync API — may already have a loop running in this one)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _birth(number: str) -> str:
    return f"{number[6:10]}-{number[10:12]}-{number[12:14]}"


GOOD_ROWS = [
    ["registered", "王小明", "1", _birth(ID1), ID1, "13900001111", GRID_A1],
    ["floating", "李小红", "2", _birth(ID2), ID2, "", GRID_A2],
    ["registered", "赵大勇", "1", _birth(ID3), ID3, "0552-1234567", GRID_A1],
]
BAD_ROWS = [
    ["registered", "钱多多", "1", _birth(ID1), ID_BAD_CHECKSUM, "", GRID_A1],  # checksum (and a clash-free key)
    ["registered", "孙悟空", "1", "1975-01-02", ID4, "12345", GRID_A1],  # birth date disagrees; bad phone
]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(mode="test", secret_key=random_secret(), serve_frontend=False, data_dir=tmp_path / "var")


@pytest.fixture
def client(db: Database, settings: Settings) -> Iterator[TestClient]:
    yield from make_client(settings, db)


def _people(db: Database) -> int:
    with db.unit_of_work(write=False) as s:
        return s.scalar(select(func.count()).select_from(Person)) or 0


def _uploads_left(settings: Settings) -> list[Path]:
    directory = settings.data_dir / "imports"
    return sorted(directory.glob("upload-*")) if directory.exists() else []


def test_apply_valid_writes_the_good_rows_and_reports_the_rest(
    client: TestClient, db: Database, settings: Settings, tiny_registry: TinyRegistry
) -> None:
    headers = auth_headers(client, "operator")
    before = _people(db)
    data = csv_bytes([HEADER, GOOD_ROWS[0], BAD_ROWS[0], GOOD_ROWS[1], BAD_ROWS[1], GOOD_ROWS[2]])
    job = run_import(client, headers, data, mode="apply_valid")
    assert job["status"] == "succeeded", job
    assert (job["total"], job["processed"], job["succeeded_rows"], job["failed_rows"]) == (5, 5, 3, 2)
    assert job["result"]["created"] == 3 and job["result"]["written"] is True
    assert _people(db) == before + 3
    with db.unit_of_work(write=False) as s:
        created = s.scalar(select(Person).where(Person.name == "王小明"))
        assert created is not None and created.grid_code == GRID_A1 and created.review_status == "approved"
        assert created.id_number_enc is not None and ID1.encode() not in created.id_number_enc
        assert s.scalar(select(func.count()).select_from(Person).where(Person.name == "孙悟空")) == 0

    report = report_rows(client, job, headers)
    by_row: dict[str, list[dict[str, str]]] = {}
    for line in report:
        by_row.setdefault(line["row"], []).append(line)
    assert set(by_row) == {"3", "5"}  # the header is row 1
    (checksum,) = by_row["3"]
    assert (checksum["column"], checksum["field"]) == ("id_number", "id_number")
    assert "check character" in checksum["reason"]
    assert checksum["value"] == ID_BAD_CHECKSUM[:6] + "********" + ID_BAD_CHECKSUM[-4:]
    fields = {line["field"] for line in by_row["5"]}
    assert fields == {"birth_date", "phone"}
    phone = next(line for line in by_row["5"] if line["field"] == "phone")
    assert phone["value"] == "*2345"  # an unknown shape keeps only its last four digits
    text = client.get(job["error_report_url"], headers=headers).content.decode("utf-8-sig")
    assert ID_BAD_CHECKSUM not in text and ID4 not in text and "钱多多" not in text
    assert _uploads_left(settings) == []  # the upload is deleted once the job ended


def test_all_or_nothing_writes_nothing_when_any_row_fails(
    client: TestClient, db: Database, tiny_registry: TinyRegistry
) -> None:
    headers = auth_headers(client, "operator")
    before = _people(db)
    data = csv_bytes([HEADER, *GOOD_ROWS, BAD_ROWS[1]])
    job = run_import(client, headers, data, mode="all_or_nothing")
    assert job["status"] == "failed", job
    assert "nothing was written" in job["message"]
    assert (job["processed"], job["failed_rows"]) == (4, 1)
    assert job["result"]["written"] is False
    assert _people(db) == before
    assert {line["row"] for line in report_rows(client, job, headers)} == {"5"}


def test_all_or_nothing_writes_every_row_when_all_are_good(
    client: TestClient, db: Database, tiny_registry: TinyRegistry
) -> None:
    headers = auth_headers(client, "operator")
    before = _people(db)
    job = run_import(client, headers, csv_bytes([HEADER, *GOOD_ROWS]), mode="all_or_nothing", multipart=True)
    assert job["status"] == "succeeded", job
    assert job["result"]["created"] == 3 and job["error_report_url"] is None
    assert _people(db) == before + 3


def test_reimport_creates_nothing_new_and_updates_changed_fields(
    client: TestClient, db: Database, tiny_registry: TinyRegistry
) -> None:
    headers = auth_headers(client, "operator")
    data = csv_bytes([HEADER, *GOOD_ROWS])
    first = run_import(client, headers, data)
    assert first["result"]["created"] == 3
    count = _people(db)
    second = run_import(client, headers, data)
    assert second["status"] == "succeeded"
    assert (second["result"]["created"], second["result"]["updated"], second["result"]["unchanged"]) == (0, 0, 3)
    assert _people(db) == count

    changed = [row[:] for row in GOOD_ROWS]
    changed[0][5] = "13700002222"  # new phone
    changed[1][6] = GRID_A1  # moved to another grid
    third = run_import(client, headers, csv_bytes([HEADER, *changed]))
    assert (third["result"]["created"], third["result"]["updated"], third["result"]["unchanged"]) == (0, 2, 1)
    assert _people(db) == count
    reveal = client.post(
        f"{API}/registry/people/lookup", json={"phone": "13700002222"}, headers=auth_headers(client, "operator")
    )
    assert [p["name"] for p in reveal.json()] == ["王*明"]
    with db.unit_of_work(write=False) as s:
        moved = s.scalar(select(Person).where(Person.name == "李小红"))
        assert moved is not None and moved.grid_code == GRID_A1


def test_a_person_twice_in_one_file_is_one_person_and_the_later_row_wins(
    client: TestClient, db: Database, tiny_registry: TinyRegistry
) -> None:
    headers = auth_headers(client, "operator")
    later = [*GOOD_ROWS[0][:5], "13611112222", GRID_A2]
    job = run_import(client, headers, csv_bytes([HEADER, GOOD_ROWS[0], later]))
    assert (job["result"]["created"], job["result"]["updated"]) == (1, 1)
    with db.unit_of_work(write=False) as s:
        (person,) = s.scalars(select(Person).where(Person.name == "王小明"))
        assert person.grid_code == GRID_A2


def test_rows_outside_the_importers_scope_are_row_errors_and_nobody_is_moved(
    client: TestClient, db: Database, tiny_registry: TinyRegistry
) -> None:
    headers = auth_headers(client, "community.a")  # community A: grids A1 and A2
    rows = [
        GOOD_ROWS[0],
        ["registered", "周在B", "1", _birth(ID4), ID4, "", GRID_B1],  # a grid of community B
        ["registered", "李四红", "2", "1990-07-02", B_ID_NUMBER, "", GRID_A1],  # registered in grid B1
        ["registered", "吴某", "1", _birth(ID3), ID3, "", "340303009009009"],  # no such grid
    ]
    job = run_import(client, headers, csv_bytes([HEADER, *rows]))
    assert job["status"] == "succeeded"
    assert (job["succeeded_rows"], job["failed_rows"]) == (1, 3)
    reasons = {line["row"]: line for line in report_rows(client, job, headers)}
    assert "not a grid in your scope" in reasons["3"]["reason"]
    assert "outside your scope" in reasons["4"]["reason"] and reasons["4"]["field"] == "id_number"
    assert "not a grid in your scope" in reasons["5"]["reason"]
    with db.unit_of_work(write=False) as s:
        b = s.get(Person, tiny_registry.people["b"])
        assert b is not None and b.grid_code == GRID_B1


def test_missing_required_columns_are_reported_before_any_row_is_read(
    client: TestClient, settings: Settings, tiny_registry: TinyRegistry
) -> None:
    headers = auth_headers(client, "operator")
    data = csv_bytes([["person_type", "name", "id_number"], ["registered", "王小明", ID1]])
    error = assert_error(start_import(client, headers, data), 422, "import_rejected")
    assert error["message"].startswith("missing required columns: sex, birth_date, house_id or grid_code")
    mapping = {"类型": "person_type", "姓名": "name", "性别": "sex", "生日": "birth_date", "网格": "grid_code"}
    error = assert_error(start_import(client, headers, data, mapping=json.dumps(mapping)), 422, "import_rejected")
    assert "the mapping names the column '类型', which the file lacks" in json.dumps(
        error["details"], ensure_ascii=False
    )
    error = assert_error(start_import(client, headers, data, mapping=json.dumps({"name": "nickname"})), 422)
    assert "'nickname' is not a field of people" in error["message"]
    assert _uploads_left(settings) == []


def test_a_gbk_csv_with_chinese_headings_and_labels_is_read(
    client: TestClient, db: Database, tiny_registry: TinyRegistry
) -> None:
    headers = auth_headers(client, "operator")
    rows = [
        ["人员类型", "姓名", "性别", "出生日期", "身份证号", "民族", "网格编码"],
        ["户籍人口", "王小明", "男", _birth(ID1).replace("-", "/"), ID1, "汉族", GRID_A1],
        ["流动人口", "李小红", "女", _birth(ID2).replace("-", ""), ID2, "回族", GRID_A2],
    ]
    job = run_import(client, headers, csv_bytes(rows, "gbk"))
    assert job["status"] == "succeeded", job
    assert job["result"]["created"] == 2 and job["result"]["encoding"] == "gb18030"
    with db.unit_of_work(write=False) as s:
        person = s.scalar(select(Person).where(Person.name == "李小红"))
        assert person is not None
        assert (person.person_type, person.sex, person.ethnicity) == ("floating", "2", "03")


def test_utf8_with_bom_and_semicolon_free_tabs(client: TestClient, db: Database, tiny_registry: TinyRegistry) -> None:
    headers = auth_headers(client, "operator")
    text = "\t".join(HEADER) + "\n" + "\t".join(GOOD_ROWS[0]) + "\n"
    job = run_import(client, headers, b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert job["status"] == "succeeded" and job["result"]["created"] == 1
    assert job["result"]["encoding"] == "utf-8-sig"


def test_a_file_in_neither_utf8_nor_gbk_is_refused_with_a_clear_message(
    client: TestClient, tiny_registry: TinyRegistry
) -> None:
    headers = auth_headers(client, "operator")
    data = csv_bytes([HEADER, GOOD_ROWS[0]]) + b"registered,\x80\xff\xfe,1\n"
    error = assert_error(start_import(client, headers, data), 422, "import_rejected")
    assert "neither UTF-8" in error["message"] and "GBK" in error["message"]
    error = assert_error(start_import(client, headers, "\ufeffa,b\n".encode("utf-16")), 422, "import_rejected")
    assert "UTF-16" in error["message"]


def test_xlsx_rows_are_read_and_numeric_id_numbers_refused(
    client: TestClient, db: Database, tiny_registry: TinyRegistry
) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    workbook.remove(sheet)
    sheet = workbook.create_sheet("人口")
    sheet.append(HEADER)
    sheet.append(["registered", "王小明", "1", datetime(*map(int, _birth(ID1).split("-"))), ID1, 13900001111, GRID_A1])
    sheet.append(
        ["registered", "赵大勇", 1, _birth(ID3), int(ID3[:-1] + "0") if ID3[-1] == "X" else int(ID3), None, GRID_A1]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    headers = auth_headers(client, "operator")
    job = run_import(client, headers, buffer.getvalue(), filename="people.xlsx")
    assert job["status"] == "succeeded", job
    assert (job["result"]["format"], job["result"]["created"], job["failed_rows"]) == ("xlsx", 1, 1)
    lines = report_rows(client, job, headers)
    assert lines, job
    assert {line["row"] for line in lines} == {"3"}
    assert any("stored as a number" in line["reason"] for line in lines)
    with db.unit_of_work(write=False) as s:
        person = s.scalar(select(Person).where(Person.name == "王小明"))
        assert person is not None and person.phone_index is not None
    error = assert_error(start_import(client, headers, b"PK\x03\x04broken", filename="x.xlsx"), 422)
    assert "xlsx" in error["message"]


def test_people_are_placed_in_houses_by_id_or_by_grid_and_address(
    client: TestClient, db: Database, tiny_registry: TinyRegistry
) -> None:
    headers = auth_headers(client, "operator")
    with db.unit_of_work(write=False) as s:
        house = s.get(House, tiny_registry.houses["a"])
        assert house is not None
        address, house_grid = house.address, house.grid_code
    rows = [
        ["person_type", "name", "sex", "birth_date", "id_number", "house_id", "grid_code", "house_address"],
        ["registered", "王小明", "1", _birth(ID1), ID1, str(tiny_registry.houses["a"]), "", ""],
        ["registered", "赵大勇", "1", _birth(ID3), ID3, "", house_grid, address],
        ["registered", "钱某", "1", _birth(ID4), ID4, "", GRID_A1, "没有这个地址"],
    ]
    job = run_import(client, headers, csv_bytes(rows))
    assert (job["result"]["created"], job["failed_rows"]) == (2, 1)
    with db.unit_of_work(write=False) as s:
        placed = list(s.scalars(select(Person).where(Person.name.in_(["王小明", "赵大勇"]))))
        assert {p.house_id for p in placed} == {tiny_registry.houses["a"]}
        residences = s.scalar(
            select(func.count()).select_from(Residence).where(Residence.person_id.in_([p.id for p in placed]))
        )
        assert residences == 2


def test_saved_mappings_crud_and_import_by_name(client: TestClient, db: Database, tiny_registry: TinyRegistry) -> None:
    headers = auth_headers(client, "community.a")
    mapping = {
        "类别": "person_type",
        "名字": "name",
        "性": "sex",
        "生日": "birth_date",
        "证": "id_number",
        "格": "grid_code",
    }
    created = client.post(
        f"{API}/registry/import-mappings",
        json={"name": "老系统", "entity": "people", "mapping": mapping},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    saved = created.json()
    assert saved["mapping"] == mapping
    assert_error(
        client.post(
            f"{API}/registry/import-mappings",
            json={"name": "老系统", "entity": "people", "mapping": mapping},
            headers=headers,
        ),
        409,
    )
    bad = client.post(
        f"{API}/registry/import-mappings",
        json={"name": "坏的", "entity": "people", "mapping": {"a": "name", "b": "name"}},
        headers=headers,
    )
    assert "already mapped" in assert_error(bad, 422)["message"]
    listed = client.get(f"{API}/registry/import-mappings", params={"entity": "people"}, headers=headers).json()
    assert [m["name"] for m in listed] == ["老系统"]
    # Another unit does not see it.
    assert client.get(f"{API}/registry/import-mappings", headers=auth_headers(client, "operator")).json() == []
    assert_error(
        client.get(f"{API}/registry/import-mappings/{saved['id']}", headers=auth_headers(client, "operator")), 404
    )

    rows = [list(mapping), ["registered", "王小明", "1", _birth(ID1), ID1, GRID_A1]]
    job = run_import(client, headers, csv_bytes(rows), mapping_name="老系统")
    assert job["status"] == "succeeded" and job["result"]["created"] == 1, job
    error = assert_error(start_import(client, headers, csv_bytes(rows), mapping_name="没有"), 422)
    assert "no saved people mapping named" in error["message"]

    renamed = client.patch(f"{API}/registry/import-mappings/{saved['id']}", json={"name": "新名"}, headers=headers)
    assert renamed.json()["name"] == "新名"
    assert client.delete(f"{API}/registry/import-mappings/{saved['id']}", headers=headers).status_code == 204
    assert client.get(f"{API}/registry/import-mappings", headers=headers).json() == []


def test_houses_import_is_idempotent_by_grid_and_address(
    client: TestClient, db: Database, tiny_registry: TinyRegistry
) -> None:
    headers = auth_headers(client, "operator")
    owner = person_id(1970, 5)
    rows = [
        [
            "grid_code",
            "street_address",
            "building",
            "unit",
            "room",
            "use",
            "owner_name",
            "owner_id_number",
            "lon",
            "lat",
        ],
        [GRID_A1, "和平路8号", "2栋", "1单元", "301", "self", "王房主", owner, "117.1", "32.2"],
        [GRID_A1, "和平路8号", "2栋", "1单元", "302", "出租", "", "", "", ""],
        [GRID_A1, "和平路8号", "2栋", "1单元", "303", "self", "", "", "117.4", "32.2"],  # outside grid A1
        [GRID_B1, "青年路1号", "", "", "", "castle", "", "", "", ""],  # unknown use code
    ]
    job = run_import(client, headers, csv_bytes(rows), entity="houses")
    assert job["status"] == "succeeded", job
    assert (job["result"]["created"], job["failed_rows"]) == (2, 2)
    reasons = {line["row"]: line["reason"] for line in report_rows(client, job, headers)}
    assert "outside grid" in reasons["4"] and "not a code of house_use" in reasons["5"]
    text = client.get(job["error_report_url"], headers=headers).content.decode("utf-8-sig")
    assert owner not in text
    again = run_import(client, headers, csv_bytes(rows[:3]), entity="houses")
    assert (again["result"]["created"], again["result"]["unchanged"]) == (0, 2)
    rows[2][5] = "vacant"
    third = run_import(client, headers, csv_bytes(rows[:3]), entity="houses")
    assert (third["result"]["updated"], third["result"]["unchanged"]) == (1, 1)
    with db.unit_of_work(write=False) as s:
        uses = {r[0]: r[1] for r in s.execute(select(House.room, House.use).where(House.street_address == "和平路8号"))}
        assert uses == {"301": "self", "302": "vacant"}


def test_permissions_and_who_may_see_a_job(client: TestClient, tiny_registry: TinyRegistry) -> None:
    data = csv_bytes([HEADER, GOOD_ROWS[0]])
    assert_error(start_import(client, auth_headers(client, "worker.a1"), data), 403)
    assert_error(start_import(client, auth_headers(client, "admin"), data), 403)
    headers = auth_headers(client, "community.a")
    job = run_import(client, headers, data)
    job_id = job["id"]
    assert client.get(f"{API}/jobs/{job_id}", headers=auth_headers(client, "operator")).status_code == 200
    assert client.get(f"{API}/jobs/{job_id}", headers=auth_headers(client, "district.operator")).status_code == 200
    assert_error(client.get(f"{API}/jobs/{job_id}", headers=auth_headers(client, "other.operator")), 404)
    assert_error(client.get(f"{API}/jobs/{job_id}", headers=auth_headers(client, "worker.a1")), 404)
    mine = client.get(f"{API}/jobs", headers=headers).json()
    assert [j["id"] for j in mine["items"]] == [job_id]


def test_one_audit_record_per_import_with_counts_and_no_row_content(
    client: TestClient, db: Database, tiny_registry: TinyRegistry
) -> None:
    headers = auth_headers(client, "operator")
    job = run_import(client, headers, csv_bytes([HEADER, GOOD_ROWS[0], BAD_ROWS[1]]))
    with db.unit_of_work(write=False) as s:
        records = list(s.scalars(select(AuditRecord).where(AuditRecord.action == "registry.import_people")))
        creates = s.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "person.create"))
    assert len(records) == 1 and creates == 0
    (record,) = records
    assert record.object_id == str(job["id"])
    assert record.details == {
        "mode": "apply_valid",
        "format": "csv",
        "mapping": "inline",
        "written": True,
        "rows": 2,
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "failed": 1,
    }
    dumped = json.dumps(record.details, ensure_ascii=False)
    assert "王小明" not in dumped and ID1 not in dumped


# -- the size limit ------------------------------------------------------------------------------------------


def test_a_file_over_the_limit_is_refused_with_413_and_nothing_is_kept(
    db: Database, tmp_path: Path, tiny_city: TinyCity
) -> None:
    settings = Settings(
        mode="test", secret_key=random_secret(), serve_frontend=False, data_dir=tmp_path / "var", import_max_bytes=4096
    )
    for client in make_client(settings, db):
        headers = auth_headers(client, "operator")
        big = csv_bytes([HEADER] + [GOOD_ROWS[0]] * 200)
        assert len(big) > 4096
        error = assert_error(start_import(client, headers, big), 413, "payload_too_large")
        assert "4,096 bytes" in error["message"]
        error = assert_error(start_import(client, headers, big, multipart=True), 413, "payload_too_large")
        assert _uploads_left(settings) == []


def test_the_upload_stops_reading_as_soon_as_the_limit_is_passed(tmp_path: Path) -> None:
    pulled = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal pulled
        while True:  # a body that never ends: a 2 GB upload, lazily
            pulled += 1
            yield b"x" * 1024

    with pytest.raises(PayloadTooLarge):
        run_isolated(receive_upload(endless(), {"content-type": "text/csv"}, tmp_path, 10 * 1024))
    assert pulled == 11  # ten chunks fit, the eleventh passes the limit: nothing more is read
    assert list(tmp_path.iterdir()) == []

    pulled = 0
    declared = {"content-type": "text/csv", "content-length": str(2 * 1024**3)}
    with pytest.raises(PayloadTooLarge):
        run_isolated(receive_upload(endless(), declared, tmp_path, 10 * 1024))
    assert pulled == 0  # the declared length alone is enough to refuse

    async def multipart() -> AsyncIterator[bytes]:
        nonlocal pulled
        pulled += 1
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        while True:
            pulled += 1
            yield b"y" * 1024

    pulled = 0
    with pytest.raises(PayloadTooLarge):
        run_isolated(
            receive_upload(multipart(), {"content-type": "multipart/form-data; boundary=b"}, tmp_path, 10 * 1024)
        )
    assert pulled <= 12
    assert list(tmp_path.iterdir()) == []


def test_upload_keeps_the_file_name_and_bytes(tmp_path: Path) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n'
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="\xe4\xba\xba\xe5\x8f\xa3.csv"\r\n'
        yield b"Content-Type: text/csv\r\n\r\na,b\r\n1,2\r\n--b--\r\n"

    upload = run_isolated(receive_upload(body(), {"content-type": "multipart/form-data; boundary=b"}, tmp_path, 1000))
    assert upload.filename == "人口.csv" and upload.path.read_bytes() == b"a,b\r\n1,2"
    assert upload.size == 8


# -- the command line ----------------------------------------------------------------------------------------


def test_cli_imports_with_a_progress_bar_and_exits_non_zero_when_all_or_nothing_fails(
    db: Database, tmp_path: Path, tiny_registry: TinyRegistry, keyring: Keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from civicgrid.config import get_settings
    from civicgrid.core.crypto import use_keyring
    from civicgrid.registry.import_cli import registry_cli

    monkeypatch.setenv("CIVICGRID_DATABASE_URL", db.url)
    monkeypatch.setenv("CIVICGRID_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    source = tmp_path / "人口.csv"
    source.write_bytes(
        csv_bytes([["类型", "姓名", "性别", "生日", "证号", "网格"], *[[*r[:5], r[6]] for r in GOOD_ROWS]])
    )
    maps = ["--map", "类型=person_type", "--map", "姓名=name", "--map", "性别=sex", "--map", "生日=birth_date"]
    maps += ["--map", "证号=id_number", "--map", "网格=grid_code"]
    runner = CliRunner()
    before = _people(db)
    try:
        with use_keyring(keyring):
            bad = tmp_path / "bad.csv"
            bad.write_bytes(csv_bytes([HEADER, GOOD_ROWS[0], BAD_ROWS[1]]))
            errors = tmp_path / "errors.csv"
            failed = runner.invoke(
                registry_cli, ["import", "people", str(bad), "--mode", "all_or_nothing", "--errors", str(errors)]
            )
            assert failed.exit_code == 1, failed.output
            assert "nothing was written" in failed.output
            assert {line["row"] for line in csv.DictReader(io.StringIO(errors.read_text("utf-8-sig")))} == {"3"}
            assert _people(db) == before

            missing = runner.invoke(registry_cli, ["import", "people", str(source)])
            assert missing.exit_code == 2 and "missing required columns" in missing.output

            done = runner.invoke(registry_cli, ["import", "people", str(source), *maps, "--user", "community.a"])
            assert done.exit_code == 0, done.output
            assert "3 created" in done.output
            assert source.exists()  # the command never deletes the user's file
            assert _people(db) == before + 3
    finally:
        get_settings.cache_clear()
    with db.unit_of_work(write=False) as s:
        records = list(s.scalars(select(AuditRecord).where(AuditRecord.action == "registry.import_people")))
    assert [r.actor_name for r in records] == ["cli", "community.a"]


def test_the_fields_a_column_can_map_to(client: TestClient, tiny_city: TinyCity) -> None:
    fields = client.get(
        f"{API}/registry/import-fields", params={"entity": "houses"}, headers=auth_headers(client, "operator")
    )
    by_name = {f["name"]: f for f in fields.json()}
    assert by_name["grid_code"]["required"] and not by_name["room"]["required"]
    assert by_name["owner_id_number"]["masked_in_reports"] and "房主身份证号" in by_name["owner_id_number"]["aliases"]
    assert_error(client.get(f"{API}/registry/import-fields", headers=auth_headers(client, "worker.a1")), 403)
