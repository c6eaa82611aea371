"""Routes of the safety module: forecasts."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/safety", tags=["safety"])
