"""A small registry for the end-to-end tests, created through the public API as the demo users would.

The demo city at scale 0.01 has no registry yet (the population generator lands later); the registry UI
tests create what they need here: houses with points in the grid worker's grid and a few other grids,
residents with valid ID numbers, and special-care records whose last visit lies far enough back that
some are overdue. Everything goes through the HTTP API (no database access), so it also works against a
running demo server: `uv run python -m tests.e2e.registry_seed http://127.0.0.1:8000`.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from civicgrid.core.idnumber import Sex, make_id_number

PASSWORD = "Bengbu-2026!"  # the published demo password
ROADS = ["胜利路", "淮河路", "解放路", "中山街", "南山路", "纬四路"]
USES = ["self", "rented", "self", "vacant", "business", "rented"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂"


class Api:
    """A signed-in demo user."""

    def __init__(self, base_url: str, username: str) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=30)
        login = self.client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        login.raise_for_status()
        self.client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        self.me: dict[str, Any] = login.json()["user"]

    def get(self, path: str, **params: Any) -> Any:
        answer = self.client.get(path, params=params)
        answer.raise_for_status()
        return answer.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        answer = self.client.post(path, json=body)
        if answer.status_code >= 400:
            raise AssertionError(f"POST {path} → {answer.status_code}: {answer.text}")
        return answer.json()

    def close(self) -> None:
        self.client.close()


@dataclass
class Seeded:
    grid_code: str
    houses: list[dict[str, Any]] = field(default_factory=list)
    people: list[dict[str, Any]] = field(default_factory=list)
    #: the unmasked values of each created person, by id (what the reveal dialog must show)
    plain: dict[int, dict[str, str]] = field(default_factory=dict)
    care: list[dict[str, Any]] = field(default_factory=list)


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))


def _point(rng: random.Random, division: dict[str, Any]) -> tuple[float, float]:
    """A point near the centre of the division's box (inside the polygon for the demo's compact grids)."""
    cx, cy = division["centroid_lon"], division["centroid_lat"]
    dx = (division["max_lon"] - division["min_lon"]) * 0.15
    dy = (division["max_lat"] - division["min_lat"]) * 0.15
    return round(cx + rng.uniform(-dx, dx), 6), round(cy + rng.uniform(-dy, dy), 6)


def _houses(api: Api, rng: random.Random, grid: dict[str, Any], count: int) -> list[dict[str, Any]]:
    made = []
    for i in range(count):
        lon, lat = _point(rng, grid)
        made.append(
            api.post(
                "/api/v1/registry/houses",
                {
                    "grid_code": grid["code"],
                    "street_address": f"{rng.choice(ROADS)}{rng.randint(1, 300)}号",
                    "building": f"{i // 4 + 1}栋",
                    "unit": f"{i % 2 + 1}单元",
                    "room": f"{(i % 4 + 1) * 100 + rng.randint(1, 4)}",
                    "use": USES[i % len(USES)],
                    "area_m2": rng.choice([45, 60, 75.5, 90, 120]),
                    "lon": lon,
                    "lat": lat,
                },
            )
        )
    return made


def _person(api: Api, rng: random.Random, house: dict[str, Any], seq: int, seeded: Seeded) -> dict[str, Any]:
    sex = Sex.male if seq % 2 else Sex.female
    birth = date(rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28))
    sequence = rng.randrange(0, 998, 2) + (1 if sex == Sex.male else 0)
    id_number = make_id_number("340303", birth, sequence, sex)
    phone = f"139{rng.randint(10_000_000, 99_999_999)}"
    name = _name(rng)
    person = api.post(
        "/api/v1/registry/people",
        {
            "person_type": "floating" if seq % 3 == 0 else "registered",
            "name": name,
            "sex": sex.value,
            "birth_date": birth.isoformat(),
            "id_number": id_number,
            "phone": phone,
            "house_id": house["id"],
            "ethnicity": "01",
            "occupation": rng.choice(["教师", "工人", "个体经营", "退休", "学生"]),
        },
    )
    seeded.people.append(person)
    seeded.plain[person["id"]] = {"name": name, "id_number": id_number, "phone": phone, "birth_date": str(birth)}
    return person


def _care(api: Api, person: dict[str, Any], group: str, last_visit_days_ago: int, interval: int) -> dict[str, Any]:
    details: dict[str, Any] = {
        "mental_disorder": {"guardian_name": "监护人", "diagnosis": "精神分裂症", "treatment_status": "规律服药"},
        "released_prisoner": {"original_offence": "盗窃", "settlement_status": "已安置"},
        "community_correction": {"correction_category": "缓刑", "offence": "交通肇事"},
        "drug_user": {"control_status": "社区戒毒"},
        "hiv_aids": {"case_category": "感染者"},
        "key_youth": {"person_category": "闲散青少年", "family_situation": "单亲"},
    }[group]
    care = api.post(
        "/api/v1/registry/care",
        {
            "person_id": person["id"],
            "care_group": group,
            "attention_level": "high" if last_visit_days_ago > interval else "medium",
            "visit_interval_days": interval,
            "details": details,
            **({"risk_level": 2} if group == "mental_disorder" else {}),
        },
    )
    visited = date.today() - timedelta(days=last_visit_days_ago)
    api.post(
        f"/api/v1/registry/care/{care['id']}/visits",
        {"visited_on": visited.isoformat(), "form": "home", "findings": "情况稳定，按时随访。"},
    )
    return care


GROUPS = ["mental_disorder", "released_prisoner", "community_correction", "drug_user", "key_youth", "hiv_aids"]


def seed(base_url: str, *, seed_value: int = 7, other_grids: int = 6) -> Seeded:
    """Houses and people in the grid worker's grid and in `other_grids` more; special-care records."""
    rng = random.Random(seed_value)
    worker = Api(base_url, "gridworker")
    operator = Api(base_url, "operator")
    try:
        grid_code = worker.me["scope"]["division_code"]
        seeded = Seeded(grid_code=grid_code)
        grid = worker.get(f"/api/v1/geo/divisions/{grid_code}")
        houses = _houses(worker, rng, grid, 12)
        seeded.houses += houses
        for i, house in enumerate(houses[:6]):
            _person(worker, rng, house, i, seeded)
        # A few more grids of the same district, registered by the city centre.
        others = operator.get("/api/v1/geo/divisions", level="grid", q=grid_code[:9], page_size=40)["items"]
        others = [g for g in others if g["code"] != grid_code][:: max(1, len(others) // other_grids)][:other_grids]
        care_targets = list(seeded.people[:2])
        for j, other in enumerate(others):
            detail = operator.get(f"/api/v1/geo/divisions/{other['code']}")
            extra = _houses(operator, rng, detail, 3)
            seeded.houses += extra
            care_targets.append(_person(operator, rng, extra[0], 100 + j, seeded))
        for k, person in enumerate(care_targets):
            # Alternate overdue (last visit long ago) and up to date; later grids more overdue.
            overdue = k % 3 != 2
            days_ago = 30 + 9 * k if overdue else 5
            seeded.care.append(_care(operator, person, GROUPS[k % len(GROUPS)], days_ago, 30))
        return seeded
    finally:
        worker.close()
        operator.close()


if __name__ == "__main__":
    result = seed(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
    print(f"{len(result.houses)} houses, {len(result.people)} people, {len(result.care)} special-care records")
