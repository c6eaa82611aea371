"""Routes of the safety module: warnings."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/safety", tags=["safety"])
