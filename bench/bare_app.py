"""The floor: a bare FastAPI route with no database, auth or middleware."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/bare")
def bare() -> dict[str, list[dict[str, object]]]:
    return {"items": [{"code": f"34030300{i:04d}", "name": "社区", "households": i} for i in range(50)]}
