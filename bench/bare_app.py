"""The floor: a bare FastAPI route with no database, auth or middleware."""

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


@app.get("/bare")
def bare() -> dict[str, list[dict[str, object]]]:
    return {"items": [{"code": f"34030300{i:04d}", "name": "社区", "households": i} for i in range(50)]}


class Report(BaseModel):
    category_code: str
    lon: float
    lat: float
    description: str = ""
    force_new: bool = False


@app.post("/bare", status_code=201)
def bare_post(report: Report) -> dict[str, object]:
    return {"id": 1, "code": "SJ2026112900000001", "created": True, "category_code": report.category_code}
