"""Routes of the safety module: indexs."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/safety", tags=["safety"])
