"""Routes of the safety module: feeds."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/safety", tags=["safety"])
