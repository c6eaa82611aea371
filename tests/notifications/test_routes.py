"""Notification routes: your own list (paginated), the unread count, marking read; others' ids ignored."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.support.api import assert_error, auth_headers
from tests.support.city import TinyCity

from civicgrid.core.db import Database
from civicgrid.notifications import service

API = "/api/v1/notifications"


def _send(db: Database, user_id: int, title: str, object_id: int | None = None) -> int:
    with db.unit_of_work() as session:
        (row,) = service.notify(session, [user_id], "assignment", title, None, "case" if object_id else None, object_id)
        return row.id


def test_a_user_lists_counts_and_marks_only_their_own(client: TestClient, db: Database, tiny_city: TinyCity) -> None:
    a1, b1 = tiny_city.users["worker.a1"], tiny_city.users["worker.b1"]
    first = _send(db, a1, "案件已指派：CG-1", 1)
    second = _send(db, a1, "系统通知")
    third = _send(db, a1, "案件已退回：CG-1", 1)
    foreign = _send(db, b1, "案件已指派：CG-9", 9)
    headers = auth_headers(client, "worker.a1")

    page = client.get(API, headers=headers, params={"page_size": 2}).json()
    assert page["total"] == 3 and page["page"] == 1 and page["page_size"] == 2
    assert [n["id"] for n in page["items"]] == [third, second]  # newest first
    assert page["items"][0] == {
        "id": third,
        "kind": "assignment",
        "title": "案件已退回：CG-1",
        "body": None,
        "object_type": "case",
        "object_id": "1",
        "created_at": page["items"][0]["created_at"],
        "read_at": None,
    }
    assert client.get(f"{API}/unread-count", headers=headers).json() == {"unread": 3}

    # Ids that are not yours are ignored (neither an error nor a hint that they exist).
    marked = client.post(f"{API}/read", headers=headers, json={"ids": [first, foreign, 987654]})
    assert marked.status_code == 200, marked.text
    assert marked.json() == {"marked": 1, "unread": 2}
    unread = client.get(API, headers=headers, params={"unread_only": True, "sort": "id"}).json()
    assert [n["id"] for n in unread["items"]] == [second, third]
    read = client.get(API, headers=headers, params={"sort": "id"}).json()["items"][0]
    assert read["id"] == first and read["read_at"] is not None

    assert client.post(f"{API}/read-all", headers=headers).json() == {"marked": 2, "unread": 0}
    assert client.post(f"{API}/read-all", headers=headers).json() == {"marked": 0, "unread": 0}

    other = auth_headers(client, "worker.b1")
    assert client.get(f"{API}/unread-count", headers=other).json() == {"unread": 1}
    assert [n["id"] for n in client.get(API, headers=other).json()["items"]] == [foreign]


def test_bad_requests_are_refused(client: TestClient, tiny_city: TinyCity) -> None:
    headers = auth_headers(client, "worker.a1")
    for body in ({"ids": []}, {"ids": [0]}, {"ids": ["x"]}, {}, {"ids": list(range(1, 502))}):
        error = assert_error(client.post(f"{API}/read", headers=headers, json=body), 422, "invalid_input")
        assert error["details"][0]["field"].startswith("ids")
    error = assert_error(client.get(API, headers=headers, params={"sort": "title"}), 422, "invalid_input")
    assert error["details"]["allowed"] == ["created_at", "id"]
    assert_error(client.get(API), 401)
    assert_error(client.post(f"{API}/read-all"), 401)
