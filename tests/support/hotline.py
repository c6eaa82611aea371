"""12345 hotline tests: an export's layout, its saved mapping, tickets, starting and polling imports."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from tests.support.imports import API, wait_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOTLINE = f"{API}/cases/hotline"
# The hotline's own headings, as its export names them.
HEADER = ["工单编号", "受理时间", "诉求类别", "诉求内容", "事发地址", "经度", "纬度", "来电号码", "来电人", "紧急程度"]
COLUMNS = {
    "工单编号": "ticket_no",
    "受理时间": "received_at",
    "诉求类别": "category",
    "诉求内容": "description",
    "事发地址": "address",
    "经度": "lon",
    "纬度": "lat",
    "来电号码": "caller_phone",
    "来电人": "caller_name",
    "紧急程度": "priority",
}
CATEGORIES = {"井盖问题": "0501", "垃圾清运": "0502", "可疑人员": "0201"}
MAPPING = "12345 市平台"


def local_time(hours_ago: float, pattern: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A recent reception time in the hotline's usual spelling (local time, no offset)."""
    return (datetime.now(SHANGHAI) - timedelta(hours=hours_ago)).strftime(pattern)


def ticket(
    number: str,
    point: tuple[float, float] | None,
    category: str = "井盖问题",
    *,
    received: str | None = None,
    phone: str = "13900001111",
    name: str = "张三",
    priority: str = "一般",
) -> list[Any]:
    lon, lat = point if point is not None else ("", "")
    when = received or local_time(2)
    return [number, when, category, f"{category}：来电反映", "天桥路1号", lon, lat, phone, name, priority]


def export(rows: list[list[Any]], header: list[str] = HEADER, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    return buffer.getvalue().encode(encoding)


def save_mapping(client: TestClient, headers: dict[str, str], name: str = MAPPING) -> dict[str, Any]:
    body = {"name": name, "columns": COLUMNS, "categories": CATEGORIES}
    response = client.post(f"{HOTLINE}/mappings", json=body, headers=headers)
    assert response.status_code == 201, response.text
    saved: dict[str, Any] = response.json()
    return saved


def start(client: TestClient, headers: dict[str, str], data: bytes, **params: Any) -> Any:
    query = {"mapping_name": MAPPING, **params}
    return client.post(
        f"{HOTLINE}/imports",
        params={k: v for k, v in query.items() if v is not None},
        headers={**headers, "Content-Type": "application/octet-stream"},
        content=data,
    )


def run(client: TestClient, headers: dict[str, str], data: bytes, **params: Any) -> dict[str, Any]:
    response = start(client, headers, data, **params)
    assert response.status_code == 202, response.text
    job = wait_for(client, response.json()["id"], headers)
    polled = client.get(f"{HOTLINE}/imports/{job['id']}", headers=headers)
    assert polled.status_code == 200 and polled.json()["status"] == job["status"]
    return job


def report_lines(client: TestClient, job: dict[str, Any], headers: dict[str, str]) -> list[dict[str, str]]:
    response = client.get(f"{HOTLINE}/imports/{job['id']}/error-report", headers=headers)
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
